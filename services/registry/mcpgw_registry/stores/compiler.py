"""Compiling server records into the data plane's snapshots: before a write (to refuse what does
not compile) and on lookups of a stored record, cached per server at its KV revision."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.contracts.registry import ServerLookupReply, ServerSnapshot
from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry.resources.hosted.backend import check_relative_urls
from mcpgw_registry.resources.servers.kinds import check_tools_allowed
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.servers.snapshots import SnapshotCache, build_snapshot

log = logging.getLogger(__name__)

# A sanity bound, not a transport limit: the bus sends large lookup replies compressed and in chunks.
DEFAULT_MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024

_encode = msgspec.json.Encoder().encode


class Compiler:
    def __init__(self, snapshots: SnapshotCache, *, max_snapshot_bytes: int = DEFAULT_MAX_SNAPSHOT_BYTES) -> None:
        self._snapshots = snapshots
        self.max_snapshot_bytes = max_snapshot_bytes
        self._compiling: dict[tuple[str, int], asyncio.Future[ServerSnapshot]] = {}

    def compile(self, record: ServerRecord, doc: ToolsDocument | None, field: str) -> ServerSnapshot:
        """The snapshot of a record about to be written (revision 0), or a 4xx naming `field`."""
        check_tools_allowed(record.kind, doc is not None, field)
        check_relative_urls(record, doc)
        snapshot = build_snapshot(record, 0, doc)
        size = len(_encode(ServerLookupReply(server=snapshot)))
        if size > self.max_snapshot_bytes:
            raise McpgwError(ErrorCode.PAYLOAD_TOO_LARGE,
                             f"{field}: the compiled tools take {size} bytes; one MCP server's tools may take "
                             f"at most {self.max_snapshot_bytes}")
        return snapshot

    def remember(self, snapshot: ServerSnapshot, revision: int) -> None:
        """`snapshot` (compiled before the write) is what the record written at `revision` compiles to."""
        self._snapshots.put(msgspec.structs.replace(snapshot, revision=revision))

    def drop(self, server_id: str) -> None:
        self._snapshots.drop(server_id)

    async def snapshot(self, record: ServerRecord, revision: int,
                       tools: Callable[[ServerRecord], Awaitable[ToolsDocument | None]]) -> ServerSnapshot:
        """The stored `record` at `revision` compiled; `tools` reads its tools document from the store."""
        cached = self._snapshots.find(record.id, revision)
        if cached is not None:
            return cached
        # Concurrent lookups of one revision (every edge and toolexec after a change) compile it once.
        key = (record.id, revision)
        pending = self._compiling.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._compile_stored(record, revision, tools))
            self._compiling[key] = pending
            pending.add_done_callback(lambda _: self._compiling.pop(key, None))
        return await asyncio.shield(pending)

    async def _compile_stored(self, record: ServerRecord, revision: int,
                              tools: Callable[[ServerRecord], Awaitable[ToolsDocument | None]]) -> ServerSnapshot:
        try:
            if isinstance(record.tools_text, str):
                snapshot = await asyncio.to_thread(build_snapshot, record, revision)
            else:
                snapshot = build_snapshot(record, revision, await tools(record))
        except McpgwError as exc:
            if exc.code is not ErrorCode.INVALID_PARAMETER:
                raise
            # Validated when written, so only a stricter newer registry can get here.
            log.error("server %s revision %d no longer compiles: %s", record.id, revision, exc.message)
            raise McpgwError(ErrorCode.INTERNAL, f"the stored tools of MCP server {record.name!r} "
                                                 "do not compile; save them again") from None
        self._snapshots.put(snapshot)
        return snapshot
