"""The statistics recorder on a real redis-server: per-minute buckets per tool and per consumer, written in
one batch, expiring after the window (the format is `mcpgw.statistics`', tested in tests/test_statistics.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from mcpgw import statistics
from mcpgw.contracts import RedisKeys
from mcpgw.runtime import stats as stats_module
from mcpgw.runtime.stats import Stats


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    yield redis
    await redis.aclose()


async def test_the_recorder_writes_minute_buckets_per_tool_and_consumer(
        client: aioredis.Redis, root: str) -> None:
    keys = RedisKeys(root)
    stats = Stats(client, keys, interval=3600, window=600)
    stats.record("s1", "greet", "alice", "ok", 2.0, 10, 100)
    stats.record("s1", "greet", "bob", "tool_error", 40.0, 20, 50)
    stats.record("s1", "fail", "alice", "protocol_error", 4000.0, 30)
    stats.record("s2", "other", "", "ok", 1.0)
    assert await stats.flush() is True
    minute = statistics.minute_of(time.time())
    minutes = await statistics.read_minutes(client, keys, "s1", minute - 1, minute + 1)
    assert len(minutes) in (1, 2)  # the calls may straddle a minute boundary
    total = statistics.totals(minutes)
    assert (total.calls, total.tool_errors, total.protocol_errors, total.bytes_in, total.bytes_out) == (
        3, 1, 1, 60, 150)
    tools = statistics.grouped(minutes, "tool")
    assert {name: (c.calls, c.tool_errors, c.protocol_errors) for name, c in tools.items()} == {
        "greet": (2, 1, 0), "fail": (1, 0, 1)}
    consumers = statistics.grouped(minutes, "consumer")
    assert {name: c.calls for name, c in consumers.items()} == {"alice": 2, "bob": 1}
    slow = tools["fail"].percentile(0.5)
    assert slow is not None and 2500 < slow <= 5000
    # Flushing again adds to the same bucket rather than overwriting it.
    stats.record("s1", "greet", "alice", "ok", 2.0)
    assert await stats.flush() is True
    again = statistics.totals(await statistics.read_minutes(client, keys, "s1", minute - 1, minute + 1))
    assert again.calls == 4


async def test_buckets_expire_after_the_window(client: aioredis.Redis, root: str) -> None:
    keys = RedisKeys(root)
    stats = Stats(client, keys, interval=3600, window=900)
    before = time.time()
    stats.record("s1", "greet", "", "ok", 1.0)
    assert await stats.flush() is True
    minute = statistics.minute_of(before)
    key = keys.stats_minute("s1", minute)
    if not await client.exists(key):  # the minute turned between the clock read and the call
        key = keys.stats_minute("s1", minute + 1)
        minute += 1
    expires = await client.expiretime(key)
    assert expires == (minute + 1) * 60 + 900  # the window counts from the end of the minute
    assert 840 <= await client.ttl(key) <= 960


async def test_pairs_past_the_cap_count_for_the_server_only(
        client: aioredis.Redis, root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_module, "MAX_CELLS_PER_BUCKET", 2)
    keys = RedisKeys(root)
    stats = Stats(client, keys, interval=3600, window=600)
    for tool, consumer in (("a", "x"), ("b", "y"), ("c", "z"), ("a", "x"), ("d", "w")):
        stats.record("s1", tool, consumer, "ok", 1.0, 1, 2)
    assert stats.dropped == 2
    assert await stats.flush() is True
    minute = statistics.minute_of(time.time())
    minutes = await statistics.read_minutes(client, keys, "s1", minute - 1, minute + 1)
    assert statistics.totals(minutes).calls == 5
    if len(minutes) == 1:  # not straddling a minute boundary: the cap applied to one bucket
        assert {name: c.calls for name, c in statistics.grouped(minutes, "tool").items()} == {"a": 2, "b": 1}
        assert {name: c.calls for name, c in statistics.grouped(minutes, "consumer").items()} == {"x": 2, "y": 1}
