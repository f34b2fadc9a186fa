"""Server operations against the store: every check first, then the writes, undone on failure."""

from __future__ import annotations

import logging

import msgspec
from msgspec import UNSET

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw.contracts.registry import ServerSnapshot
from mcpgw_registry import claims
from mcpgw_registry.events import Events
from mcpgw_registry.ids import SERVER_PREFIX, is_server_id, new_id
from mcpgw_registry.servers import (
    MAX_NAME,
    NAME_RE,
    CreateServer,
    ServerRecord,
    ToolsFormat,
    UpdateServer,
    apply_update,
    check_name,
    record_from_create,
    spec_of,
    validate_record,
)
from mcpgw_registry.snapshots import SnapshotCache
from mcpgw_registry.store import Store, StoreConflict
from mcpgw_registry.tools import parse_tools

log = logging.getLogger(__name__)

SPEC_FIELD = "mcpServerConfig.mcpServerSpec"

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(ServerRecord).decode


def _record_key(server_id: str) -> str:
    return f"servers.{server_id}"


def _name_key(name: str) -> str:
    return f"server-names.{name}"


def _not_found(server_id: str) -> McpgwError:
    return McpgwError(ErrorCode.NOT_FOUND, f"mcpServerId: no MCP server {server_id!r}")


def _changed_concurrently() -> McpgwError:
    return McpgwError(ErrorCode.CONFLICT, "revision: the server was changed by another request; read it and retry")


class ServerRepository:
    def __init__(self, store: Store, events: Events, snapshots: SnapshotCache) -> None:
        self._store = store
        self._events = events
        self._snapshots = snapshots

    # reads

    async def get(self, server_id: str) -> tuple[ServerRecord, int]:
        found = await self._load(server_id)
        if found is None:
            raise _not_found(server_id)
        return found

    async def _load(self, server_id: str) -> tuple[ServerRecord, int] | None:
        if not is_server_id(server_id):
            return None
        entry = await self._store.get(_record_key(server_id))
        if entry is None:
            return None
        return _decode(entry.value), entry.revision

    async def find_by_name(self, name: str) -> tuple[ServerRecord, int] | None:
        if len(name) > MAX_NAME or not NAME_RE.match(name):
            return None
        entry = await self._store.get(_name_key(name))
        owner = claims.owner_of(entry.value) if entry is not None else None
        if owner is None:
            return None
        found = await self._load(owner)
        if found is None or found[0].name != name:
            return None
        return found

    async def all(self) -> list[tuple[ServerRecord, int]]:
        out = []
        for entry in await self._store.scan("servers"):
            try:
                out.append((_decode(entry.value), entry.revision))
            except msgspec.DecodeError as exc:
                log.error("skipping unreadable record %s: %s", entry.key, exc)
        return out

    def snapshot(self, record: ServerRecord, revision: int) -> ServerSnapshot:
        return self._snapshots.get(record, revision)

    async def snapshot_by(self, *, name: str | None, server_id: str | None) -> ServerSnapshot | None:
        if server_id is not None:
            found = await self._load(server_id)
        elif name is not None:
            found = await self.find_by_name(name)
        else:
            raise invalid("name", "name or server_id is required")
        return None if found is None else self.snapshot(*found)

    # writes

    async def create(self, body: CreateServer, now_ms: int) -> tuple[ServerRecord, int]:
        check_name(body.name)
        server_id = new_id(SERVER_PREFIX)
        record = record_from_create(body, server_id, now_ms)
        validate_record(record)
        text = spec_of(body.mcp_server_config) if body.mcp_server_config is not None else None
        if text:
            parse_tools(text, "yaml", root=SPEC_FIELD)
            record.tools_text = text
        value = _encode(record)
        self._store.check_size(value)

        async def still_owned(owner: str) -> bool:
            found = await self._load(owner)
            return found is not None and found[0].name == body.name

        await claims.claim(self._store, _name_key(body.name), server_id, still_owned=still_owned,
                           conflict=McpgwError(ErrorCode.CONFLICT,
                                               f"name: an MCP server named {body.name!r} already exists"))
        try:
            revision = await self._store.create(_record_key(server_id), value)
        except BaseException:
            await claims.release(self._store, _name_key(body.name), server_id)
            raise
        await self._events.server(server_id, "put", record.name, revision)
        return record, revision

    async def update(self, server_id: str, body: UpdateServer, now_ms: int) -> tuple[ServerRecord, int]:
        record, revision = await self.get(server_id)
        updated = apply_update(record, body, now_ms)
        if body.mcp_server_config is None:
            updated.tools_text = ""
        elif body.mcp_server_config is not UNSET:
            text = spec_of(body.mcp_server_config)
            if text is not None:
                if text:
                    parse_tools(text, "yaml", root=SPEC_FIELD)
                updated.tools_text, updated.tools_format = text, "yaml"
        validate_record(updated)
        return updated, await self._replace(updated, revision)

    async def put_tools(self, server_id: str, text: str, fmt: ToolsFormat,
                        now_ms: int) -> tuple[ServerRecord, int, list[str]]:
        record, revision = await self.get(server_id)
        doc = parse_tools(text, fmt)
        updated = msgspec.structs.replace(record, tools_text=text, tools_format=fmt, updated_ms=now_ms)
        return updated, await self._replace(updated, revision), [tool.name for tool in doc.tools]

    async def _replace(self, record: ServerRecord, revision: int) -> int:
        try:
            new_revision = await self._store.update(_record_key(record.id), _encode(record), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        await self._events.server(record.id, "put", record.name, new_revision)
        return new_revision

    async def delete(self, server_id: str) -> None:
        record, revision = await self.get(server_id)
        try:
            await self._store.delete(_record_key(server_id), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        # If this fails the name stays claimed by a missing record, which `claims` takes over later.
        await claims.release(self._store, _name_key(record.name), server_id)
        await self._events.server(server_id, "delete", record.name, revision)
