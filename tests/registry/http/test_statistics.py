"""`GET /v1/mcp-servers/{id}/statistics`: what the recorder wrote to a real redis-server, summed, grouped
by tool, consumer or minute, with percentiles; and the 400s naming the parameter at fault."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import msgspec
import pytest
import redis.asyncio as aioredis
from mcpgw_registry.service import RegistryService
from mcpgw_registry.settings import RegistrySettings

from mcpgw.contracts import RedisKeys
from mcpgw.runtime.stats import Stats
from tests.registry.conftest import Api, settings_for

WINDOW = 3600.0


@pytest.fixture
async def stats_api(nats_url: str, redis_url: str, root: str) -> AsyncIterator[Api]:
    settings = msgspec.structs.replace(settings_for(nats_url, root, redis_url), stats_window=WINDOW)
    async with _running(settings) as api:
        yield api


@asynccontextmanager
async def _running(settings: RegistrySettings) -> AsyncIterator[Api]:
    service = RegistryService(settings)
    await service.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{service.port}",
                                         timeout=aiohttp.ClientTimeout(total=10)) as session:
            yield Api(session, service)
    finally:
        await service.stop()


@pytest.fixture
async def recorder(redis_url: str, root: str) -> AsyncIterator[Stats]:
    client = aioredis.from_url(redis_url)
    yield Stats(client, RedisKeys(root), interval=3600, window=WINDOW)
    await client.aclose()


def _url(server_id: str, **query: str) -> str:
    return f"/v1/mcp-servers/{server_id}/statistics" + ("?" + "&".join(f"{k}={v}" for k, v in query.items())
                                                        if query else "")


async def test_totals_and_groups(stats_api: Api, recorder: Stats) -> None:
    server_id = await stats_api.create_server("counted", mcpStatisticsEnable=True)
    for latency in (3.0, 3.0, 3.0, 300.0):
        recorder.record(server_id, "get_pet", "cs-alice", "ok", latency, 10, 100)
    recorder.record(server_id, "broken", "cs-bob", "tool_error", 20.0, 5, 50)
    recorder.record(server_id, "nope", "", "protocol_error", 1.0, 7)
    recorder.record("mcp-other", "get_pet", "cs-alice", "ok", 1.0)  # another server: not in these answers
    assert await recorder.flush() is True

    data = await stats_api.ok("GET", _url(server_id))
    assert data["statisticsEnabled"] is True and "groups" not in data
    totals = data["totals"]
    assert (totals["calls"], totals["toolErrors"], totals["protocolErrors"], totals["bytesIn"],
            totals["bytesOut"]) == (6, 1, 1, 52, 450)
    latency = totals["latencyMs"]
    assert 2.5 < latency["p50"] <= 5 and 250 < latency["p99"] <= 500 and latency["avg"] == pytest.approx(55.0)
    assert data["to"] - data["from"] == 3600 * 1000  # the default range: the last hour

    by_tool = await stats_api.ok("GET", _url(server_id, groupBy="tool"))
    assert {g["key"]: (g["calls"], g["toolErrors"], g["protocolErrors"]) for g in by_tool["groups"]} == {
        "get_pet": (4, 0, 0), "broken": (1, 1, 0), "nope": (1, 0, 1)}
    by_consumer = await stats_api.ok("GET", _url(server_id, groupBy="consumer"))
    assert {g["key"]: g["calls"] for g in by_consumer["groups"]} == {"cs-alice": 4, "cs-bob": 1, "": 1}
    by_minute = await stats_api.ok("GET", _url(server_id, groupBy="minute"))
    assert sum(g["calls"] for g in by_minute["groups"]) == 6
    assert all(int(g["key"]) % 60_000 == 0 for g in by_minute["groups"])

    # A range that ends before the calls holds none of them.
    past = int(time.time() * 1000) - 600_000
    earlier = await stats_api.ok("GET", _url(server_id, to=str(past), **{"from": str(past - 60_000)}))
    assert earlier["totals"]["calls"] == 0 and earlier["totals"]["latencyMs"]["p50"] is None


async def test_a_server_without_statistics_says_so(stats_api: Api) -> None:
    server_id = await stats_api.create_server("quiet")
    data = await stats_api.ok("GET", _url(server_id))
    assert data["statisticsEnabled"] is False and data["totals"]["calls"] == 0


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "yesterday"}, "from"),
    ({"to": "-5"}, "to"),
    ({"from": "2000", "to": "1000"}, "from"),
    ({"from": "0", "to": str(int(WINDOW * 1000) + 1)}, "from"),  # wider than the window
    ({"to": str(10**16)}, "to"),
    ({"groupBy": "hour"}, "groupBy"),
])
async def test_bad_parameters_are_400s_naming_them(stats_api: Api, query: dict[str, str], field: str) -> None:
    server_id = await stats_api.create_server("s")
    reply = await stats_api.call("GET", _url(server_id, **query))
    assert reply.status == 400 and reply.body["code"] == "InvalidParameter", reply.body
    assert reply.message.startswith(f"{field}: "), reply.message


async def test_an_unknown_server_is_a_404(stats_api: Api) -> None:
    reply = await stats_api.call("GET", _url("mcp-doesnotexist"))
    assert reply.status == 404, reply.body


async def test_redis_unreachable_is_a_503_and_the_rest_of_the_api_works(nats_url: str, root: str) -> None:
    async with _running(settings_for(nats_url, root, "redis://127.0.0.1:1/0")) as api:
        server_id = await api.create_server("s")
        reply = await api.call("GET", _url(server_id))
        assert reply.status == 503 and reply.message.startswith("statistics: "), reply.body
        assert (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["name"] == "s"
