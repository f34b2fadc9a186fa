"""What a request handler needs from the edge, built once per app by the cleanup contexts."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from mcpgw.runtime.bus import Bus
from mcpgw_edge.authn import AuthGate
from mcpgw_edge.mcp.dispatch import Dispatcher
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
