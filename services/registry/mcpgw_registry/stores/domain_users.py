"""Which server uses a domain: one claim per domain, `domain-users.<domain id>` -> the server's id.

Two servers cannot share a domain (reference §5.1: within one gateway one domain serves one MCP
server), so the use is a claim (`claims`), exclusive even when registry replicas write at once,
rather than a link. A server's write checks its domains and resolves their names into the record
(`hosts`, what the edge routes by) in `prepare`, claims them before its record is written and
releases those it dropped after. Deleting a domain holds the claim itself while it deletes, so no
server takes the domain in between.
"""

from __future__ import annotations

from mcpgw.contracts.errors import invalid
from mcpgw_registry.resources.domains import DomainRecord
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.stores import claims, keys
from mcpgw_registry.stores.domains import DomainRepository
from mcpgw_registry.stores.kv import Store
from mcpgw_registry.stores.servers import ServerRepository


class DomainUsers:
    def __init__(self, store: Store, domains: DomainRepository, servers: ServerRepository) -> None:
        self._store = store
        self.domains = domains
        self._servers = servers

    async def user(self, domain_id: str) -> ServerRecord | None:
        """The server using the domain now (a claim left by a failed write names no one)."""
        entry = await self._store.get(keys.domain_user(domain_id))
        owner = claims.owner_of(entry.value) if entry is not None else None
        return await self._using(owner, domain_id) if owner else None

    async def _using(self, server_id: str, domain_id: str) -> ServerRecord | None:
        found = await self._servers.find(server_id)
        return found[0] if found is not None and domain_id in found[0].domain_ids else None

    async def _domain(self, domain_id: str, field: str) -> DomainRecord:
        found = await self.domains.find(domain_id)
        if found is None:
            raise invalid(field, f"no domain {domain_id!r} (create it with POST /v1/domains)")
        return found[0]

    async def resolve(self, record: ServerRecord) -> None:
        """Every domain exists and no other server uses it; their names become `record.hosts`."""
        hosts = []
        for i, domain_id in enumerate(record.domain_ids):
            field = f"domainIds[{i}]"
            domain = await self._domain(domain_id, field)
            other = await self.user(domain_id)
            if other is not None and other.id != record.id:
                raise invalid(field, f"domain {domain.name!r} ({domain_id}) is used by MCP server {other.name!r}; "
                                     "two servers cannot share a domain")
            hosts.append(domain.name)
        record.hosts = hosts

    async def claim(self, record: ServerRecord) -> None:
        """Before the record is written: its domains become its own, or a 400 naming the field."""
        for i, domain_id in enumerate(record.domain_ids):
            field = f"domainIds[{i}]"

            async def still_owned(owner: str, domain_id: str = domain_id) -> bool:
                # Asked only of a claim older than a minute: a deletion's own claim by then is a
                # crashed one (deleting takes milliseconds), so only a server can still own it.
                return await self._using(owner, domain_id) is not None

            await claims.claim(self._store, keys.domain_user(domain_id), record.id, still_owned=still_owned,
                               conflict=invalid(field, f"domain {domain_id} was just taken by another MCP server "
                                                       "or is being deleted; read it again"))
            # A domain deleted since `resolve` (its delete held the claim until it was done).
            await self._domain(domain_id, field)

    async def release(self, server_id: str, domain_ids: list[str]) -> None:
        for domain_id in domain_ids:
            await claims.release(self._store, keys.domain_user(domain_id), server_id)

    async def delete_domain(self, domain_id: str) -> None:
        record, revision = await self.domains.get(domain_id)
        user = await self.user(domain_id)
        if user is not None:
            raise invalid("domainId", f"domain {record.name!r} is used by MCP server {user.name!r} (domainIds); "
                                      "change or delete that server first")

        async def still_owned(owner: str) -> bool:
            return await self._using(owner, domain_id) is not None

        await claims.claim(self._store, keys.domain_user(domain_id), domain_id, still_owned=still_owned,
                           conflict=invalid("domainId", f"domain {record.name!r} was just taken by an MCP server; "
                                                        "read it again"))
        try:
            await self.domains.delete(record, revision)
        finally:
            await claims.release(self._store, keys.domain_user(domain_id), domain_id)
