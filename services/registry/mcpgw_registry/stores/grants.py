"""Authorization rules against the store: every rule of a request checked first, then written.

A rule names a consumer and a server that must exist when it is written. Deleting either deletes
its rules (`delete_where`); a rule written while its consumer or server is being deleted is noticed
by re-reading them after the write, and removed again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.bus.events import Events
from mcpgw_registry.resources.consumers.model import ConsumerRecord
from mcpgw_registry.resources.grants import GrantRecord, RuleDraft
from mcpgw_registry.resources.ids import RULE_PREFIX, is_rule_id, new_id
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.validation import join
from mcpgw_registry.stores.consumers import ConsumerRepository
from mcpgw_registry.stores.kv import Store, StoreConflict
from mcpgw_registry.stores.servers import ServerRepository

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(GrantRecord).decode


def _key(rule_id: str) -> str:
    return f"grants.{rule_id}"


def not_found(rule_id: str, field: str = "consumerAuthorizationRuleId") -> McpgwError:
    return McpgwError(ErrorCode.NOT_FOUND, f"{field}: no authorization rule {rule_id!r}")


def _changed_concurrently() -> McpgwError:
    return McpgwError(ErrorCode.CONFLICT, "revision: the authorization rule was changed by another request; "
                                          "read it and retry")


class GrantRepository:
    def __init__(self, store: Store, events: Events, consumers: ConsumerRepository,
                 servers: ServerRepository) -> None:
        self._store = store
        self._events = events
        self.consumers = consumers
        self.servers = servers

    # reads

    async def _load(self, rule_id: str) -> tuple[GrantRecord, int] | None:
        if not is_rule_id(rule_id):
            return None
        entry = await self._store.get(_key(rule_id))
        if entry is None:
            return None
        return _decode(entry.value), entry.revision

    async def get(self, rule_id: str, consumer_id: str | None = None) -> tuple[GrantRecord, int]:
        """The rule; 404 also when it belongs to another consumer than the path names."""
        found = await self._load(rule_id)
        if found is None or (consumer_id is not None and found[0].consumer_id != consumer_id):
            raise not_found(rule_id)
        return found

    async def all(self) -> list[tuple[GrantRecord, int]]:
        out = []
        for entry in await self._store.scan("grants"):
            try:
                out.append((_decode(entry.value), entry.revision))
            except msgspec.DecodeError as exc:
                log.error("skipping unreadable record %s: %s", entry.key, exc)
        return out

    # checks

    async def _consumer(self, consumer_id: str, field: str) -> ConsumerRecord:
        try:
            record, _ = await self.consumers.get(consumer_id)
        except McpgwError as exc:
            if exc.code is not ErrorCode.NOT_FOUND:
                raise
            raise invalid(field, f"no consumer {consumer_id!r}") from None
        return record

    async def _server(self, server_id: str, field: str) -> tuple[ServerRecord, int]:
        try:
            return await self.servers.get(server_id)
        except McpgwError as exc:
            if exc.code is not ErrorCode.NOT_FOUND:
                raise
            raise invalid(field, f"no MCP server {server_id!r}") from None

    async def check(self, drafts: list[RuleDraft]) -> None:
        """Every consumer and server named exists, and tool-level rules name tools the server has."""
        consumers: set[str] = set()
        servers: dict[str, set[str] | None] = {}
        for draft in drafts:
            if draft.consumer_id not in consumers:
                await self._consumer(draft.consumer_id, draft.consumer_field)
                consumers.add(draft.consumer_id)
            if draft.server_id not in servers:
                record, revision = await self._server(draft.server_id, join(draft.field, "resourceId"))
                servers[draft.server_id] = await self._tool_names(record, revision)
            known = servers[draft.server_id]
            if draft.tools is None or known is None:
                continue
            for i, name in enumerate(draft.tools):
                if name not in known:
                    raise invalid(join(draft.field, f"resources[{i}]"),
                                  f"the MCP server has no tool {name!r}")

    async def _tool_names(self, record: ServerRecord, revision: int) -> set[str] | None:
        """The server's tool names, or None when they are not known here (no tools document:
        a hosted or assembled server's tools come from elsewhere), so any name is accepted."""
        if not record.tools_text:
            return None
        snapshot = await self.servers.snapshot(record, revision)
        return {t.name for t in snapshot.listing} | {t.name for t in snapshot.tools}

    async def _parents_exist(self, record: GrantRecord) -> bool:
        try:
            await self.consumers.get(record.consumer_id)
            await self.servers.get(record.server_id)
        except McpgwError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return False
            raise
        return True

    # writes

    async def create(self, drafts: list[RuleDraft], now_ms: int) -> list[tuple[GrantRecord, int]]:
        await self.check(drafts)
        records = [GrantRecord(id=new_id(RULE_PREFIX), consumer_id=d.consumer_id, server_id=d.server_id,
                               tools=d.tools, expire_mode=d.expire_mode, expires_at=d.expires_at,
                               created_ms=now_ms, updated_ms=now_ms) for d in drafts]
        created: list[tuple[GrantRecord, int]] = []
        try:
            for record in records:
                created.append((record, await self._store.create(_key(record.id), _encode(record))))
            # A consumer or server deleted meanwhile may have had its rules swept before these existed.
            for record, _ in created:
                if not await self._parents_exist(record):
                    raise McpgwError(ErrorCode.CONFLICT, "consumerId: the consumer or MCP server was deleted "
                                                         "while the rules were being written; nothing was saved")
        except BaseException:
            await self._undo([record for record, _ in created])
            raise
        for record, revision in created:
            await self._events.grant(record.id, "put", record.consumer_id, revision)
        return created

    async def _undo(self, records: list[GrantRecord]) -> None:
        for record in records:
            try:
                await self._store.delete(_key(record.id))
            except Exception as exc:  # keep the original error; the orphan is ignored by the index
                log.warning("could not remove authorization rule %s after a failed request: %s", record.id, exc)

    async def replace(self, record: GrantRecord, revision: int) -> int:
        """Write an updated rule over the revision it was read at."""
        try:
            new_revision = await self._store.update(_key(record.id), _encode(record), last=revision)
        except StoreConflict:
            raise _changed_concurrently() from None
        await self._events.grant(record.id, "put", record.consumer_id, new_revision)
        return new_revision

    async def delete(self, rule_ids: Iterable[str], consumer_id: str | None = None,
                     field: str = "consumerAuthorizationRuleIds") -> None:
        """Delete the named rules, all or none: an unknown id is a 404 before anything is deleted."""
        found: list[tuple[GrantRecord, int]] = []
        for rule_id in dict.fromkeys(rule_ids):
            loaded = await self._load(rule_id)
            if loaded is None or (consumer_id is not None and loaded[0].consumer_id != consumer_id):
                raise not_found(rule_id, field)
            found.append(loaded)
        await self._delete_loaded(found, strict=True)

    async def delete_where(self, *, consumer_id: str | None = None, server_id: str | None = None) -> int:
        """Delete every rule of a consumer or of a server (their own deletion cascades here)."""
        doomed = [(record, revision) for record, revision in await self.all()
                  if record.consumer_id == consumer_id or record.server_id == server_id]
        await self._delete_loaded(doomed, strict=False)
        return len(doomed)

    async def _delete_loaded(self, items: list[tuple[GrantRecord, int]], *, strict: bool) -> None:
        deleted: list[GrantRecord] = []
        try:
            for record, revision in items:
                try:
                    await self._store.delete(_key(record.id), last=revision if strict else None)
                except StoreConflict:
                    raise _changed_concurrently() from None
                deleted.append(record)
        finally:
            # Also when a later delete failed: the ones done are revoked and caches must hear of it.
            if deleted:
                await self._announce_deleted(deleted)

    async def _announce_deleted(self, deleted: list[GrantRecord]) -> None:
        # nats-py does not return a delete's sequence; the stream's last one is at least as new, and
        # is what the edge passes on to auth as the revision a verdict must reflect.
        try:
            revision = await self._store.last_revision()
        except McpgwError as exc:
            log.warning("no revision for the deletion events: %s", exc.message)
            revision = 0
        for record in deleted:
            await self._events.grant(record.id, "delete", record.consumer_id, revision)
