"""Request streams kept for resumption: numbered, bounded, readable only through their session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
import redis.asyncio as aioredis
from mcpgw_edge.mcp import resumable
from mcpgw_edge.mcp.resumable import Recorded, RequestStreams, parse_event_id

from mcpgw.contracts import RedisKeys
from mcpgw.jsonrpc import NULL
from mcpgw.runtime.bus import Bus


@pytest.fixture
async def streams(nats_url: str, redis_url: str, root: str) -> AsyncIterator[RequestStreams]:
    bus = await Bus.connect(nats_url, name="test", root=root)
    redis = aioredis.from_url(redis_url)
    try:
        yield RequestStreams(redis, RedisKeys(root), bus, ttl=60, timeout=2)
    finally:
        await bus.close()
        await redis.aclose()


def _event(seq: int, final: bool = False) -> Recorded:
    return Recorded(seq, final, msgspec.Raw(b'{"n":%d}' % seq))


async def test_events_after_an_id_only_and_only_in_their_session(streams: RequestStreams) -> None:
    stream_id = streams.new_id()
    await streams.record("s1", stream_id, Recorded(0, False, NULL))
    for seq in (1, 2, 3):
        await streams.record("s1", stream_id, _event(seq, final=seq == 3))
    after = await streams.read("s1", stream_id, 1)
    assert after is not None and [e.seq for e in after] == [2, 3] and after[-1].final
    assert await streams.read("s2", stream_id, 0) is None
    assert await streams.read("s1", streams.new_id(), 0) is None


async def test_a_long_stream_keeps_its_priming_event_and_the_newest_ones(
        streams: RequestStreams, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resumable, "MAX_KEPT", 5)
    stream_id = streams.new_id()
    await streams.record("s1", stream_id, Recorded(0, False, NULL))
    for seq in range(1, 13):
        await streams.record("s1", stream_id, _event(seq))
    kept = await streams.read("s1", stream_id, -1)
    assert kept is not None and [e.seq for e in kept] == [0, 8, 9, 10, 11, 12]


async def test_following_a_stream_gets_what_comes_until_its_final_event(streams: RequestStreams) -> None:
    stream_id = streams.new_id()
    await streams.record("s1", stream_id, Recorded(0, False, NULL))
    await streams.record("s1", stream_id, _event(1))
    got: list[int] = []
    idled = asyncio.Event()

    async def send(event: Recorded) -> None:
        got.append(event.seq)

    async def idle() -> None:
        idled.set()

    follower = asyncio.create_task(streams.follow("s1", stream_id, 0, send, idle, 0.05))
    await asyncio.wait_for(idled.wait(), 5)  # caught up and waiting: keep-alives meanwhile
    await streams.record("s1", stream_id, _event(2, final=True))
    await asyncio.wait_for(follower, 5)
    assert got == [1, 2]


def test_event_ids() -> None:
    assert parse_event_id("0123456789abcdef_7") == ("0123456789abcdef", 7)
    for bad in ("", "x_1", "0123456789abcdef", "0123456789abcdef_", "0123456789abcdef_-1", "0123456789ABCDEF_1"):
        assert parse_event_id(bad) is None
