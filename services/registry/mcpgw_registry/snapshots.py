"""Compiled server snapshots for the data plane, cached per (server id, KV revision).

A revision never changes content, so a cached snapshot is valid for as long as it is kept; the
cache is bounded only to cap memory.
"""

from __future__ import annotations

from collections import OrderedDict

from mcpgw.contracts.registry import ServerSnapshot
from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry.overrides import enforce_hidden, tool_key
from mcpgw_registry.servers import ServerRecord
from mcpgw_registry.tools import effective_tools, listing_entry, parse_tools


def build_snapshot(record: ServerRecord, revision: int, doc: ToolsDocument | None = None) -> ServerSnapshot:
    """The data plane's view of `record`; `doc` saves re-parsing tools that were just parsed."""
    snapshot = ServerSnapshot(
        server_id=record.id,
        name=record.name,
        revision=revision,
        description=record.description,
        protocol=record.protocol,
        consumer_auth=record.consumer_auth,
        statistics=record.statistics,
    )
    if doc is None and record.tools_text:
        doc = parse_tools(record.tools_text, record.tools_format, root="mcpServerConfig")
    if doc is not None:
        tools = effective_tools(doc)
        snapshot.server = doc.server
        # Clients are shown the tools as written; toolexec gets hidden arguments pinned to their defaults.
        snapshot.listing = [listing_entry(tool) for tool in tools]
        overrides = record.imported.tools if record.imported is not None else {}
        if overrides:
            tools = [enforce_hidden(t, overrides.get(k)) if (k := tool_key(t)) is not None else t for t in tools]
        snapshot.tools = tools
    return snapshot


class SnapshotCache:
    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple[str, int], ServerSnapshot] = OrderedDict()

    def get(self, record: ServerRecord, revision: int) -> ServerSnapshot:
        key = (record.id, revision)
        snapshot = self._items.get(key)
        if snapshot is not None:
            self._items.move_to_end(key)
            return snapshot
        snapshot = build_snapshot(record, revision)
        self.put(snapshot)
        return snapshot

    def put(self, snapshot: ServerSnapshot) -> None:
        self._items[(snapshot.server_id, snapshot.revision)] = snapshot
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
