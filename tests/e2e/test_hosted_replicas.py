"""Hosted servers with several hosting replicas: any of them continues a session, whatever the upstream speaks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcpgw_hosting.service import HostingService

from tests.cluster import Cluster
from tests.upstream.fixture_server import RunningFixture, running_fixture


@pytest.fixture
async def fixture() -> AsyncIterator[RunningFixture]:
    async with running_fixture() as running:
        yield running


@pytest.fixture
async def second(cluster: Cluster) -> AsyncIterator[HostingService]:
    worker = HostingService(cluster.hosting.settings)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


@pytest.mark.parametrize("transport", ["StreamableHTTP", "SSE"])
async def test_calls_of_one_session_spread_over_replicas_and_survive_one_going(
        cluster: Cluster, fixture: RunningFixture, second: HostingService, transport: str) -> None:
    await cluster.host("shared", fixture.url if transport == "StreamableHTTP" else fixture.sse_url,
                       transport=transport)
    async with streamable_http_client(cluster.mcp_url("shared")) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        for _ in range(12):  # NATS spreads them over both replicas' queue group
            result = await session.call_tool("test_simple_text", {})
            assert not result.is_error, result
        served = [cluster.hosting.relay.calls, second.relay.calls]
        assert all(served), served
        # Both upstream transports keep one upstream session for this client session.
        assert cluster.hosting.relay.pool.opened + second.relay.pool.opened == 1

        await cluster.restart_hosting()  # one replica goes; the other (or the new one) carries on
        for _ in range(6):
            result = await session.call_tool("test_simple_text", {})
            assert not result.is_error, result
