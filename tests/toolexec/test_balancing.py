"""Relative tool URLs on a server's backendConfig: the weighted split, passive health, gray backends.

Real toolexec, real NATS, real aiohttp backends on loopback; the registry stand-in serves snapshots
with the targets the registry resolves from `/v1/services`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
import yaml
from mcpgw_toolexec.service import ToolexecService

from mcpgw.contracts import ServerSnapshot, ToolsDocument, UpstreamTarget
from mcpgw.devcluster import free_port
from mcpgw.runtime.bus import Bus
from tests.toolexec.conftest import StartToolexec
from tests.toolexec.rig import Echo, FakeRegistry, call, text_of

TOOLS = """
server:
  name: split
  config: {sneaky: "/evil.example/x"}
tools:
- name: item
  args: [{name: id, type: string, required: true}]
  requestTemplate: {url: "/items/{{.args.id}}", method: POST}
- name: sneaky
  requestTemplate: {url: "/{{.config.sneaky}}"}
"""


def _target(echo: Echo | str, service: str, weight: int = 100) -> UpstreamTarget:
    address = echo if isinstance(echo, str) else echo.url.removeprefix("http://")
    return UpstreamTarget(address=address, weight=weight, service=service)


def _publish(registry: FakeRegistry, *backends: list[UpstreamTarget], revision: int = 1) -> None:
    doc = msgspec.convert(yaml.safe_load(TOOLS), ToolsDocument)
    registry.servers["s1"] = ServerSnapshot(server_id="s1", name="split", revision=revision, server=doc.server,
                                            tools=doc.tools, backends=list(backends))


@pytest.fixture
async def echoes() -> AsyncIterator[list[Echo]]:
    started = [Echo() for _ in range(3)]
    for echo in started:
        await echo.start()
    yield started
    for echo in started:
        await echo.stop()


async def test_a_relative_url_goes_to_the_backend_and_its_path_stays_on_it(
        toolexec: ToolexecService, registry: FakeRegistry, echoes: list[Echo], bus: Bus) -> None:
    echo = echoes[0]
    _publish(registry, [_target(echo, "svc-a")])
    result = await call(bus, "s1", "item", {"id": "a/b"})
    assert result["isError"] is False, result
    assert (echo.last.method, echo.last.path) == ("POST", "/items/a%2Fb")
    # A config value that renders `//evil.example/x` is a path on the picked backend, not a host.
    result = await call(bus, "s1", "sneaky")
    assert result["isError"] is False, result
    assert echo.last.path == "//evil.example/x" and echo.last.headers["Host"] == echo.url.removeprefix("http://")


async def test_seventy_thirty_over_two_thousand_calls(
        toolexec: ToolexecService, registry: FakeRegistry, echoes: list[Echo], bus: Bus) -> None:
    a, b, b2 = echoes
    # Service b has two addresses: its share is still its weight's, split between them.
    _publish(registry, [_target(a, "svc-a", 70), _target(b, "svc-b", 30), _target(b2, "svc-b", 30)])
    total = 2000
    for start in range(0, total, 100):
        results = await asyncio.gather(*(call(bus, "s1", "item", {"id": str(n)})
                                         for n in range(start, start + 100)))
        assert not any(r["isError"] for r in results)
    share = len(a.seen) / total
    # Binomial(2000, 0.7): sd 1.02 %; ±5 % is 4.9 sd (a false failure about once in 10^6 runs).
    assert abs(share - 0.70) <= 0.05, (len(a.seen), len(b.seen), len(b2.seen))
    assert len(a.seen) + len(b.seen) + len(b2.seen) == total
    assert abs(len(b.seen) - len(b2.seen)) <= 1  # round robin within a service


async def test_a_refusing_address_is_ejected_and_its_calls_answered_by_the_other(
        start_toolexec: StartToolexec, registry: FakeRegistry, echoes: list[Echo], bus: Bus) -> None:
    toolexec = await start_toolexec(backend_eject_after=3, backend_eject_seconds=30.0)
    echo = echoes[0]
    dead = f"127.0.0.1:{free_port()}"  # nobody listens: connections are refused
    _publish(registry, [_target(dead, "svc-a"), _target(echo, "svc-a")])
    for n in range(20):
        result = await call(bus, "s1", "item", {"id": str(n)})
        assert result["isError"] is False, result  # the refused call went on to the live address
    assert len(echo.seen) == 20
    attempts = toolexec._backend.timings.series(dead, "failed").count
    assert attempts == 3  # three refusals in a row, then left out
    assert toolexec._backend.health.ejected() == [f"http://{dead}"]


async def test_every_address_refusing_is_a_tool_error_that_says_so(
        toolexec: ToolexecService, registry: FakeRegistry, bus: Bus) -> None:
    _publish(registry, [_target(f"127.0.0.1:{free_port()}", "svc-a"), _target(f"127.0.0.1:{free_port()}", "svc-a")])
    result = await call(bus, "s1", "item", {"id": "1"})
    assert result["isError"] is True and "backend unreachable" in text_of(result)


async def test_the_backend_index_picks_the_gray_backend(
        toolexec: ToolexecService, registry: FakeRegistry, echoes: list[Echo], bus: Bus) -> None:
    main, canary, _ = echoes
    _publish(registry, [_target(main, "svc-main")], [_target(canary, "svc-canary")])
    await call(bus, "s1", "item", {"id": "1"})
    await call(bus, "s1", "item", {"id": "2"}, backend=1)
    await call(bus, "s1", "item", {"id": "3"}, backend=7)  # unknown (an older revision): the main one
    assert [s.path for s in main.seen] == ["/items/1", "/items/3"]
    assert [s.path for s in canary.seen] == ["/items/2"]
