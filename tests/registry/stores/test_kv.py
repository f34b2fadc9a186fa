"""The KV layer against a real JetStream bucket: conditional writes, scans, the size limit."""

from __future__ import annotations

import pytest
from mcpgw_registry.stores.kv import KeyExists, RevisionMismatch, Store

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.runtime.bus import Bus


async def test_conditional_writes_and_scan(bus: Bus, root: str) -> None:
    store = await Store.open(bus.nc, f"st-{root}", replicas=1, timeout=5)
    first = await store.create("things.a", b"1")
    with pytest.raises(KeyExists):
        await store.create("things.a", b"2")
    second = await store.update("things.a", b"2", last=first)
    with pytest.raises(RevisionMismatch):
        await store.update("things.a", b"3", last=first)
    await store.create("things.b", b"b")
    await store.create("things.c", b"c")
    await store.delete("things.c")
    assert await store.get("things.c") is None and await store.get("things.none") is None
    entry = await store.get("things.a")
    assert entry is not None and (entry.value, entry.revision) == (b"2", second)
    assert sorted((e.key, e.value) for e in await store.scan("things")) == [("things.a", b"2"), ("things.b", b"b")]
    assert await store.scan("empty") == []
    # A deleted key can be created again.
    await store.create("things.c", b"again")
    with pytest.raises(McpgwError) as big:
        await store.create("things.big", b"x" * (store.max_value_bytes + 1))
    assert big.value.code is ErrorCode.PAYLOAD_TOO_LARGE
