"""Server operations against the store: every check first, then the writes, undone on failure.

Records are stored through `ServerStorage` (large parts in the object store); everything that
reads a server's tools goes through the accessors here (`tools`, `tools_document`,
`readable_tools_text`, `restore_credentials`, `snapshot`), so nothing else knows where they are kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw.contracts.registry import ServerSnapshot
from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry.bus.events import Events
from mcpgw_registry.importing.plan import ImportPlan
from mcpgw_registry.importing.server_writes import plan_swagger
from mcpgw_registry.resources.ids import SERVER_PREFIX, is_server_id, new_id
from mcpgw_registry.resources.servers.model import (
    MAX_NAME,
    NAME_RE,
    CreateServer,
    ServerRecord,
    check_name,
    record_from_create,
    spec_of,
    validate_record,
)
from mcpgw_registry.resources.servers.snapshots import SnapshotCache
from mcpgw_registry.resources.tools.document import ToolsFormat, parse_tools
from mcpgw_registry.resources.tools.secrets import has_credentials, restore_from
from mcpgw_registry.resources.validation import MASK
from mcpgw_registry.stores import claims, keys
from mcpgw_registry.stores.blobs import BlobStore
from mcpgw_registry.stores.compiler import DEFAULT_MAX_SNAPSHOT_BYTES, Compiler
from mcpgw_registry.stores.drafts import DraftStore
from mcpgw_registry.stores.grant_records import GrantRecords
from mcpgw_registry.stores.kv import Store, StoreConflict
from mcpgw_registry.stores.revisions import DEFAULT_KEPT, RevisionStore
from mcpgw_registry.stores.server_storage import DEFAULT_INLINE_BYTES, ServerStorage, Tools, references

log = logging.getLogger(__name__)

SPEC_FIELD = "mcpServerConfig.mcpServerSpec"

_encode = msgspec.json.Encoder().encode


def _not_found(server_id: str) -> McpgwError:
    return McpgwError(ErrorCode.NOT_FOUND, f"mcpServerId: no MCP server {server_id!r}")


def _changed_concurrently() -> McpgwError:
    return McpgwError(ErrorCode.CONFLICT, "revision: the server was changed by another request; read it and retry")


@dataclass
class Editing:
    """A server as an edit finds it: the record the operator edits (the draft, or the published
    record when there is no draft) and the published record with its KV revision."""

    record: ServerRecord
    live: ServerRecord
    revision: int
    # The draft's KV revision; None: there is no draft (`record` is `live`).
    draft_revision: int | None = None


@dataclass
class Draft:
    """A record about to be written, with its tools document and what the data plane will get."""

    record: ServerRecord
    doc: ToolsDocument | None
    snapshot: ServerSnapshot


async def parse(text: str, fmt: ToolsFormat, root: str = "") -> ToolsDocument:
    # A tools document may be megabytes of YAML; parse it off the event loop.
    return await asyncio.to_thread(parse_tools, text, fmt, root=root)


class ServerHooks:
    """What a server write involves beyond its own record; `ServerRepository` calls these.

    This base does nothing (a repository on its own); `hooks.LinkedHooks` is the real one.
    """

    async def prepare(self, record: ServerRecord, previous: ServerRecord | None) -> None:
        """Checks against other resources, before anything is written; may fill in `record`."""

    async def before_write(self, record: ServerRecord) -> None:
        """Right before `record` is written."""

    async def written(self, record: ServerRecord, previous: ServerRecord | None) -> None:
        """After `record` was written over `previous` (None: created)."""

    async def deleted(self, record: ServerRecord) -> None:
        """After `record` was deleted."""


class ServerRepository:
    def __init__(self, store: Store, events: Events, snapshots: SnapshotCache, blobs: BlobStore, grants: GrantRecords,
                 *, max_import_bytes: int, inline_bytes: int = DEFAULT_INLINE_BYTES,
                 max_snapshot_bytes: int = DEFAULT_MAX_SNAPSHOT_BYTES, revisions_kept: int = DEFAULT_KEPT) -> None:
        self._store = store
        self._events = events
        self._grants = grants
        self.blobs = blobs
        # Never so close to the KV limit that a record with its tools moved out could still not fit.
        self._storage = ServerStorage(blobs, inline_bytes=min(inline_bytes, store.max_value_bytes // 2))
        self.max_import_bytes = max_import_bytes
        self.compiler = Compiler(snapshots, max_snapshot_bytes=max_snapshot_bytes)
        self.revisions = RevisionStore(store, blobs, kept=revisions_kept)
        self.drafts = DraftStore(store, self._storage)
        # Set by the app once the resources servers link to are up (see stores.hooks).
        self.hooks = ServerHooks()

    # reads

    async def get(self, server_id: str) -> tuple[ServerRecord, int]:
        found = await self.find(server_id)
        if found is None:
            raise _not_found(server_id)
        return found

    async def find(self, server_id: str) -> tuple[ServerRecord, int] | None:
        if not is_server_id(server_id):
            return None
        entry = await self._store.get(keys.server(server_id))
        if entry is None:
            return None
        return await self._storage.decode(entry.value), entry.revision

    async def find_by_name(self, name: str) -> tuple[ServerRecord, int] | None:
        if len(name) > MAX_NAME or not NAME_RE.match(name):
            return None
        entry = await self._store.get(keys.server_name(name))
        owner = claims.owner_of(entry.value) if entry is not None else None
        if owner is None:
            return None
        found = await self.find(owner)
        if found is None or found[0].name != name:
            return None
        return found

    async def all(self) -> list[tuple[ServerRecord, int]]:
        out = []
        for entry in await self._store.scan(keys.SERVERS):
            try:
                out.append((await self._storage.decode(entry.value), entry.revision))
            except msgspec.DecodeError as exc:
                log.error("skipping unreadable record %s: %s", entry.key, exc)
            except McpgwError as exc:
                if exc.code is not ErrorCode.INTERNAL:
                    raise
                log.error("skipping incomplete record %s: %s", entry.key, exc.message)  # its object is gone
        return out

    async def readable_tools_text(self, record: ServerRecord) -> str:
        """The tools document as API readers see it: backend credentials masked."""
        return await self._storage.readable_tools_text(record)

    async def tools_document(self, record: ServerRecord) -> ToolsDocument | None:
        return await self._storage.tools_document(record)

    async def tools(self, record: ServerRecord) -> Tools | None:
        """The tools document and its text at once (one read of the object store)."""
        return await self._storage.tools(record)

    async def restore_credentials(self, record: ServerRecord, text: str, fmt: ToolsFormat, root: str = "") -> str:
        """`text` with each `******` replaced by the credential `record` stores at that place."""
        if MASK not in text:
            return text
        return restore_from(text, fmt, await self._storage.credentials(record), root)

    async def snapshot(self, record: ServerRecord, revision: int) -> ServerSnapshot:
        return await self.compiler.snapshot(record, revision, self._storage.tools_document)

    def compile(self, record: ServerRecord, doc: ToolsDocument | None, field: str) -> Draft:
        """Compile before writing; `doc` is the record's tools document (None: it has none)."""
        return Draft(record, doc, self.compiler.compile(record, doc, field))

    async def snapshot_by(self, *, name: str | None, server_id: str | None) -> ServerSnapshot | None:
        if server_id is not None:
            found = await self.find(server_id)
        elif name is not None:
            found = await self.find_by_name(name)
        else:
            raise invalid("name", "name or server_id is required")
        # Not deployed: the data plane is told it does not exist (its edge answers 404), its config stays.
        if found is None or found[0].deploy_status != "Deployed":
            return None
        return await self.snapshot(*found)

    async def find_deployed(self, server_id: str) -> tuple[ServerRecord, int] | None:
        found = await self.find(server_id)
        return found if found is not None and found[0].deploy_status == "Deployed" else None

    # writes

    async def create(self, body: CreateServer, now_ms: int) -> tuple[ServerRecord, int, ImportPlan | None]:
        check_name(body.name)
        server_id = new_id(SERVER_PREFIX)
        record = record_from_create(body, server_id, now_ms)
        validate_record(record)
        await self.hooks.prepare(record, None)
        config = body.mcp_server_config
        text = spec_of(config) if config is not None else None
        doc = None
        plan = None
        if text:
            doc = await parse(text, "yaml", SPEC_FIELD)
            record.tools_text = text
        elif config is not None and config.swagger_config is not None:
            plan = await plan_swagger(record, None, config.swagger_config, max_bytes=self.max_import_bytes,
                                      blobs=self.blobs, now_ms=now_ms)
            doc = plan.merge.doc
        draft = self.compile(record, doc, SPEC_FIELD)
        encoded = self._storage.encode(record, doc)
        self._store.check_size(encoded.value)
        blobs = dict(encoded.blobs)
        if plan is not None:
            blobs[plan.state.blob] = plan.generated

        async def still_owned(owner: str) -> bool:
            found = await self.find(owner)
            return found is not None and found[0].name == body.name

        await claims.claim(self._store, keys.server_name(body.name), server_id, still_owned=still_owned,
                           conflict=McpgwError(ErrorCode.CONFLICT,
                                               f"name: an MCP server named {body.name!r} already exists"))
        try:
            await self._put_blobs(blobs)
            await self.hooks.before_write(record)
            revision = await self._store.create(keys.server(server_id), encoded.value)
        except BaseException:
            await self._delete_blobs(blobs)
            await claims.release(self._store, keys.server_name(body.name), server_id)
            raise
        self.compiler.remember(draft.snapshot, revision)
        await self._events.server(server_id, "put", record.name, revision)
        await self.hooks.written(record, None)
        await self._published(draft, now_ms)
        return record, revision, plan

    async def editing(self, server_id: str) -> Editing:
        """What an edit starts from: the draft if there is one, else the published record."""
        live, revision = await self.get(server_id)
        found = await self.drafts.find(server_id)
        if found is None:
            return Editing(live, live, revision)
        return Editing(found[0], live, revision, found[1])

    async def _draft_refs(self, server_id: str) -> set[str] | None:
        """The objects the server's draft refers to; None: unknown (then delete nothing)."""
        try:
            found = await self.drafts.find(server_id)
        except (McpgwError, msgspec.DecodeError):
            return None
        return references(found[0]) if found is not None else set()

    async def save(self, draft: Draft, editing: Editing, *, publish: bool, plan: ImportPlan | None = None,
                   rollback_of: int | None = None) -> int:
        """Publish `draft` (the draft saved before is then gone) or keep it as the draft; the
        record's KV revision, unchanged by a draft."""
        if not publish:
            await self._save_draft(draft, editing, plan)
            return editing.revision
        draft.record.deploy_status = "Deployed"
        revision = await self.replace(draft, editing.revision, editing.live, plan=plan, rollback_of=rollback_of,
                                      drop_draft=editing.draft_revision)
        await self.drafts.succeeded(draft.record.id)
        return revision

    async def _save_draft(self, draft: Draft, editing: Editing, plan: ImportPlan | None) -> None:
        record = draft.record
        encoded = self._storage.encode(record, draft.doc)
        self._store.check_size(encoded.value)
        before = references(editing.record) if editing.draft_revision is not None else set()
        kept = references(editing.live) | before
        blobs = await self._put_new_blobs(encoded.blobs, plan, kept)
        try:
            await self.drafts.write(record.id, encoded.value, editing.draft_revision)
        except BaseException as exc:
            await self._drop_unless_used(blobs, record.id)
            if isinstance(exc, StoreConflict):
                raise _changed_concurrently() from None
            raise
        # Read again: a deploy publishing the draft this one replaces may now refer to its objects.
        await self._drop_unless_used(before - encoded.refs, record.id)

    async def replace(self, draft: Draft, revision: int, previous: ServerRecord, *,
                      plan: ImportPlan | None = None, rollback_of: int | None = None,
                      drop_draft: int | None = None) -> int:
        """Write `draft` over `previous` (read at `revision`): new objects first, unused ones after.

        `drop_draft`: the KV revision of the draft this publishes, deleted once it is written.
        """
        record = draft.record
        encoded = self._storage.encode(record, draft.doc)
        self._store.check_size(encoded.value)
        kept = references(previous)
        if drop_draft is not None:
            kept |= await self._draft_refs(record.id) or set()
        blobs = await self._put_new_blobs(encoded.blobs, plan, kept)
        try:
            await self.hooks.before_write(record)
            new_revision = await self._store.update(keys.server(record.id), encoded.value, last=revision)
        except BaseException as exc:
            await self._drop_unless_used(blobs, record.id)
            if isinstance(exc, StoreConflict):
                raise _changed_concurrently() from None
            raise
        if drop_draft is not None:
            # A draft saved meanwhile is newer than what was published: it stays.
            await self.drafts.drop(record.id, last=drop_draft)
        unused = kept - encoded.refs
        if unused:
            drafted = await self._draft_refs(record.id)
            await self._delete_blobs(unused - drafted if drafted is not None else ())
        self.compiler.remember(draft.snapshot, new_revision)
        await self._events.server(record.id, "put", record.name, new_revision)
        await self.hooks.written(record, previous)
        await self._published(draft, record.updated_ms, rollback_of=rollback_of)
        return new_revision

    async def _published(self, draft: Draft, now_ms: int, *, rollback_of: int | None = None) -> None:
        """Keep a revision of what was just written, if it is served (every write of a deployed server is)."""
        record = draft.record
        if record.deploy_status != "Deployed":
            return
        if isinstance(record.tools_text, str):
            text = record.tools_text
        else:
            tools = await self.tools(record)
            text = tools.text if tools is not None else ""
        # Finding secrets parses the text again: only when the compiled document says there are some.
        secrets = draft.doc is not None and has_credentials(draft.doc)
        await self.revisions.keep(record, text, now_ms, rollback_of=rollback_of, tools_secrets=secrets)

    async def _put_new_blobs(self, blobs: Mapping[str, bytes], plan: ImportPlan | None,
                             kept: set[str]) -> dict[str, bytes]:
        """Store the objects a record being written refers to (and an import's generated tools),
        and return those written. Content-addressed: what `kept` (a record still in place) refers
        to is there already, unless it went missing (saving the same tools again then repairs it)."""
        wanted = dict(blobs)
        if plan is not None:
            wanted[plan.state.blob] = plan.generated
        new = {name: value for name, value in wanted.items() if name not in kept or not await self.blobs.exists(name)}
        await self._put_blobs(new)
        return new

    async def _put_blobs(self, blobs: dict[str, bytes]) -> None:
        """All of `blobs`, or (after deleting those that were written) an exception."""
        # Side by side: compressing megabytes runs in threads, so two objects take the time of one.
        results = await asyncio.gather(*(self.blobs.put(name, value) for name, value in blobs.items()),
                                       return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            await self._delete_blobs(name for name, r in zip(blobs, results, strict=True)
                                     if not isinstance(r, BaseException))
            raise failed[0]

    async def _delete_blobs(self, names: Iterable[str]) -> None:
        for name in names:
            await self.blobs.delete(name)  # best effort: logs and carries on

    async def _drop_unless_used(self, names: Iterable[str], server_id: str) -> None:
        # A concurrent writer that won may refer to the same content-addressed objects.
        try:
            found = await self.find(server_id)
        except McpgwError:
            return  # unsure: keeping an unused object is the harmless choice
        drafted = await self._draft_refs(server_id)
        if drafted is None:
            return
        used = drafted | (references(found[0]) if found is not None else set())
        await self._delete_blobs(name for name in names if name not in used)

    async def delete(self, server_id: str) -> None:
        """Delete the server and what is its alone: name claim, objects, links, credentials, grants."""
        record, revision = await self.get(server_id)
        try:
            # The commit point: from here on no reader honours the server's grants (see grant_records).
            await self._store.delete(keys.server(server_id), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        # If this fails the name stays claimed by a missing record, which `claims` takes over later.
        await claims.release(self._store, keys.server_name(record.name), server_id)
        self.compiler.drop(server_id)
        await self._delete_blobs(references(record) | (await self._draft_refs(server_id) or set()))
        await self.drafts.forget(server_id)
        await self._events.server(server_id, "delete", record.name, revision)
        await self.hooks.deleted(record)
        await self.revisions.drop(server_id)
        await self._grants.drop_orphans()
