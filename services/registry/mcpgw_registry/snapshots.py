"""Compiled server snapshots for the data plane, cached per (server id, KV revision).

A revision never changes content, so a cached snapshot is valid for as long as it is kept; the
cache is bounded only to cap memory.
"""

from __future__ import annotations

from collections import OrderedDict

from mcpgw.contracts.registry import ServerSnapshot
from mcpgw_registry.servers import ServerRecord
from mcpgw_registry.tools import effective_tools, listing_entry, parse_tools


def build_snapshot(record: ServerRecord, revision: int) -> ServerSnapshot:
    snapshot = ServerSnapshot(
        server_id=record.id,
        name=record.name,
        revision=revision,
        description=record.description,
        protocol=record.protocol,
        consumer_auth=record.consumer_auth,
        statistics=record.statistics,
    )
    if record.tools_text:
        doc = parse_tools(record.tools_text, record.tools_format, root="mcpServerConfig")
        tools = effective_tools(doc)
        snapshot.server = doc.server
        snapshot.tools = tools
        snapshot.listing = [listing_entry(tool) for tool in tools]
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
        self._items[key] = snapshot
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return snapshot
