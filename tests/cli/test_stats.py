"""`mcpgw stats <server>`: a server's statistics as a table (total first, then one row per group) or JSON."""

from __future__ import annotations

import asyncio

from mcpgw.runtime.stats import Stats
from tests.cli.run import mcpgw
from tests.cluster import Cluster


async def test_stats_of_a_server(cluster: Cluster) -> None:
    server_id = await cluster.create_server("counted", mcpStatisticsEnable=True)
    stats: Stats = cluster.toolexec.stats
    for latency in (3.0, 3.0, 40.0):
        stats.record(server_id, "get_pet", "cs-alice", "ok", latency, 10, 100)
    stats.record(server_id, "broken", "", "tool_error", 3.0, 1, 2)
    assert await stats.flush() is True

    table, by_tool, as_json, bad = await asyncio.gather(
        mcpgw(cluster, "stats", "counted"), mcpgw(cluster, "stats", "counted", "--by", "tool"),
        mcpgw(cluster, "stats", server_id, "--by", "consumer", "--json"),
        mcpgw(cluster, "stats", "counted", "--minutes", "0"))
    assert table.code == 0, table.err
    assert table.lines[0].split()[:3] == ["CALLS", "TOOL", "ERR"]
    assert table.lines[1].split()[:4] == ["total", "4", "1", "0"] and len(table.lines) == 2
    assert by_tool.lines[0].split()[0] == "TOOL"
    assert sorted(line.split()[0] for line in by_tool.lines[2:]) == ["broken", "get_pet"]
    data = as_json.json()
    assert data["totals"]["calls"] == 4 and {g["key"]: g["calls"] for g in data["groups"]} == {"": 1, "cs-alice": 3}
    assert bad.code == 2 and "--minutes" in bad.err


async def test_stats_of_a_server_without_them_says_so(cluster: Cluster) -> None:
    await cluster.create_server("quiet")
    ran = await mcpgw(cluster, "stats", "quiet")
    assert ran.code == 0 and "statistics are off" in ran.err
    assert ran.lines[1].split()[:2] == ["total", "0"]
