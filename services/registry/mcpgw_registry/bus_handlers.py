"""What the registry answers on NATS: server lookups (edge, toolexec) and the auth index (auth)."""

from __future__ import annotations

from nats.aio.subscription import Subscription

from mcpgw.contracts.registry import AuthIndex, AuthIndexRequest, ServerLookup, ServerLookupReply
from mcpgw.contracts.subjects import Subjects
from mcpgw.runtime.bus import Bus
from mcpgw_registry.consumer_repo import ConsumerRepository
from mcpgw_registry.server_repo import ServerRepository


async def serve(bus: Bus, servers: ServerRepository, consumers: ConsumerRepository) -> list[Subscription]:
    async def lookup(request: ServerLookup) -> ServerLookupReply:
        return ServerLookupReply(server=await servers.snapshot_by(name=request.name, server_id=request.server_id))

    async def auth_index(_: AuthIndexRequest) -> AuthIndex:
        return await consumers.auth_index()

    return [
        await bus.serve(bus.subjects.registry_server_lookup, ServerLookup, lookup,
                        queue=Subjects.REGISTRY_QUEUE, span_name="registry.server.lookup"),
        await bus.serve(bus.subjects.registry_auth_index, AuthIndexRequest, auth_index,
                        queue=Subjects.REGISTRY_QUEUE, span_name="registry.auth.index"),
    ]
