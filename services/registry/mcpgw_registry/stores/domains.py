"""Domain operations against the store (`domains.<id>`, names unique via `domain-names.<name>`).

This module knows domains only; which server uses a domain is `stores.domain_users`, which also
refuses to delete a domain in use.
"""

from __future__ import annotations

import logging

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw_registry.resources.domains import CreateDomain, DomainRecord, UpdateDomain, apply_update, record_from_create
from mcpgw_registry.resources.ids import DOMAIN_PREFIX, is_domain_id, new_id
from mcpgw_registry.stores import claims, keys
from mcpgw_registry.stores.kv import Store, StoreConflict

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(DomainRecord).decode


def not_found(domain_id: str, field: str = "domainId") -> McpgwError:
    return McpgwError(ErrorCode.NOT_FOUND, f"{field}: no domain {domain_id!r}")


def _changed_concurrently() -> McpgwError:
    return McpgwError(ErrorCode.CONFLICT, "revision: the domain was changed by another request; read it and retry")


class DomainRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # reads

    async def find(self, domain_id: str) -> tuple[DomainRecord, int] | None:
        if not is_domain_id(domain_id):
            return None
        entry = await self._store.get(keys.domain(domain_id))
        if entry is None:
            return None
        return _decode(entry.value), entry.revision

    async def get(self, domain_id: str) -> tuple[DomainRecord, int]:
        found = await self.find(domain_id)
        if found is None:
            raise not_found(domain_id)
        return found

    async def all(self) -> list[tuple[DomainRecord, int]]:
        out = []
        for entry in await self._store.scan(keys.DOMAINS):
            try:
                out.append((_decode(entry.value), entry.revision))
            except msgspec.DecodeError as exc:
                log.error("skipping unreadable record %s: %s", entry.key, exc)
        return out

    # writes

    async def create(self, body: CreateDomain, now_ms: int) -> DomainRecord:
        record = record_from_create(body, new_id(DOMAIN_PREFIX), now_ms)

        async def still_owned(owner: str) -> bool:
            found = await self.find(owner)
            return found is not None and found[0].name == record.name

        await claims.claim(self._store, keys.domain_name(record.name), record.id, still_owned=still_owned,
                           conflict=McpgwError(ErrorCode.CONFLICT,
                                               f"name: a domain named {record.name!r} already exists"))
        try:
            await self._store.create(keys.domain(record.id), _encode(record))
        except BaseException:
            await claims.release(self._store, keys.domain_name(record.name), record.id)
            raise
        return record

    async def update(self, domain_id: str, body: UpdateDomain, now_ms: int) -> tuple[DomainRecord, int]:
        record, revision = await self.get(domain_id)
        updated = apply_update(record, body, now_ms)
        try:
            new_revision = await self._store.update(keys.domain(domain_id), _encode(updated), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        return updated, new_revision

    async def delete(self, record: DomainRecord, revision: int) -> None:
        try:
            await self._store.delete(keys.domain(record.id), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        await claims.release(self._store, keys.domain_name(record.name), record.id)
