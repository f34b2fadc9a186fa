"""What the registry answers on NATS: server lookups (edge, toolexec) and the auth index (auth)."""

from __future__ import annotations

from nats.aio.subscription import Subscription

from mcpgw.contracts.registry import AuthIndex, AuthIndexRequest, ServerLookup, ServerLookupReply
from mcpgw.contracts.subjects import Subjects
from mcpgw.runtime.bus import Bus
from mcpgw_registry import auth_index
from mcpgw_registry.consumer_repo import ConsumerRepository
from mcpgw_registry.grant_repo import GrantRepository
from mcpgw_registry.server_repo import ServerRepository
from mcpgw_registry.store import Store


async def serve(bus: Bus, store: Store, servers: ServerRepository, consumers: ConsumerRepository,
                grants: GrantRepository) -> list[Subscription]:
    async def lookup(request: ServerLookup) -> ServerLookupReply:
        return ServerLookupReply(server=await servers.snapshot_by(name=request.name, server_id=request.server_id))

    async def index(_: AuthIndexRequest) -> AuthIndex:
        return await auth_index.build(store, consumers, grants)

    return [
        await bus.serve(bus.subjects.registry_server_lookup, ServerLookup, lookup,
                        queue=Subjects.REGISTRY_QUEUE, span_name="registry.server.lookup"),
        await bus.serve(bus.subjects.registry_auth_index, AuthIndexRequest, index,
                        queue=Subjects.REGISTRY_QUEUE, span_name="registry.auth.index"),
    ]
