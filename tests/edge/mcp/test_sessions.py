"""Session TTL refreshes in batches against a real Redis: every touched session is refreshed."""

from __future__ import annotations

import redis.asyncio as aioredis
from mcpgw_edge.mcp import sessions
from mcpgw_edge.mcp.sessions import Session, SessionStore

from mcpgw.contracts import RedisKeys


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
