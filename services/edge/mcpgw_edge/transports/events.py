"""Server-to-client event streams: SSE framing and the pump from a session's queue to the client."""

from __future__ import annotations

import asyncio
import contextlib

from mcpgw_edge.http import ClientGone, EventSink
from mcpgw_edge.mcp.streams import PING, Stream


def sse_event(payload: bytes, event: str = "message") -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


async def pump(sink: EventSink, stream: Stream, write_timeout: float) -> None:
    """Write the stream's messages as SSE events until it closes or the client goes away.

    No timer while idle: the hub's keep-alive ticker queues a PING on streams that were quiet for
    a while (an SSE comment keeps proxies from idling the stream out and detects a gone client).
    """
    with contextlib.suppress(ClientGone, ConnectionError, TimeoutError):
        while True:
            item = await stream.queue.get()
            if item is None:
                break
            # A client that stops reading would block the write forever: bound it.
            async with asyncio.timeout(write_timeout):
                await sink.send(b": ping\n\n" if item is PING else sse_event(item))
