"""The edge's /metrics: requests by server, method, tool and outcome, sessions, caches, NATS requests."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.samples import Sample

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.edge.test_stateless import _rpc
from tests.runtime.test_metrics import scrape, value
from tests.util import eventually


@pytest.fixture
async def url(cluster: Cluster, backend: Backend) -> str:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    return cluster.mcp_url("petstore")


REQUESTS = "mcpgw_edge_request_duration_seconds"


def requests(found: dict[str, list[Sample]], **labels: str) -> float:
    return value(found, REQUESTS, REQUESTS + "_count", **labels)


async def test_requests_are_counted_by_server_method_tool_and_outcome(cluster: Cluster, http: aiohttp.ClientSession,
                                                                      url: str) -> None:
    client = Raw(http, url)
    await client.initialize()
    assert (await client.call("tools/list")).status == 200
    for n in range(3):
        answer = await client.call("tools/call", {"name": "get_pet", "arguments": {"id": n}}, request_id=n)
        assert not answer.json["result"].get("isError"), answer.text
    broken = await client.call("tools/call", {"name": "broken", "arguments": {}})
    assert broken.json["result"]["isError"] is True
    unknown = await client.call("tools/call", {"name": "made-up-by-the-client", "arguments": {}})
    assert unknown.json["error"]["code"] == -32602
    assert (await client.call("no/such/method")).json["error"]["code"] == -32601
    # The 2026-07-28 era is counted alike.
    modern = await _rpc(http, url, "tools/call", {"name": "get_pet", "arguments": {"id": 9},
                                                  "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                                            "io.modelcontextprotocol/clientCapabilities": {}}})
    assert modern.status == 200, modern.text

    edge = cluster.edges[0]
    found = await scrape(http, edge.metrics)
    server = {"server": "petstore"}
    assert requests(found, **server, method="initialize", tool="", outcome="ok") == 1
    assert requests(found, **server, method="tools/list", tool="", outcome="ok") == 1
    assert requests(found, **server, method="tools/call", tool="get_pet", outcome="ok") == 4
    assert requests(found, **server, method="tools/call", tool="broken", outcome="tool_error") == 1
    # A tool or method the client made up is no label.
    assert requests(found, **server, method="tools/call", tool="", outcome="-32602") == 1
    assert requests(found, **server, method="other", tool="", outcome="-32601") == 1
    assert not any("made-up" in str(s.labels) or "no/such" in str(s.labels) for s in found[REQUESTS])
    assert client.session_id and not any(client.session_id in str(s.labels) for f in found.values() for s in f)

    assert value(found, "mcpgw_edge_sessions_open", "mcpgw_edge_sessions_open") >= 1
    # Each tools/call went to toolexec over NATS; the server view came from the registry once.
    nats = "mcpgw_nats_request_duration_seconds"
    assert value(found, nats, nats + "_count", operation="toolexec.call", outcome="ok") == 5
    assert value(found, nats, nats + "_count", operation="registry.edge.lookup", outcome="ok") == 1
    lookups = "mcpgw_cache_lookups"
    assert value(found, lookups, lookups + "_total", cache="edge.servers", result="miss") == 1
    assert value(found, lookups, lookups + "_total", cache="edge.servers", result="hit") >= 8


async def test_a_changed_server_counts_as_an_invalidation(cluster: Cluster, http: aiohttp.ClientSession,
                                                          url: str) -> None:
    await Raw(http, url).initialize()
    servers = cluster.edges[0].edge.servers
    entry = servers.cached("petstore")
    assert entry is not None and servers.invalidations == 0
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{entry.snapshot.server_id}",
                                       json={"description": "changed"})
    assert status == 200, body

    async def invalidations() -> int:
        return servers.invalidations

    await eventually(invalidations, lambda n: n == 1)
    found = await scrape(http, cluster.edges[0].metrics)
    dropped = "mcpgw_cache_invalidations"
    assert value(found, dropped, dropped + "_total", cache="edge.servers") == 1
