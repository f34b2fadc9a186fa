"""Quiet event streams get SSE keep-alive comments through the real edge, and a client that
leaves releases its stream at once (the server cancels the stream's handler)."""

from __future__ import annotations

import asyncio

import aiohttp
from mcpgw_edge.context import Edge

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.util import eventually

WAIT = 5.0


async def _comment(stream: aiohttp.ClientResponse) -> bytes:
    """The next SSE comment line on the stream (events before it are skipped)."""
    while True:
        line = await asyncio.wait_for(stream.content.readline(), WAIT)
        assert line, "stream ended"
        if line.startswith(b":"):
            return line.rstrip()


async def test_a_quiet_get_stream_gets_keep_alive_comments(cluster: Cluster, backend: Backend) -> None:
    await cluster.restart_edge(sse_keepalive=0.2)
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with aiohttp.ClientSession() as http:
        mcp = Raw(http, cluster.mcp_url("petstore"))
        await mcp.initialize()
        async with http.get(mcp.url, headers=mcp.stream_headers()) as stream:
            assert stream.status == 200
            assert await _comment(stream) == b": ping"
            assert await _comment(stream) == b": ping"  # and again, one interval later


async def test_a_quiet_legacy_sse_stream_gets_keep_alive_comments(cluster: Cluster, backend: Backend) -> None:
    await cluster.restart_edge(sse_keepalive=0.2)
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with aiohttp.ClientSession() as http, \
            http.get(cluster.mcp_url("petstore") + "/sse", headers={"Accept": "text/event-stream"}) as stream:
        assert stream.status == 200
        assert await _comment(stream) == b": ping"


async def test_a_client_that_closes_its_stream_releases_it_at_once(cluster: Cluster, backend: Backend) -> None:
    server_id = await cluster.create_server("petstore", petstore_yaml(backend.url))
    edge = cluster.edges[0].edge
    async with aiohttp.ClientSession() as http:
        mcp = Raw(http, cluster.mcp_url("petstore"))
        await mcp.initialize()
        headers = {"Accept": "text/event-stream", "Mcp-Session-Id": mcp.session_id or ""}
        async with http.get(mcp.url, headers=headers) as stream:
            assert stream.status == 200
            await eventually(lambda: _count(edge, server_id), lambda n: n == 1)
        # The default keep-alive is 15 s: only the disconnect itself can end the stream this soon.
        await eventually(lambda: _count(edge, server_id), lambda n: n == 0, within=2.0)
        # The session stays usable.
        assert (await mcp.call("ping")).status == 200


async def _count(edge: Edge, server_id: str) -> int:
    return sum(1 for _ in edge.hub.of_server(server_id))
