"""Server-to-client event streams: SSE framing and the pump from a session's queue to the client."""

from __future__ import annotations

import asyncio
import contextlib

from mcpgw_edge.http import ClientGone, EventSink
from mcpgw_edge.mcp.streams import PING, Stream

KEEPALIVE = b": ping\n\n"  # an SSE comment: clients ignore it, proxies see traffic


def sse_event(payload: bytes, event: str = "message") -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


async def pump(sink: EventSink, stream: Stream, write_timeout: float) -> None:
    """Write the stream's messages as SSE events until it closes or the client goes away.

    No timer while idle: the hub's keep-alive ticker writes a comment straight to streams that
    were quiet for a while (through `ping_now`), or queues a PING when the client is slow.
    """
    stream.ping_now = lambda: sink.offer(KEEPALIVE)
    try:
        with contextlib.suppress(ClientGone, ConnectionError, TimeoutError):
            while True:
                item = await stream.queue.get()
                if item is None:
                    break
                # A client that stops reading would block the write forever: bound it.
                async with asyncio.timeout(write_timeout):
                    await sink.send(KEEPALIVE if item is PING else sse_event(item))
    finally:
        stream.ping_now = None
