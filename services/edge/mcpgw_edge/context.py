"""What a request handler needs from the edge, built once by `running_edge`."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from mcpgw.contracts import SessionEnded
from mcpgw.runtime.bus import Bus
from mcpgw_edge.authn import AuthGate
from mcpgw_edge.mcp.dispatch import Dispatcher
from mcpgw_edge.mcp.resumable import RequestStreams
from mcpgw_edge.mcp.sessions import SessionStore
from mcpgw_edge.mcp.streams import StreamHub
from mcpgw_edge.servers import ServerCache
from mcpgw_edge.settings import EdgeSettings
from mcpgw_edge.transports.origin import OriginPolicy


@dataclass(slots=True)
class Edge:
    settings: EdgeSettings
    bus: Bus
    redis: aioredis.Redis
    sessions: SessionStore
    servers: ServerCache
    auth: AuthGate
    hub: StreamHub
    dispatcher: Dispatcher
    policy: OriginPolicy
    streams: RequestStreams

    async def end_session(self, session_id: str) -> None:
        """End a session everywhere: in Redis, its stream here, and (by event) on every other edge."""
        await self.sessions.delete(session_id)
        self.hub.close(session_id)
        await self.bus.publish(self.bus.subjects.event_session(session_id), SessionEnded(session_id=session_id))
