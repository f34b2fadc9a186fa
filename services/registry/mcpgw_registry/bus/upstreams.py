"""The answer to hosting's `UpstreamLookup`: a hosted server's upstream, with the credential to present.

The consumer's own credential wins when it has one (`per_consumer`: its upstream sessions are
its alone); otherwise the server's, otherwise none. Unknown, not deployed or not hosted: `upstream` is None.
"""

from __future__ import annotations

from mcpgw.contracts.hosting import UpstreamConfig, UpstreamLookup, UpstreamLookupReply
from mcpgw_registry.resources.ids import is_consumer_id
from mcpgw_registry.stores.servers import ServerRepository
from mcpgw_registry.stores.upstream_credentials import ConsumerCredentials


async def upstream_of(request: UpstreamLookup, servers: ServerRepository,
                      credentials: ConsumerCredentials) -> UpstreamLookupReply:
    found = await servers.find_deployed(request.server_id)
    if found is None or found[0].kind != "hosted":
        return UpstreamLookupReply()
    record, revision = found
    snapshot = await servers.snapshot(record, revision)
    if snapshot.hosted is None:  # cannot happen for a hosted record; keeps the types honest
        return UpstreamLookupReply()
    own = None
    if request.consumer_id and is_consumer_id(request.consumer_id):
        own = await credentials.get(record.id, request.consumer_id)
    return UpstreamLookupReply(upstream=UpstreamConfig(
        server_id=record.id, name=record.name, revision=revision, backend=snapshot.hosted,
        credential=own if own is not None else record.upstream_credential, per_consumer=own is not None,
        statistics=record.statistics))
