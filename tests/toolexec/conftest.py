from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from mcpgw_toolexec.service import ToolexecService
from mcpgw_toolexec.settings import ToolexecSettings

from mcpgw.runtime.bus import Bus
from tests.toolexec.rig import Echo, FakeRegistry

StartToolexec = Callable[..., Awaitable[ToolexecService]]


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    server = Echo()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bus(nats_url: str, root: str) -> AsyncIterator[Bus]:
    client = await Bus.connect(nats_url, name="toolexec-test", root=root)
    yield client
    await client.close()


@pytest.fixture
async def registry(bus: Bus) -> FakeRegistry:
    fake = FakeRegistry(bus)
    await fake.start()
    return fake


@pytest.fixture
async def start_toolexec(nats_url: str, redis_url: str, root: str) -> AsyncIterator[StartToolexec]:
    """Starts ToolexecService instances on this test's subject root; all are stopped afterwards."""
    started: list[ToolexecService] = []

    async def start(**overrides: Any) -> ToolexecService:
        values: dict[str, Any] = {
            "nats_url": nats_url,
            "redis_url": redis_url,
            "subject_root": root,
            "backend_timeout": 5.0,
            "backend_connect_timeout": 2.0,
            "error_excerpt_bytes": 64,
            "stats_flush_interval": 3600.0,  # tests flush explicitly unless they say otherwise
            **overrides,
        }
        service = ToolexecService(ToolexecSettings(**values))
        await service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        await service.stop()


@pytest.fixture
async def toolexec(start_toolexec: StartToolexec) -> ToolexecService:
    return await start_toolexec()
