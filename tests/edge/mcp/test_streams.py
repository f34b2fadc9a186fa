"""The hub's keep-alive: quiet streams get a PING, spread over the interval, and keep their session."""

from __future__ import annotations

import asyncio
import time

from mcpgw_edge.mcp import streams
from mcpgw_edge.mcp.streams import PING, StreamHub

WAIT = 5.0


async def test_a_quiet_stream_is_pinged_and_its_session_kept_alive() -> None:
    hub = StreamHub()
    quiet = hub.open("s-quiet", "srv")
    busy = hub.open("s-busy", "srv")
    assert quiet is not None and busy is not None
    alive: list[str] = []
    ticker = asyncio.get_running_loop().create_task(hub.keepalive(0.2, alive.append))
    try:
        started = time.monotonic()
        busy.send(b"event")  # a stream with something queued needs no ping
        assert await asyncio.wait_for(quiet.queue.get(), WAIT) == PING
        assert time.monotonic() - started >= 0.2 * 0.9
        assert "s-quiet" in alive
        assert await busy.queue.get() == b"event"
    finally:
        ticker.cancel()


async def test_streams_opened_together_are_pinged_in_waves() -> None:
    hub = StreamHub()
    count = 3000
    opened = [hub.open(f"s{i}", "srv") for i in range(count)]
    # Each stream's first ping (a slow run may reach a stream's second interval before the test
    # has read every first ping).
    first_ping: dict[str, float] = {}

    def alive(session: str) -> None:
        first_ping.setdefault(session, time.monotonic())

    ticker = asyncio.get_running_loop().create_task(hub.keepalive(0.5, alive))
    try:
        for stream in opened:
            assert stream is not None
            assert await asyncio.wait_for(stream.queue.get(), WAIT) == PING
    finally:
        ticker.cancel()
    # At most a tenth of the streams (plus one slice) per check: never all of them in one go.
    per_wave = count // streams.TICKS + streams.SWEEP_SLICE
    pinged = list(first_ping.values())
    waves: dict[float, int] = {}
    first = min(pinged)
    for t in pinged:
        waves[round((t - first) / 0.05)] = waves.get(round((t - first) / 0.05), 0) + 1
    assert max(waves.values()) <= per_wave
    assert len(pinged) == count


async def test_a_stream_whose_connection_takes_the_ping_at_once_gets_it_written_not_queued() -> None:
    hub = StreamHub()
    direct = hub.open("s-direct", "srv")
    slow = hub.open("s-slow", "srv")
    assert direct is not None and slow is not None
    written = asyncio.Event()

    def take() -> bool:
        written.set()
        return True

    direct.ping_now = take
    slow.ping_now = lambda: False  # the client is not reading: the ping waits in its queue
    ticker = asyncio.get_running_loop().create_task(hub.keepalive(0.2, lambda _: None))
    try:
        await asyncio.wait_for(written.wait(), WAIT)
        assert await asyncio.wait_for(slow.queue.get(), WAIT) == PING
        assert direct.queue.empty()
    finally:
        ticker.cancel()
