"""Sessions against a real Redis: TTL refreshes in batches, lost sessions written back, a store that is down."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis
from mcpgw_edge.mcp import sessions
from mcpgw_edge.mcp.sessions import Session, SessionStore

from mcpgw.contracts import ErrorCode, McpgwError, RedisKeys
from mcpgw.devcluster import free_port


async def test_touched_sessions_are_refreshed_in_batches(redis_url: str, root: str) -> None:
    client = aioredis.from_url(redis_url)
    keys = RedisKeys(root)
    store = SessionStore(client, keys, ttl=600)
    count = sessions.REFRESH_BATCH * 2 + 7
    try:
        for i in range(count):
            await store.create(Session(id=f"s{i}", server_id="srv", server_name="x", transport="streamable"))
        # Shorten every TTL by hand, then touch all but the last: the flush must restore exactly those.
        pipe = client.pipeline(transaction=False)
        for i in range(count):
            pipe.expire(keys.session(f"s{i}"), 5)
        await pipe.execute()
        for i in range(count - 1):
            store.touch(f"s{i}")
        await store.flush_touched()
        ttls = [await client.ttl(keys.session(f"s{i}")) for i in range(count)]
        assert all(t > 500 for t in ttls[:-1])
        assert ttls[-1] <= 5
    finally:
        await client.aclose()


async def test_a_session_the_store_lost_is_written_back_and_one_ended_on_purpose_is_not(
        redis_url: str, root: str) -> None:
    client = aioredis.from_url(redis_url)
    keys = RedisKeys(root)
    holder = SessionStore(client, keys, ttl=600)  # the edge that holds both sessions in its cache
    other = SessionStore(client, keys, ttl=600)  # another replica
    try:
        for name in ("lost", "ended"):
            await holder.create(Session(id=name, server_id="srv", server_name="x", transport="streamable",
                                        consumer_id="c1"))
        await other.delete("ended")  # DELETE on another replica; suppose its event never arrived
        await client.delete(keys.session("lost"))  # the store restarted empty, or evicted the key
        for name in ("lost", "ended"):
            assert await holder.get(name) is not None  # still cached
        await holder.flush_touched()
        restored = await client.get(keys.session("lost"))
        assert restored is not None and b'"consumer_id":"c1"' in restored
        assert 500 < await client.ttl(keys.session("lost")) <= 600
        assert await client.exists(keys.session("ended")) == 0
        assert await other.get("lost") is not None  # any replica can continue it again
        holder._cache.clear()
        assert await holder.get("ended") is None
    finally:
        await client.aclose()


async def test_cached_sessions_go_on_while_redis_is_unreachable_and_new_ones_fail_fast() -> None:
    # A Redis URL nothing listens on: the store is "down".
    client = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    store = SessionStore(client, RedisKeys("t"), ttl=600, timeout=0.5)
    cached = Session(id="held", server_id="srv", server_name="x", transport="streamable")
    store._remember(cached)
    try:
        assert await store.get("held") is cached
        started = time.monotonic()
        with pytest.raises(McpgwError) as down:
            await store.create(Session(id="new", server_id="srv", server_name="x", transport="streamable"))
        assert down.value.code is ErrorCode.NO_RESPONDERS and time.monotonic() - started < 2
        await store.flush_touched()  # fails, keeps the session cached and touched for the next try
        assert await store.get("held") is cached
    finally:
        await client.aclose()
