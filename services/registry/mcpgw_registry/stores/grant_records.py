"""Authorization rules in the KV bucket (`grants.<id>`), and what ties each to its consumer and server.

A rule counts only while the consumer and the MCP server it names both exist. Every reader goes
through here (`load`, `all`: the auth index, the API's rule reads and listings), so deleting a
consumer or a server revokes its rules the moment its own key is deleted.

The rules go with their owner: `ConsumerRepository.delete` and `ServerRepository.delete` end by
deleting them (`drop_orphans`). JetStream KV has no transaction across keys, so that is two steps, in this
order: the owner's key (deleted on the revision read, the commit point), then its rules. A crash in
between leaves rules naming a missing owner, which no reader honours and the next listing deletes.
The other order (rules first, then the owner) is not safe: a rule created between the sweep and the
owner's delete would outlive its owner. In this one a rule written meanwhile re-reads its owners
after the write (`GrantRepository.create`): it sees the owner gone and is removed, or it was written
before the owner went and the sweep finds it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw_registry.bus.events import Events
from mcpgw_registry.resources.grants import GrantRecord
from mcpgw_registry.resources.ids import is_rule_id
from mcpgw_registry.stores import keys
from mcpgw_registry.stores.kv import Store, StoreConflict

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(GrantRecord).decode

Loaded = tuple[GrantRecord, int]


def changed_concurrently() -> McpgwError:
    return McpgwError(ErrorCode.CONFLICT, "revision: the authorization rule was changed by another request; "
                                          "read it and retry")


def _owners(record: GrantRecord) -> tuple[str, str]:
    return keys.consumer(record.consumer_id), keys.server(record.server_id)


class GrantRecords:
    def __init__(self, store: Store, events: Events) -> None:
        self._store = store
        self._events = events

    # reads: only rules whose consumer and server exist

    async def load(self, rule_id: str) -> Loaded | None:
        if not is_rule_id(rule_id):
            return None
        entry = await self._store.get(keys.grant(rule_id))
        if entry is None:
            return None
        found = (_decode(entry.value), entry.revision)
        live, _ = await self._split([found])
        return live[0] if live else None

    async def all(self) -> list[Loaded]:
        stored = []
        for entry in await self._store.scan(keys.GRANTS):
            try:
                stored.append((_decode(entry.value), entry.revision))
            except msgspec.DecodeError as exc:
                log.error("skipping unreadable record %s: %s", entry.key, exc)
        live, orphans = await self._split(stored)
        if orphans:
            # Those of an owner deleted just now (see `drop_orphans`), or left by a crash before its
            # sweep; nobody honours them already.
            log.info("deleting %d authorization rules of deleted consumers or servers", len(orphans))
            await self.delete_loaded(orphans, strict=False, best_effort=True)
        return live

    async def drop_orphans(self) -> None:
        """Delete the rules whose consumer or server is gone: how a consumer's or a server's deletion ends.

        Best effort: the owner is gone already, so its rules grant nothing whether or not this
        finishes, and what a failure leaves the next listing deletes.
        """
        try:
            await self.all()
        except McpgwError as exc:
            log.warning("could not delete the authorization rules of a deleted owner yet: %s", exc.message)

    async def owners_exist(self, record: GrantRecord) -> bool:
        live, _ = await self._split([(record, 0)])
        return bool(live)

    async def _split(self, found: list[Loaded]) -> tuple[list[Loaded], list[Loaded]]:
        """(rules whose owners exist, rules whose consumer or server is gone)."""
        wanted = {key for record, _ in found for key in _owners(record)}
        # One read per distinct owner, concurrently: rules name few consumers and servers.
        existing = {entry.key for entry in await self._store.get_many(sorted(wanted))}
        live: list[Loaded] = []
        orphans: list[Loaded] = []
        for item in found:
            (live if all(key in existing for key in _owners(item[0])) else orphans).append(item)
        return live, orphans

    # writes

    async def create(self, records: list[GrantRecord]) -> list[Loaded]:
        """Write new rules, all or none (the ones written are removed again when one fails)."""
        created: list[Loaded] = []
        try:
            for record in records:
                created.append((record, await self._store.create(keys.grant(record.id), _encode(record))))
        except BaseException:
            await self.undo([record for record, _ in created])
            raise
        return created

    async def undo(self, records: list[GrantRecord]) -> None:
        for record in records:
            try:
                await self._store.delete(keys.grant(record.id))
            except Exception as exc:  # keep the original error; a rule left behind is an orphan or live
                log.warning("could not remove authorization rule %s after a failed request: %s", record.id, exc)

    async def announce_created(self, created: list[Loaded]) -> None:
        for record, revision in created:
            await self._events.grant(record.id, "put", record.consumer_id, revision)

    async def replace(self, record: GrantRecord, revision: int) -> int:
        """Write an updated rule over the revision it was read at."""
        try:
            new_revision = await self._store.update(keys.grant(record.id), _encode(record), last=revision)
        except StoreConflict:
            raise changed_concurrently() from None
        await self._events.grant(record.id, "put", record.consumer_id, new_revision)
        return new_revision

    async def delete_loaded(self, items: Iterable[Loaded], *, strict: bool, best_effort: bool = False) -> None:
        """Delete rules as read (`strict`: only at the revision read); each deletion is announced."""
        deleted: list[GrantRecord] = []
        try:
            for record, revision in items:
                try:
                    await self._store.delete(keys.grant(record.id), last=revision if strict else None)
                except StoreConflict:
                    raise changed_concurrently() from None
                except McpgwError as exc:
                    if not best_effort:
                        raise
                    log.warning("could not delete authorization rule %s: %s", record.id, exc.message)
                    continue
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
