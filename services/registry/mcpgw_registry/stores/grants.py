"""Authorization rules as the API knows them: every rule of a request checked first, then written.

A rule names a consumer and a server that must exist when it is written, and counts only while
both do; the rules in the KV bucket, that rule, and how they go with their owner are
`grant_records`. A rule written while its consumer or server is being deleted is noticed by
re-reading them after the write, and removed again.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.resources.consumers.model import ConsumerRecord
from mcpgw_registry.resources.grants import GrantRecord, RuleDraft
from mcpgw_registry.resources.ids import RULE_PREFIX, new_id
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.validation import join
from mcpgw_registry.stores.consumers import ConsumerRepository
from mcpgw_registry.stores.grant_records import GrantRecords, Loaded
from mcpgw_registry.stores.servers import ServerRepository


def not_found(rule_id: str, field: str = "consumerAuthorizationRuleId") -> McpgwError:
    return McpgwError(ErrorCode.NOT_FOUND, f"{field}: no authorization rule {rule_id!r}")


class GrantRepository:
    def __init__(self, records: GrantRecords, consumers: ConsumerRepository, servers: ServerRepository) -> None:
        self.records = records
        self.consumers = consumers
        self.servers = servers

    # reads

    async def get(self, rule_id: str, consumer_id: str | None = None) -> Loaded:
        """The rule; 404 also when it belongs to another consumer than the path names."""
        found = await self.records.load(rule_id)
        if found is None or (consumer_id is not None and found[0].consumer_id != consumer_id):
            raise not_found(rule_id)
        return found

    async def all(self) -> list[Loaded]:
        return await self.records.all()

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

    # writes

    async def create(self, drafts: list[RuleDraft], now_ms: int) -> list[Loaded]:
        await self.check(drafts)
        records = [GrantRecord(id=new_id(RULE_PREFIX), consumer_id=d.consumer_id, server_id=d.server_id,
                               tools=d.tools, expire_mode=d.expire_mode, expires_at=d.expires_at,
                               created_ms=now_ms, updated_ms=now_ms) for d in drafts]
        created = await self.records.create(records)
        try:
            # A consumer or server deleted meanwhile may have had its rules swept before these existed.
            for record, _ in created:
                if not await self.records.owners_exist(record):
                    raise McpgwError(ErrorCode.CONFLICT, "consumerId: the consumer or MCP server was deleted "
                                                         "while the rules were being written; nothing was saved")
        except BaseException:
            await self.records.undo([record for record, _ in created])
            raise
        await self.records.announce_created(created)
        return created

    async def replace(self, record: GrantRecord, revision: int) -> int:
        """Write an updated rule over the revision it was read at."""
        return await self.records.replace(record, revision)

    async def delete(self, rule_ids: Iterable[str], consumer_id: str | None = None,
                     field: str = "consumerAuthorizationRuleIds") -> None:
        """Delete the named rules, all or none: an unknown id is a 404 before anything is deleted."""
        found: list[Loaded] = []
        for rule_id in dict.fromkeys(rule_ids):
            loaded = await self.records.load(rule_id)
            if loaded is None or (consumer_id is not None and loaded[0].consumer_id != consumer_id):
                raise not_found(rule_id, field)
            found.append(loaded)
        await self.records.delete_loaded(found, strict=True)
