"""The worker around the calls: snapshot cache, protocol errors, load sharing, statistics."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from mcpgw_toolexec.service import ToolexecService

from mcpgw import statistics
from mcpgw.contracts import ConfigChanged, ErrorCode, McpgwError, RedisKeys
from mcpgw.devcluster import free_port, start_redis
from mcpgw.runtime.bus import Bus
from tests.toolexec.conftest import StartToolexec
from tests.toolexec.rig import Echo, FakeRegistry, call, publish, text_of
from tests.util import eventually


async def _minutes(redis_url: str, root: str, server_id: str) -> list[statistics.Minute]:
    """The server's statistics of the last few minutes, as the registry reads them."""
    client = aioredis.from_url(redis_url)
    try:
        now = statistics.minute_of(time.time())
        return await statistics.read_minutes(client, RedisKeys(root), server_id, now - 5, now + 1)
    finally:
        await client.aclose()

GREETING = """
- name: greet
  requestTemplate: {{url: "{{{{.config.base}}}}/v{version}"}}
"""


async def test_revision_bump_refetches_and_the_warm_path_does_not(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, GREETING.format(version=1), revision=1)
    for _ in range(3):
        await call(bus, "s1", "greet", revision=1)
    assert registry.lookups == 1
    assert [s.path for s in echo.seen] == ["/v1"] * 3

    publish(registry, echo, GREETING.format(version=2), revision=2)
    await call(bus, "s1", "greet", revision=1)  # an edge still at revision 1: the cache is good enough
    assert registry.lookups == 1 and echo.last.path == "/v1"
    await call(bus, "s1", "greet", revision=2)
    await call(bus, "s1", "greet", revision=2)
    assert registry.lookups == 2 and echo.last.path == "/v2"


async def test_config_changed_event_drops_the_snapshot(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, GREETING.format(version=1), revision=1)
    await call(bus, "s1", "greet")
    publish(registry, echo, GREETING.format(version=3), revision=3)
    # An event for something else, or for a revision already held, keeps the entry.
    await bus.publish(bus.subjects.event_consumer("c1"), ConfigChanged(entity="consumer", id="s1", op="put"))
    await bus.publish(bus.subjects.event_server("s1"),
                      ConfigChanged(entity="server", id="s1", op="put", revision=1))
    await bus.publish(bus.subjects.event_server("s1"),
                      ConfigChanged(entity="server", id="s1", op="put", revision=3))

    async def cached() -> int | None:
        return toolexec.cache.cached_revision("s1")

    await eventually(cached, lambda revision: revision is None)
    # The edge may still say revision 1; toolexec fetches anyway because it holds nothing.
    await call(bus, "s1", "greet", revision=1)
    assert echo.last.path == "/v3" and registry.lookups == 2


async def test_an_unreachable_registry_leaves_the_cached_revision_serving(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, GREETING.format(version=1), revision=1)
    await call(bus, "s1", "greet", revision=1)
    await registry.stop()
    result = await call(bus, "s1", "greet", revision=2)
    assert result["isError"] is False and echo.last.path == "/v1"
    with pytest.raises(McpgwError) as nothing_cached:
        await call(bus, "s2", "greet")
    assert nothing_cached.value.code is ErrorCode.NO_RESPONDERS


async def test_concurrent_misses_share_one_lookup(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, GREETING.format(version=1))
    registry.gate = asyncio.Event()
    calls = [asyncio.ensure_future(call(bus, "s1", "greet")) for _ in range(8)]

    async def lookups() -> int:
        return registry.lookups

    await eventually(lookups, lambda n: n >= 1)
    registry.gate.set()
    results = await asyncio.gather(*calls)
    assert all(r["isError"] is False for r in results)
    assert registry.lookups == 1 and len(echo.seen) == 8


async def test_protocol_errors(toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, GREETING.format(version=1))
    with pytest.raises(McpgwError) as unknown_server:
        await call(bus, "nope", "greet")
    assert unknown_server.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(McpgwError) as unknown_tool:
        await call(bus, "s1", "tools.with.dots")
    assert (unknown_tool.value.code, unknown_tool.value.message) == (
        ErrorCode.NOT_FOUND, "unknown tool: tools.with.dots")
    for raw in (b"[1]", b'"x"', b"3"):
        with pytest.raises(McpgwError) as bad:
            await call(bus, "s1", "greet", raw=raw)
        assert (bad.value.code, bad.value.message) == (ErrorCode.INVALID_PARAMETER, "arguments: must be an object")
    with pytest.raises(McpgwError) as malformed:  # the bus already refuses the whole message
        await call(bus, "s1", "greet", raw=b"{broken")
    assert malformed.value.code is ErrorCode.INVALID_PARAMETER
    assert (await call(bus, "s1", "greet", raw=b"null"))["isError"] is False
    assert echo.seen and all(s.path == "/v1" for s in echo.seen)


async def test_misconfigured_tool_is_a_tool_error(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: both
  requestTemplate: {url: "{{.config.base}}/x", argsToJsonBody: true, argsToFormBody: true}
- name: fine
  requestTemplate: {url: "{{.config.base}}/fine"}
""")
    result = await call(bus, "s1", "both")
    assert result["isError"] is True
    assert text_of(result).startswith("tool both is misconfigured: tools[both].requestTemplate: only one of")
    assert (await call(bus, "s1", "fine"))["isError"] is False


async def test_two_instances_share_the_load(
        start_toolexec: StartToolexec, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    first, second = await start_toolexec(), await start_toolexec()
    publish(registry, echo, GREETING.format(version=1))
    results = await asyncio.gather(*(call(bus, "s1", "greet") for _ in range(40)))
    assert all(r["isError"] is False for r in results)
    assert first.calls_served + second.calls_served == 40
    assert first.calls_served > 0 and second.calls_served > 0


async def test_statistics_reach_redis(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus, redis_url: str, root: str) -> None:
    publish(registry, echo, GREETING.format(version=1) + """
- name: fail
  requestTemplate: {url: "http://127.0.0.1:1/x"}
""")
    for _ in range(3):
        await call(bus, "s1", "greet")
    await call(bus, "s1", "fail")
    with pytest.raises(McpgwError):
        await call(bus, "s1", "nonexistent", consumer_id="cs-1")
    assert await toolexec.stats.flush() is True
    minutes = await _minutes(redis_url, root, "s1")
    total = statistics.totals(minutes)
    assert (total.calls, total.tool_errors, total.protocol_errors) == (5, 1, 1)
    assert total.latency_ms > 0 and total.bytes_out > 0 and total.percentile(0.5) is not None
    tools = statistics.grouped(minutes, "tool")
    assert {name: (c.calls, c.tool_errors, c.protocol_errors) for name, c in tools.items()} == {
        "greet": (3, 0, 0), "fail": (1, 1, 0), "nonexistent": (1, 0, 1)}
    assert {name: c.calls for name, c in statistics.grouped(minutes, "consumer").items()} == {"": 4, "cs-1": 1}


async def test_a_server_without_statistics_is_not_counted(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus, redis_url: str, root: str) -> None:
    publish(registry, echo, GREETING.format(version=1), server_id="quiet", statistics=False)
    publish(registry, echo, GREETING.format(version=1), server_id="counted")
    for server_id in ("quiet", "counted"):
        assert (await call(bus, server_id, "greet"))["isError"] is False
    assert await toolexec.stats.flush() is True
    assert await _minutes(redis_url, root, "quiet") == []  # mcpStatisticsEnable: false
    assert statistics.totals(await _minutes(redis_url, root, "counted")).calls == 1


async def test_statistics_flush_periodically(
        start_toolexec: StartToolexec, registry: FakeRegistry, echo: Echo, bus: Bus,
        redis_url: str, root: str) -> None:
    await start_toolexec(stats_flush_interval=0.05)
    publish(registry, echo, GREETING.format(version=1))
    await call(bus, "s1", "greet")
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        async def calls() -> object:
            return statistics.totals(await _minutes(redis_url, root, "s1")).calls

        await eventually(calls, lambda value: value == 1, within=5)
    finally:
        await client.aclose()


async def test_redis_down_does_not_fail_calls_and_counts_are_kept(
        start_toolexec: StartToolexec, registry: FakeRegistry, echo: Echo, bus: Bus,
        root: str, tmp_path: Path) -> None:
    port = free_port()
    service = await start_toolexec(redis_url=f"redis://127.0.0.1:{port}/0", request_timeout=1.0)
    publish(registry, echo, GREETING.format(version=1))
    for _ in range(2):
        assert (await call(bus, "s1", "greet"))["isError"] is False
    assert await service.stats.flush() is False
    await call(bus, "s1", "greet")
    assert await service.stats.flush() is False
    # Redis comes up: everything counted while it was down arrives, once.
    redis_server = await start_redis(port, workdir=str(tmp_path))
    client = aioredis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        assert await service.stats.flush() is True
        assert statistics.totals(await _minutes(url, root, "s1")).calls == 3
        assert await service.stats.flush() is True
        assert statistics.totals(await _minutes(url, root, "s1")).calls == 3
    finally:
        await client.aclose()
        await redis_server.stop()
