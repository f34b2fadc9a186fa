"""What the registry answers on NATS: server lookups (the edge's view, toolexec's snapshot), the auth
index (auth) and hosted servers' upstreams (hosting)."""

from __future__ import annotations

from nats.aio.subscription import Subscription

from mcpgw.contracts.hosting import UpstreamLookup, UpstreamLookupReply
from mcpgw.contracts.registry import (
    AuthIndex,
    AuthIndexRequest,
    EdgeServerLookup,
    EdgeServerLookupReply,
    ServerLookup,
    ServerLookupReply,
)
from mcpgw.contracts.subjects import Subjects
from mcpgw.runtime.bus import Bus
from mcpgw_registry.bus import auth_index
from mcpgw_registry.bus.upstreams import upstream_of
from mcpgw_registry.resources.servers.snapshots import edge_view
from mcpgw_registry.stores.consumers import ConsumerRepository
from mcpgw_registry.stores.grants import GrantRepository
from mcpgw_registry.stores.kv import Store
from mcpgw_registry.stores.servers import ServerRepository
from mcpgw_registry.stores.upstream_credentials import ConsumerCredentials


async def serve(bus: Bus, store: Store, servers: ServerRepository, consumers: ConsumerRepository,
                grants: GrantRepository, credentials: ConsumerCredentials) -> list[Subscription]:
    async def lookup(request: ServerLookup) -> ServerLookupReply:
        return ServerLookupReply(server=await servers.snapshot_by(name=request.name, server_id=request.server_id))

    async def edge_lookup(request: EdgeServerLookup) -> EdgeServerLookupReply:
        snapshot = await servers.snapshot_by(name=request.name, server_id=request.server_id)
        return EdgeServerLookupReply(server=edge_view(snapshot) if snapshot is not None else None)

    async def index(_: AuthIndexRequest) -> AuthIndex:
        return await auth_index.build(store, consumers, grants)

    async def upstream(request: UpstreamLookup) -> UpstreamLookupReply:
        return await upstream_of(request, servers, credentials)

    return [
        await bus.serve(bus.subjects.registry_server_lookup, ServerLookup, lookup,
                        queue=Subjects.REGISTRY_QUEUE, span_name="registry.server.lookup"),
        await bus.serve(bus.subjects.registry_edge_lookup, EdgeServerLookup, edge_lookup,
                        queue=Subjects.REGISTRY_QUEUE, span_name="registry.edge.lookup"),
        await bus.serve(bus.subjects.registry_auth_index, AuthIndexRequest, index,
                        queue=Subjects.REGISTRY_QUEUE, span_name="registry.auth.index"),
        await bus.serve(bus.subjects.registry_upstream_lookup, UpstreamLookup, upstream,
                        queue=Subjects.REGISTRY_QUEUE, span_name="registry.upstream.lookup"),
    ]
