"""A server's draft beside its published record, and why its last deploy failed.

`servers.<id>` is what the data plane is given (when deployed): its KV revision is the one edges
and toolexec cache by, so it changes only when what they serve changes. An edit saved with
`"deploy": false` goes to `drafts.<id>` instead, stored like the record (`ServerStorage`: large
parts in content-addressed objects of the server's own), and the admin API shows and edits it
until a publish (deploy, a one-step save, a rollback) writes it over the record and deletes it.
No draft: the record is what the operator edits.

A draft holds no claims (its domains, services and sources are checked when it is saved and again
when it is deployed), so what it names may change in between; a deploy that cannot publish then
leaves `deploy-failures.<id>` (`DeployFailure`: the field and the message of its 400) until a
publish succeeds or the server is undeployed.
"""

from __future__ import annotations

import logging

import msgspec

from mcpgw.contracts.errors import McpgwError
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.servers.view import Publication
from mcpgw_registry.stores import keys
from mcpgw_registry.stores.kv import Store, StoreConflict
from mcpgw_registry.stores.server_storage import ServerStorage

log = logging.getLogger(__name__)


class DeployFailure(msgspec.Struct, kw_only=True):
    field: str
    message: str
    at_ms: int


_encode = msgspec.json.Encoder().encode
_decode_failure = msgspec.json.Decoder(DeployFailure).decode


def publication(live: ServerRecord, has_draft: bool, failure: DeployFailure | None,
                published: int | None) -> Publication:
    """How the published record `live` stands; `published`: the number of its last publish."""
    return Publication(status="DeployFailed" if failure is not None else live.deploy_status, published=published,
                       draft=has_draft,
                       error={"field": failure.field, "message": failure.message} if failure is not None else None)


def failure_of(exc: McpgwError, now_ms: int) -> DeployFailure:
    """What a refused publish says: its message starts with the field (see `contracts.errors.invalid`)."""
    field, sep, message = exc.message.partition(": ")
    return DeployFailure(field=field if sep else "", message=message if sep else exc.message, at_ms=now_ms)


class DraftStore:
    def __init__(self, store: Store, storage: ServerStorage) -> None:
        self._store = store
        self._storage = storage

    async def find(self, server_id: str) -> tuple[ServerRecord, int] | None:
        entry = await self._store.get(keys.draft(server_id))
        if entry is None:
            return None
        return await self._storage.decode(entry.value), entry.revision

    async def all(self) -> dict[str, tuple[ServerRecord, int]]:
        out = {}
        for entry in await self._store.scan(keys.DRAFTS):
            try:
                record = await self._storage.decode(entry.value)
            except (msgspec.DecodeError, McpgwError) as exc:
                log.error("skipping unreadable draft %s: %s", entry.key, exc)
                continue
            out[record.id] = (record, entry.revision)
        return out

    async def write(self, server_id: str, value: bytes, last: int | None) -> int:
        """Create the draft (`last` None) or replace the one read at `last`; StoreConflict if it changed."""
        if last is None:
            return await self._store.create(keys.draft(server_id), value)
        return await self._store.update(keys.draft(server_id), value, last=last)

    async def drop(self, server_id: str, last: int | None = None) -> bool:
        """Delete the draft (the one read at `last`); False when a newer one was saved meanwhile."""
        try:
            await self._store.delete(keys.draft(server_id), last=last)
        except StoreConflict:
            return False
        return True

    # deploy failures

    async def failed(self, server_id: str, failure: DeployFailure) -> None:
        try:
            await self._store.put(keys.deploy_failure(server_id), _encode(failure))
        except McpgwError as exc:  # the 400 still reaches the caller; only GET misses the reason
            log.warning("could not keep why MCP server %s failed to deploy: %s", server_id, exc.message)

    async def failure(self, server_id: str) -> DeployFailure | None:
        entry = await self._store.get(keys.deploy_failure(server_id))
        return _decode_failure(entry.value) if entry is not None else None

    async def failures(self) -> dict[str, DeployFailure]:
        return {entry.key.rsplit(".", 1)[1]: _decode_failure(entry.value)
                for entry in await self._store.scan(keys.DEPLOY_FAILURES)}

    async def succeeded(self, server_id: str) -> None:
        try:
            # Read first: most publishes follow no failure, and a delete writes a marker each time.
            if await self._store.get(keys.deploy_failure(server_id)) is not None:
                await self._store.delete(keys.deploy_failure(server_id))
        except McpgwError as exc:
            log.warning("could not clear the deploy failure of MCP server %s: %s", server_id, exc.message)

    async def forget(self, server_id: str) -> None:
        """A deleted server's draft and failure (its objects are the repository's to delete)."""
        await self.drop(server_id)
        await self.succeeded(server_id)
