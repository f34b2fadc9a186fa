"""Statistics through the whole cluster: MCP clients call tools at the edge, toolexec counts them (only
for a server with `mcpStatisticsEnable`), and the registry's statistics endpoint reads them back."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw


async def _statistics(cluster: Cluster, server_id: str, group_by: str) -> dict[str, Any]:
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}/statistics?groupBy={group_by}")
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


async def test_statistics_on_and_off(cluster: Cluster, backend: Backend, http: aiohttp.ClientSession) -> None:
    on = await cluster.create_server("counted", petstore_yaml(backend.url), mcpStatisticsEnable=True,
                                     consumerAuthInfo={"enable": True})
    off = await cluster.create_server("quiet", petstore_yaml(backend.url), consumerAuthInfo={"enable": True})
    consumer_id, key = await cluster.create_consumer("alice")
    for server_id in (on, off):
        await cluster.grant(consumer_id, server_id)
    for name in ("counted", "quiet"):
        client = Raw(http, cluster.mcp_url(name))
        await client.initialize_with({"Authorization": f"Bearer {key}"})
        for i in range(3):
            answer = await client.call("tools/call", {"name": "get_pet", "arguments": {"id": 1}}, request_id=i)
            assert answer.json["result"]["isError"] is False, answer.text
        failed = await client.call("tools/call", {"name": "broken", "arguments": {}}, request_id=9)
        assert failed.json["result"]["isError"] is True, failed.text
    assert await cluster.toolexec.stats.flush() is True

    by_tool = await _statistics(cluster, on, "tool")
    assert by_tool["statisticsEnabled"] is True
    assert (by_tool["totals"]["calls"], by_tool["totals"]["toolErrors"]) == (4, 1)
    assert by_tool["totals"]["bytesIn"] > 0 and by_tool["totals"]["bytesOut"] > 0
    assert by_tool["totals"]["latencyMs"]["p99"] is not None
    assert {g["key"]: (g["calls"], g["toolErrors"]) for g in by_tool["groups"]} == {
        "get_pet": (3, 0), "broken": (1, 1)}
    by_consumer = await _statistics(cluster, on, "consumer")
    assert [(g["key"], g["calls"]) for g in by_consumer["groups"]] == [(consumer_id, 4)]

    quiet = await _statistics(cluster, off, "minute")
    assert quiet["statisticsEnabled"] is False
    assert quiet["totals"]["calls"] == 0 and quiet["groups"] == []


async def test_the_edge_counts_its_refusals_and_an_assemblys_calls(cluster: Cluster, backend: Backend,
                                                                    http: aiohttp.ClientSession) -> None:
    """What no worker sees is counted by the edge: a tool the consumer was not granted, one that does
    not exist (under one name, whatever the client sent), and an assembly's calls under the assembly."""
    pets = await cluster.create_server("pets", petstore_yaml(backend.url), mcpStatisticsEnable=True,
                                       consumerAuthInfo={"enable": True})
    consumer_id, key = await cluster.create_consumer("bob")
    await cluster.grant(consumer_id, pets, ["get_pet"])
    client = Raw(http, cluster.mcp_url("pets"))
    await client.initialize_with({"Authorization": f"Bearer {key}"})
    assert "error" in (await client.call("tools/call", {"name": "add_pet", "arguments": {"name": "x"}})).json
    for i, invented in enumerate(("nope-1", "nope-2")):
        assert "error" in (await client.call("tools/call", {"name": invented, "arguments": {}}, request_id=i)).json

    status, body = await cluster.admin("POST", "/v1/mcp-servers", json={
        "name": "all", "type": "AssemblyMCP", "mcpStatisticsEnable": True,
        "assembledSources": [{"mcpServerId": pets, "toolAliases": {"get_pet": "pet"}}]})
    assert status == 200, body
    everything = body["data"]["mcpServerId"]
    assembled = Raw(http, cluster.mcp_url("all"))
    await assembled.initialize()
    ok = await assembled.call("tools/call", {"name": "pet", "arguments": {"id": 1}})
    assert ok.json["result"]["isError"] is False, ok.text
    failed = await assembled.call("tools/call", {"name": "broken", "arguments": {}}, request_id=2)
    assert failed.json["result"]["isError"] is True, failed.text
    assert "error" in (await assembled.call("tools/call", {"name": "missing", "arguments": {}}, request_id=3)).json
    for edge in cluster.edges:
        assert await edge.edge.dispatcher.counts.stats.flush() is True  # type: ignore[union-attr]
    assert await cluster.toolexec.stats.flush() is True

    refused = await _statistics(cluster, pets, "tool")
    assert {g["key"]: (g["calls"], g["protocolErrors"]) for g in refused["groups"]} == {
        "add_pet": (1, 1), "(unknown tool)": (2, 2), "get_pet": (1, 0), "broken": (1, 0)}
    counted = await _statistics(cluster, everything, "tool")
    assert {g["key"]: (g["calls"], g["toolErrors"], g["protocolErrors"]) for g in counted["groups"]} == {
        "pet": (1, 0, 0), "broken": (1, 1, 0), "(unknown tool)": (1, 0, 1)}
