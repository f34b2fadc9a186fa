"""Server operations against the store: every check first, then the writes, undone on failure."""

from __future__ import annotations

import logging

import msgspec
from msgspec import UNSET

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw.contracts.registry import ServerLookupReply, ServerSnapshot
from mcpgw.contracts.tools import ToolsDocument
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
from mcpgw_registry.snapshots import SnapshotCache, build_snapshot
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
        try:
            return self._snapshots.get(record, revision)
        except McpgwError as exc:
            # Validated when written, so only a stricter newer registry can get here.
            log.error("server %s revision %d no longer compiles: %s", record.id, revision, exc.message)
            raise McpgwError(ErrorCode.INTERNAL, f"the stored tools of MCP server {record.name!r} "
                                                 "do not compile; save them again") from None

    def _compile(self, record: ServerRecord, doc: ToolsDocument | None, field: str) -> ServerSnapshot:
        """Compile before writing: the data plane receives the snapshot in one NATS message."""
        snapshot = build_snapshot(record, 0, doc)
        size = len(_encode(ServerLookupReply(server=snapshot)))
        limit = self._store.max_value_bytes
        if size > limit:
            raise McpgwError(ErrorCode.PAYLOAD_TOO_LARGE,
                             f"{field}: the compiled tools take {size} bytes; one server's tools may take at "
                             f"most {limit} (the NATS message size limit)")
        return snapshot

    def _remember(self, snapshot: ServerSnapshot, revision: int) -> None:
        self._snapshots.put(msgspec.structs.replace(snapshot, revision=revision))

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
        doc = None
        if text:
            doc = parse_tools(text, "yaml", root=SPEC_FIELD)
            record.tools_text = text
        snapshot = self._compile(record, doc, SPEC_FIELD)
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
        self._remember(snapshot, revision)
        await self._events.server(server_id, "put", record.name, revision)
        return record, revision

    async def update(self, server_id: str, body: UpdateServer, now_ms: int) -> tuple[ServerRecord, int]:
        record, revision = await self.get(server_id)
        updated = apply_update(record, body, now_ms)
        doc = None
        if body.mcp_server_config is None:
            updated.tools_text = ""
        elif body.mcp_server_config is not UNSET:
            text = spec_of(body.mcp_server_config)
            if text is not None:
                if text:
                    doc = parse_tools(text, "yaml", root=SPEC_FIELD)
                updated.tools_text, updated.tools_format = text, "yaml"
        validate_record(updated)
        snapshot = self._compile(updated, doc, SPEC_FIELD)
        return updated, await self._replace(updated, revision, snapshot)

    async def put_tools(self, server_id: str, text: str, fmt: ToolsFormat,
                        now_ms: int) -> tuple[ServerRecord, int, list[str]]:
        record, revision = await self.get(server_id)
        doc = parse_tools(text, fmt)
        updated = msgspec.structs.replace(record, tools_text=text, tools_format=fmt, updated_ms=now_ms)
        snapshot = self._compile(updated, doc, "body")
        return updated, await self._replace(updated, revision, snapshot), [tool.name for tool in doc.tools]

    async def _replace(self, record: ServerRecord, revision: int, snapshot: ServerSnapshot) -> int:
        try:
            new_revision = await self._store.update(_record_key(record.id), _encode(record), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        self._remember(snapshot, new_revision)
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
