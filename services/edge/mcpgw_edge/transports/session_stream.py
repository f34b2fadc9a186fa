"""Messages for a session's stream from elsewhere: `edge.sse.<session>` on NATS, into the local stream.

The legacy transport's answers come this way when its POST landed on another replica, and so do
a hosted server's messages sent outside any request (list_changed, resources/updated, logging).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mcpgw.contracts import SseDeliver
from mcpgw_edge.context import Edge
from mcpgw_edge.mcp.streams import Stream


@contextlib.asynccontextmanager
async def forwarded_to(edge: Edge, stream: Stream, enabled: bool = True) -> AsyncIterator[None]:
    if not enabled:
        yield
        return

    async def relay(message: SseDeliver) -> None:
        stream.send(bytes(message.payload))

    subscription = await edge.bus.subscribe(edge.bus.subjects.edge_sse(stream.session_id), SseDeliver, relay)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
