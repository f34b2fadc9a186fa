"""Server operations against the store: every check first, then the writes, undone on failure."""

from __future__ import annotations

import logging

import msgspec
from msgspec import UNSET

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw.contracts.registry import ServerLookupReply, ServerSnapshot
from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry import claims
from mcpgw_registry.blobs import BlobStore
from mcpgw_registry.edits import derive
from mcpgw_registry.events import Events
from mcpgw_registry.ids import SERVER_PREFIX, is_server_id, new_id
from mcpgw_registry.importing import ImportPlan, load_generated, plan_import
from mcpgw_registry.overrides import ImportSettings
from mcpgw_registry.render import render
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
SWAGGER_FIELD = "mcpServerConfig.swaggerConfig"

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
    def __init__(self, store: Store, events: Events, snapshots: SnapshotCache, blobs: BlobStore, *,
                 max_import_bytes: int) -> None:
        self._store = store
        self._events = events
        self._snapshots = snapshots
        self.blobs = blobs
        self.max_import_bytes = max_import_bytes

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

    def compile(self, record: ServerRecord, doc: ToolsDocument | None, field: str) -> ServerSnapshot:
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

    async def create(self, body: CreateServer, now_ms: int) -> tuple[ServerRecord, int, ImportPlan | None]:
        check_name(body.name)
        server_id = new_id(SERVER_PREFIX)
        record = record_from_create(body, server_id, now_ms)
        validate_record(record)
        config = body.mcp_server_config
        text = spec_of(config) if config is not None else None
        doc = None
        plan = None
        if text:
            doc = parse_tools(text, "yaml", root=SPEC_FIELD)
            record.tools_text = text
        elif config is not None and config.swagger_config is not None:
            plan = await self._plan_swagger(record, config.swagger_config, now_ms)
            doc = plan.merge.doc
        snapshot = self.compile(record, doc, SPEC_FIELD)
        value = _encode(record)
        self._store.check_size(value)

        async def still_owned(owner: str) -> bool:
            found = await self._load(owner)
            return found is not None and found[0].name == body.name

        await claims.claim(self._store, _name_key(body.name), server_id, still_owned=still_owned,
                           conflict=McpgwError(ErrorCode.CONFLICT,
                                               f"name: an MCP server named {body.name!r} already exists"))
        try:
            if plan is not None:
                await self.blobs.put(plan.state.blob, plan.generated)
            revision = await self._store.create(_record_key(server_id), value)
        except BaseException:
            if plan is not None:
                await self.blobs.delete(plan.state.blob)
            await claims.release(self._store, _name_key(body.name), server_id)
            raise
        self._remember(snapshot, revision)
        await self._events.server(server_id, "put", record.name, revision)
        return record, revision, plan

    async def _plan_swagger(self, record: ServerRecord, swagger: str, now_ms: int) -> ImportPlan:
        """`mcpServerConfig.swaggerConfig`: an import with the options of the last one (or defaults)."""
        if not swagger.strip():
            raise invalid(SWAGGER_FIELD, "the OpenAPI document is empty")
        settings = record.imported.options if record.imported is not None else ImportSettings()
        try:
            plan = await plan_import(record, swagger, settings, max_bytes=self.max_import_bytes,
                                     blobs=self.blobs, now_ms=now_ms)
        except McpgwError as exc:
            if exc.code is not ErrorCode.INVALID_PARAMETER:
                raise
            raise invalid(SWAGGER_FIELD, exc.message) from None
        record.tools_text, record.tools_format, record.imported = plan.text, "yaml", plan.state
        return plan

    async def update(self, server_id: str, body: UpdateServer, now_ms: int) -> tuple[ServerRecord, int]:
        record, revision = await self.get(server_id)
        updated = apply_update(record, body, now_ms)
        doc = None
        plan = None
        old_blob = record.imported.blob if record.imported is not None else None
        if body.mcp_server_config is None:
            updated.tools_text, updated.imported = "", None
        elif body.mcp_server_config is not UNSET:
            text = spec_of(body.mcp_server_config)
            if text is not None:
                updated.tools_text, updated.tools_format = text, "yaml"
                if text:
                    doc, _ = await self.read_back(updated, parse_tools(text, "yaml", root=SPEC_FIELD))
                else:
                    updated.imported = None
            elif body.mcp_server_config.swagger_config is not None:
                plan = await self._plan_swagger(updated, body.mcp_server_config.swagger_config, now_ms)
                doc = plan.merge.doc
        validate_record(updated)
        snapshot = self.compile(updated, doc, SPEC_FIELD)
        return updated, await self.replace(updated, revision, snapshot, plan=plan, old_blob=old_blob)

    async def read_back(self, record: ServerRecord,
                        doc: ToolsDocument) -> tuple[ToolsDocument, list[dict[str, object]]]:
        """An edited document of an imported server: its edits recorded as overrides (see `edits`).

        Sets `record.imported` and, when applying the overrides consistently changed the document,
        `record.tools_text`; returns the document to run and the edits a re-import will replace.
        """
        state = record.imported
        if state is None:
            return doc, []
        gen = await load_generated(self.blobs, state)
        if gen is None:
            return doc, []  # nothing to compare with; the overrides recorded so far stay
        derived = derive(gen, doc, state.tools)
        record.imported = msgspec.structs.replace(state, tools=derived.overrides, server=derived.server)
        if derived.document != doc:
            # The operator's text is kept as sent whenever it is already consistent (comments survive).
            record.tools_text, record.tools_format = render(derived.document), "yaml"
        return derived.document, derived.not_kept

    async def put_tools(self, server_id: str, text: str, fmt: ToolsFormat,
                        now_ms: int) -> tuple[ServerRecord, int, list[str], list[dict[str, object]]]:
        record, revision = await self.get(server_id)
        doc = parse_tools(text, fmt)
        updated = msgspec.structs.replace(record, tools_text=text, tools_format=fmt, updated_ms=now_ms)
        doc, not_kept = await self.read_back(updated, doc)
        snapshot = self.compile(updated, doc, "body")
        return updated, await self.replace(updated, revision, snapshot), [tool.name for tool in doc.tools], not_kept

    async def replace(self, record: ServerRecord, revision: int, snapshot: ServerSnapshot, *,
                      plan: ImportPlan | None = None, old_blob: str | None = None) -> int:
        """Write `record` over `revision`; with a plan, its generated tools first and the old ones after."""
        new_blob = plan.state.blob if plan is not None else None
        if plan is not None and new_blob != old_blob:
            await self.blobs.put(plan.state.blob, plan.generated)
        try:
            new_revision = await self._store.update(_record_key(record.id), _encode(record), last=revision)
        except BaseException as exc:
            if new_blob is not None and new_blob != old_blob:
                await self._drop_unless_used(new_blob, record.id)
            if isinstance(exc, StoreConflict):
                raise _changed_concurrently() from None
            raise
        kept = record.imported.blob if record.imported is not None else None
        if old_blob and old_blob != kept:
            await self.blobs.delete(old_blob)
        self._remember(snapshot, new_revision)
        await self._events.server(record.id, "put", record.name, new_revision)
        return new_revision

    async def _drop_unless_used(self, blob: str, server_id: str) -> None:
        # A concurrent writer that won may have imported the same document (same blob name).
        try:
            found = await self._load(server_id)
        except McpgwError:
            return  # unsure: keeping an unused object is the harmless choice
        if found is None or found[0].imported is None or found[0].imported.blob != blob:
            await self.blobs.delete(blob)

    async def delete(self, server_id: str) -> None:
        record, revision = await self.get(server_id)
        try:
            await self._store.delete(_record_key(server_id), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        # If this fails the name stays claimed by a missing record, which `claims` takes over later.
        await claims.release(self._store, _name_key(record.name), server_id)
        if record.imported is not None and record.imported.blob:
            await self.blobs.delete(record.imported.blob)
        await self._events.server(server_id, "delete", record.name, revision)
