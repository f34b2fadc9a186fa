"""A server's published revisions: every publish keeps one, the last N (default 20) stay.

A revision is the whole server record as it was published, its tools text inline and its secrets
by reference (`resources.servers.secret_refs`, values in `secret_store`), in one object
of the object store (`revisions.<server id>.<n>.<random>`: two replicas numbering the same `n` at
once never overwrite each other's); the KV key `revisions.<server id>` lists them.
Kept apart from the record's own objects, which a later write deletes, so a revision never points
at something gone. `n` counts publishes of the server from 1 and is never reused.

The list is written after the object with a conditional update (two registry replicas publishing
at once both keep theirs); an object the list no longer names is deleted, best effort, and so are
the secrets no kept revision refers to. Revisions kept before secrets were referenced hold them
inline (and no references): they are read masked and restored as they are.
"""

from __future__ import annotations

import asyncio
import secrets

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw_registry.resources.servers import secret_refs
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.stores import keys
from mcpgw_registry.stores.blobs import BlobStore
from mcpgw_registry.stores.kv import Store, StoreConflict
from mcpgw_registry.stores.secret_store import SecretStore

DEFAULT_KEPT = 20
# Texts longer than this are searched for secrets off the event loop (a YAML parse of megabytes).
_THREAD_FROM = 64 * 1024
# Conditional writes of the list lost to another replica before giving up (each retry reads it again).
_ATTEMPTS = 5


class RevisionEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    n: int
    created_ms: int
    object: str
    # Set when this publish restored an earlier revision.
    rollback_of: int | None = None
    # The references of the secrets the revision holds (what keeps them from being swept).
    secrets: list[str] = []


class RevisionIndex(msgspec.Struct, kw_only=True):
    last: int = 0
    kept: list[RevisionEntry] = []


class Revision(msgspec.Struct, kw_only=True, omit_defaults=True):
    entry: RevisionEntry
    # tools_text is always the text itself (a str), never a reference to another object; every
    # secret in it (and in upstream_credential) is `******`, `secrets` says where each went.
    record: ServerRecord
    # Place -> reference in the server's secret store (see resources.servers.secret_refs).
    secrets: dict[str, str] = {}


_encode = msgspec.json.Encoder().encode
_decode_index = msgspec.json.Decoder(RevisionIndex).decode
_decode_revision = msgspec.json.Decoder(Revision).decode


def _object(server_id: str, n: int) -> str:
    return f"revisions.{server_id}.{n}.{secrets.token_hex(6)}"


class RevisionStore:
    def __init__(self, store: Store, blobs: BlobStore, *, kept: int = DEFAULT_KEPT) -> None:
        self._store = store
        self._blobs = blobs
        self.secrets = SecretStore(store)
        self.kept = kept

    async def _index(self, server_id: str) -> tuple[RevisionIndex, int | None]:
        entry = await self._store.get(keys.revisions(server_id))
        if entry is None:
            return RevisionIndex(), None
        return _decode_index(entry.value), entry.revision

    async def list(self, server_id: str) -> list[RevisionEntry]:
        """Newest first."""
        index, _ = await self._index(server_id)
        return sorted(index.kept, key=lambda e: -e.n)

    async def get(self, server_id: str, n: int) -> Revision | None:
        index, _ = await self._index(server_id)
        entry = next((e for e in index.kept if e.n == n), None)
        if entry is None:
            return None
        data = await self._blobs.get(entry.object)
        if data is None:
            raise McpgwError(ErrorCode.INTERNAL, f"revision: the object of revision {n} is missing")
        return _decode_revision(data)

    async def last(self, server_id: str) -> int | None:
        """The number of the last publish (None: never published)."""
        index, _ = await self._index(server_id)
        return index.last or None

    async def lasts(self) -> dict[str, int]:
        """`last` of every server that was ever published, by id (one scan, for listings)."""
        return {entry.key.split(".", 1)[1]: _decode_index(entry.value).last
                for entry in await self._store.scan(keys.REVISIONS)}

    async def restore(self, kept: Revision, field: str) -> ServerRecord:
        """The record `kept` was published as, its secrets back in place."""
        values = await self.secrets.resolve(kept.record.id, kept.secrets, field)
        return secret_refs.join(kept.record, values, field)

    async def keep(self, record: ServerRecord, tools_text: str, now_ms: int, *,
                   rollback_of: int | None = None, tools_secrets: bool = True) -> int:
        """Keep `record` (with `tools_text`) as the server's next revision; its number.

        `tools_secrets` False: the text holds no secret (it is then not parsed to look for them).
        """
        if tools_secrets and len(tools_text) > _THREAD_FROM:
            separated = await asyncio.to_thread(secret_refs.separate, record, tools_text)
        else:
            separated = secret_refs.separate(record, tools_text, tools_secrets=tools_secrets)
        refs = await self.secrets.refer(record.id, separated.values, now_ms)
        for _ in range(_ATTEMPTS):
            index, at = await self._index(record.id)
            n = index.last + 1
            entry = RevisionEntry(n=n, created_ms=now_ms, object=_object(record.id, n), rollback_of=rollback_of,
                                  secrets=sorted(set(refs.values())))
            await self._blobs.put(entry.object, _encode(Revision(entry=entry, record=separated.record, secrets=refs)))
            kept = sorted([*index.kept, entry], key=lambda e: e.n)
            dropped, kept = kept[:-self.kept], kept[-self.kept:]
            value = _encode(RevisionIndex(last=entry.n, kept=kept))
            try:
                if at is None:
                    await self._store.create(keys.revisions(record.id), value)
                else:
                    await self._store.update(keys.revisions(record.id), value, last=at)
            except StoreConflict:
                await self._blobs.delete(entry.object)
                continue  # another replica kept one first; number ours after it (its object is its own)
            for old in dropped:
                await self._blobs.delete(old.object)
            await self.secrets.sweep(record.id, {ref for e in kept for ref in e.secrets}, now_ms)
            return entry.n
        raise McpgwError(ErrorCode.CONFLICT, "revision: the server was published concurrently; retry")

    async def drop(self, server_id: str) -> None:
        """Forget every revision of a deleted server."""
        index, _ = await self._index(server_id)
        await self._store.delete(keys.revisions(server_id))
        for entry in index.kept:
            await self._blobs.delete(entry.object)
        await self.secrets.drop(server_id)
