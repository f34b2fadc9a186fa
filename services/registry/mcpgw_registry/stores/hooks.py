"""What ties servers to the resources they draw on, kept consistent on every write.

- backendConfig (the main one and each gray config's) names services: they must exist, and they
  resolve to the server's targets (`targets`, `gray_targets`) for toolexec or hosting to pick from.
  A service in use cannot be deleted, and a service that changes rewrites its servers, so their
  revision (what snapshots and hosting's upstream configs are cached by) changes with it.
- An assembly names source servers: checked when written; when a source changes or goes, the
  assemblies drawing from it are announced (ConfigChanged) so edges tell their sessions.
- Domains: a server's must exist and be no other server's (`domain_users`); their names are
  resolved into the record (`hosts`, what the edge routes by). A domain in use cannot be deleted.
- Upstream credentials per consumer: removed with their server or consumer; a change rewrites
  the server for the same reason as a service change.
"""

from __future__ import annotations

import logging
import time

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw.runtime.bus import Bus
from mcpgw_registry.bus.events import Events
from mcpgw_registry.resources.assembly import sources
from mcpgw_registry.resources.assembly.tool_names import CHECK_TIMEOUT, ToolNames
from mcpgw_registry.resources.hosted.backend import check_scene, resolve
from mcpgw_registry.resources.servers.model import BackendConfig, ServerRecord
from mcpgw_registry.resources.services import ServiceRecord, UpdateService, split_address
from mcpgw_registry.stores.consumers import ConsumerHooks
from mcpgw_registry.stores.domain_users import DomainUsers
from mcpgw_registry.stores.links import Link, Links
from mcpgw_registry.stores.servers import ServerHooks, ServerRepository
from mcpgw_registry.stores.services import ServiceRepository
from mcpgw_registry.stores.upstream_credentials import ConsumerCredentials

log = logging.getLogger(__name__)

# A rewrite that loses to a concurrent writer reads again; that writer's record is as good.
_REFRESH_TRIES = 3


def _copy(backend: BackendConfig) -> BackendConfig:
    # Resolving fills entries in; the record being replaced may share them (structs.replace is shallow).
    return msgspec.structs.replace(backend, services=[msgspec.structs.replace(s) for s in backend.services])


def _backends(record: ServerRecord) -> list[BackendConfig]:
    found = [record.backend_config] if record.backend_config is not None else []
    return found + [g.backend_config for g in record.gray_configs if g.backend_config is not None]


def links_of(record: ServerRecord) -> set[Link]:
    used: set[Link] = {("service", s.service_id) for b in _backends(record) for s in b.services}
    if record.kind == "assembly":
        used |= {("source", s.mcp_server_id) for s in record.assembled_sources if s.mcp_server_id}
    return used


def _uses_service(record: ServerRecord, service_id: str) -> bool:
    return any(s.service_id == service_id for b in _backends(record) for s in b.services)


class LinkedHooks(ServerHooks, ConsumerHooks):
    def __init__(self, servers: ServerRepository, services: ServiceRepository, credentials: ConsumerCredentials,
                 links: Links, events: Events, bus: Bus, domain_users: DomainUsers) -> None:
        self.servers = servers
        self.domain_users = domain_users
        self.services = services
        self.credentials = credentials
        self._links = links
        self._events = events
        self._bus = bus

    # server writes (called by ServerRepository)

    async def prepare(self, record: ServerRecord, previous: ServerRecord | None) -> None:
        await self.domain_users.resolve(record)
        await self._resolve_backends(record)
        if record.kind != "assembly":
            return
        record.assembled_sources = [msgspec.structs.replace(s) for s in record.assembled_sources]
        await sources.check(record, self.servers, ToolNames(self.servers, self._bus, CHECK_TIMEOUT))
        if previous is not None and previous.kind != "assembly":
            drawing = await self._assemblies_drawing_from(record.id)
            if drawing:
                raise invalid("type", f"assemblies draw from this server ({', '.join(r.name for r, _ in drawing)}), "
                                      "and an assembly cannot be a source; change them first")

    async def _resolve_backends(self, record: ServerRecord, *, strict: bool = True) -> None:
        """The main and gray backends' services checked and resolved into the record's targets."""
        record.targets = []
        if record.backend_config is not None:
            record.backend_config = _copy(record.backend_config)
            if strict:
                check_scene(record.backend_config)
            record.targets = await resolve(record.backend_config, self.services, strict=strict)
        record.gray_targets = []
        if record.gray_configs:
            record.gray_configs = [msgspec.structs.replace(g) for g in record.gray_configs]
        for i, gray in enumerate(record.gray_configs):
            field = f"grayMcpServerConfigs[{i}].backendConfig"
            if gray.backend_config is None:
                if strict:  # validate_record refuses it first; a record stored before keeps its place
                    raise invalid(field, "is required")
                record.gray_targets.append([])
                continue
            gray.backend_config = _copy(gray.backend_config)
            if strict:
                check_scene(gray.backend_config, field)
            record.gray_targets.append(await resolve(gray.backend_config, self.services, strict=strict, field=field))

    async def before_write(self, record: ServerRecord) -> None:
        await self.domain_users.claim(record)
        await self._links.add(record.id, links_of(record))

    async def written(self, record: ServerRecord, previous: ServerRecord | None) -> None:
        if previous is not None:
            await self._links.remove(record.id, links_of(previous) - links_of(record))
            await self.domain_users.release(record.id, [d for d in previous.domain_ids if d not in record.domain_ids])
        await self._announce_assemblies(record.id)

    async def deleted(self, record: ServerRecord) -> None:
        await self._links.remove(record.id, links_of(record))
        await self.domain_users.release(record.id, record.domain_ids)
        await self.credentials.delete_for_server(record.id)
        await self._announce_assemblies(record.id)

    async def _assemblies_drawing_from(self, source_id: str) -> list[tuple[ServerRecord, int]]:
        found = []
        for holder in await self._links.holders("source", source_id):
            loaded = await self.servers.find(holder)
            if loaded is not None and loaded[0].kind == "assembly" and any(
                    s.mcp_server_id == source_id for s in loaded[0].assembled_sources):
                found.append(loaded)
        return found

    async def _announce_assemblies(self, source_id: str) -> None:
        # An assembly's own record (and revision) does not change with its sources; the event tells
        # edges to look it up again and notify its sessions that the tool list changed.
        for record, revision in await self._assemblies_drawing_from(source_id):
            await self._events.server(record.id, "put", record.name, revision)

    # services

    async def service_users(self, service_id: str) -> list[ServerRecord]:
        users = []
        for holder in await self._links.holders("service", service_id):
            loaded = await self.servers.find(holder)
            if loaded is not None and _uses_service(loaded[0], service_id):
                users.append(loaded[0])
        return users

    async def update_service(self, service_id: str, body: UpdateService, now_ms: int) -> tuple[ServiceRecord, int]:
        users = await self.service_users(service_id)

        async def still_reachable(service: ServiceRecord) -> None:
            # A server that picked a port of this service must keep an address on it.
            ports = {split_address(a)[1] for a in service.addresses}
            for server in users:
                for backend in _backends(server):
                    for i, entry in enumerate(backend.services):
                        if entry.service_id == service_id and entry.port and entry.port not in ports:
                            raise invalid("addresses", f"MCP server {server.name!r} uses port {entry.port} of this "
                                                       f"service (backendConfig.services[{i}].port); keep an address "
                                                       "on that port or change the server first")

        record, revision = await self.services.update(service_id, body, now_ms, check=still_reachable)
        for server in users:
            await self.refresh(server.id, now_ms)
        return record, revision

    async def delete_service(self, service_id: str) -> None:
        await self.services.get(service_id)  # 404 first
        users = await self.service_users(service_id)
        if users:
            names = ", ".join(sorted(repr(u.name) for u in users))
            raise invalid("serviceId", f"service {service_id} is used by MCP servers {names} (backendConfig); "
                                       "change or delete them first")
        await self.services.delete(service_id)

    # consumers

    async def consumer_deleted(self, consumer_id: str) -> None:
        for server_id in await self.credentials.delete_for_consumer(consumer_id):
            await self.refresh(server_id)

    # rewriting a server whose inputs changed

    async def refresh(self, server_id: str, now_ms: int | None = None) -> None:
        """Write the server again, its targets resolved anew: a new revision, events to go with it."""
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        for attempt in range(_REFRESH_TRIES):
            found = await self.servers.find(server_id)
            if found is None:
                return
            record, revision = found
            updated = msgspec.structs.replace(record, updated_ms=now_ms)
            try:
                await self._resolve_backends(updated, strict=False)
                draft = self.servers.compile(updated, await self.servers.tools_document(updated), "body")
                await self.servers.replace(draft, revision, record)
                return
            except McpgwError as exc:
                if exc.code is ErrorCode.CONFLICT and attempt + 1 < _REFRESH_TRIES:
                    continue
                # The change that asked for this is committed; the server keeps its revision.
                log.error("could not rewrite MCP server %s after a change it depends on: %s", server_id, exc.message)
                return
