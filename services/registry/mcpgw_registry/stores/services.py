"""Service operations against the store (`services.<id>`, names unique via `service-names.<name>`).

This module knows services only; what uses them (servers' backendConfig) is `stores.hooks`, which
refuses to delete a service in use and rewrites the servers of a service that changed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.bus.events import Events
from mcpgw_registry.resources.ids import SERVICE_PREFIX, is_service_id, new_id
from mcpgw_registry.resources.services import (
    CreateServices,
    ServiceRecord,
    UpdateService,
    apply_update,
    check_config,
    check_source_type,
)
from mcpgw_registry.stores import claims, keys
from mcpgw_registry.stores.kv import Store, StoreConflict

log = logging.getLogger(__name__)

MAX_PER_REQUEST = 50

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(ServiceRecord).decode


def not_found(service_id: str, field: str = "serviceId") -> McpgwError:
    return McpgwError(ErrorCode.NOT_FOUND, f"{field}: no service {service_id!r}")


def _changed_concurrently() -> McpgwError:
    return McpgwError(ErrorCode.CONFLICT, "revision: the service was changed by another request; read it and retry")


class ServiceRepository:
    def __init__(self, store: Store, events: Events) -> None:
        self._store = store
        self._events = events

    # reads

    async def find(self, service_id: str) -> tuple[ServiceRecord, int] | None:
        if not is_service_id(service_id):
            return None
        entry = await self._store.get(keys.service(service_id))
        if entry is None:
            return None
        return _decode(entry.value), entry.revision

    async def get(self, service_id: str) -> tuple[ServiceRecord, int]:
        found = await self.find(service_id)
        if found is None:
            raise not_found(service_id)
        return found

    async def all(self) -> list[tuple[ServiceRecord, int]]:
        out = []
        for entry in await self._store.scan(keys.SERVICES):
            try:
                out.append((_decode(entry.value), entry.revision))
            except msgspec.DecodeError as exc:
                log.error("skipping unreadable record %s: %s", entry.key, exc)
        return out

    # writes

    async def create(self, body: CreateServices, now_ms: int) -> list[ServiceRecord]:
        """Every service of the request, or (undoing those written) none."""
        check_source_type(body.source_type)
        if not body.service_configs:
            raise invalid("serviceConfigs", "is required: at least one service")
        if len(body.service_configs) > MAX_PER_REQUEST:
            raise invalid("serviceConfigs", f"takes at most {MAX_PER_REQUEST} services per request")
        names: dict[str, int] = {}
        for i, config in enumerate(body.service_configs):
            check_config(config, body.source_type, f"serviceConfigs[{i}]")
            if config.name in names:
                raise invalid(f"serviceConfigs[{i}].name", f"repeats serviceConfigs[{names[config.name]}]")
            names[config.name] = i
        records = [ServiceRecord(id=new_id(SERVICE_PREFIX), name=c.name, source_type=body.source_type,
                                 addresses=c.addresses, protocol=c.protocol, ca_bundle=c.ca_bundle,
                                 gateway_id=body.gateway_id, resource_group_id=body.resource_group_id,
                                 created_ms=now_ms, updated_ms=now_ms) for c in body.service_configs]
        written: list[tuple[ServiceRecord, int]] = []
        claimed: list[ServiceRecord] = []
        try:
            for i, record in enumerate(records):
                await self._claim(record, f"serviceConfigs[{i}].name")
                claimed.append(record)
                written.append((record, await self._store.create(keys.service(record.id), _encode(record))))
        except BaseException:
            for record, _ in written:
                await self._forget(record)
            for record in claimed:
                await claims.release(self._store, keys.service_name(record.name), record.id)
            raise
        for record, revision in written:
            await self._events.service(record.id, "put", record.name, revision)
        return records

    async def _claim(self, record: ServiceRecord, field: str) -> None:
        async def still_owned(owner: str) -> bool:
            found = await self.find(owner)
            return found is not None and found[0].name == record.name

        await claims.claim(self._store, keys.service_name(record.name), record.id, still_owned=still_owned,
                           conflict=McpgwError(ErrorCode.CONFLICT,
                                               f"{field}: a service named {record.name!r} already exists"))

    async def _forget(self, record: ServiceRecord) -> None:
        try:
            await self._store.delete(keys.service(record.id))
        except Exception as exc:  # keep the original error
            log.warning("could not remove service %s after a failed request: %s", record.id, exc)

    async def update(self, service_id: str, body: UpdateService, now_ms: int, *,
                     check: Callable[[ServiceRecord], Awaitable[None]] | None = None) -> tuple[ServiceRecord, int]:
        """`check` sees the updated record before it is written (what uses it may refuse it)."""
        record, revision = await self.get(service_id)
        updated = apply_update(record, body, now_ms)
        if check is not None:
            await check(updated)
        try:
            new_revision = await self._store.update(keys.service(service_id), _encode(updated), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        await self._events.service(service_id, "put", updated.name, new_revision)
        return updated, new_revision

    async def delete(self, service_id: str) -> ServiceRecord:
        record, revision = await self.get(service_id)
        try:
            await self._store.delete(keys.service(service_id), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        await claims.release(self._store, keys.service_name(record.name), service_id)
        await self._events.service(service_id, "delete", record.name, revision)
        return record
