"""Benchmark: the same operation called directly and as an MCP tools/call through mcpgw.

Two cases. `rest`: a REST backend's operation, called directly (GET) and as a tool through the
gateway. `hosted`: a trivial tool of an upstream MCP server on the official SDK, called directly
on the upstream and through the gateway as a hosted server, by the same client (wrk posting
tools/call on a session initialized once). Direct and gateway runs are interleaved (direct,
gateway, direct, gateway …) so that drift of the machine cancels out; the ratio gateway/direct is
reported per pair and as the median, with the CPU each process spent per call.

With `--statistics both` (the default) the REST case runs the gateway call on two servers, one
with `mcpStatisticsEnable` false and one with it true, in the same interleaved rounds, so the cost
of statistics shows as the difference of their ratios and CPU per call; Redis commands per call
show that no call waits on Redis (the counts go out in one batch a second).

    python bench/run.py [--case rest|hosted|both] [--rounds 3] [--duration 5] [--auth]
                        [--statistics off|on|both] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
from harness import HOSTED_TOOL, BenchCluster, Run, admin, mcp_session


async def profile(out: str, cluster: BenchCluster, load: Callable[[], Awaitable[Run]], names: Sequence[str]) -> None:
    """Record where the processes `names` spend their CPU under load (py-spy, from PyPI)."""
    os.makedirs(out, exist_ok=True)
    # The venv's own (scripts/bootstrap.sh bench installs it there), else one on PATH.
    beside = Path(sys.executable).with_name("py-spy")
    spy_bin = str(beside) if beside.exists() else shutil.which("py-spy")
    if spy_bin is None:
        sys.exit("py-spy not found: pip install py-spy")
    spies = [await asyncio.create_subprocess_exec(
        spy_bin, "record", "-d", "5", "-r", "200", "--native", "-f", "speedscope",
        "-o", os.path.join(out, f"{p.name}.json"), "-p", str(p.proc.pid),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for p in cluster.procs if p.name in names]
    print(await load())
    for spy in spies:
        await asyncio.wait_for(spy.wait(), 60)


def print_row(row: Run, base: Run, connections: int, rnd: int) -> float:
    """One run's line (and its CPU per call per process); its throughput ratio to `base`."""
    ratio = row.rps / base.rps if base.rps else 0.0
    label = f"{row.label} c={connections} #{rnd + 1}"
    print(f"{label:<22}{row.rps:>10.0f}{row.p50_ms:>9.2f}{row.p99_ms:>9.2f}{row.errors:>8}{ratio:>8.3f}")
    if row.cpu_us_per_call:
        redis = f"; Redis commands/call {row.redis_per_call:.4f}" if row.redis_per_call is not None else ""
        print(" " * 4 + "CPU us/call: " + ", ".join(f"{k} {v:.0f}" for k, v in row.cpu_us_per_call.items()) + redis)
    return ratio


HEADER = f"{'mode':<22}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'ratio':>8}"


async def rest_case(cluster: BenchCluster, args: argparse.Namespace) -> None:
    """A REST tool: the backend directly (wrk, GET) against tools/call through the gateway."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        # name -> consumer key; which run in the 2026-07-28 era too.
        servers: dict[str, str] = {}
        modern_too: set[str] = set()
        if args.statistics in ("off", "both"):
            servers["bench"] = ""
            modern_too.add("bench")
            await cluster.add_server(http, "bench", mcpStatisticsEnable=False)
        if args.statistics in ("on", "both"):
            servers["bench-stats"] = ""
            await cluster.add_server(http, "bench-stats", mcpStatisticsEnable=True)
            if args.statistics == "on":
                modern_too.add("bench-stats")
        if args.auth:
            auth_id = await cluster.add_server(http, "bench-auth", consumerAuthInfo={"enable": True})
            consumer = await admin(http, "POST", f"{cluster.admin_url}/v1/consumers", json={
                "name": "bench", "apikeyIdentityConfig": {"type": "Apikey", "apikeySource": {"source": "Default"},
                                                          "credentials": [{"generateMode": "System"}]}})
            servers["bench-auth"] = consumer["data"]["apikeyIdentityConfig"]["credentials"][0]["apikey"]
            modern_too.add("bench-auth")
            # With consumer auth on, a consumer needs a grant on the server (server level here).
            await admin(http, "POST", f"{cluster.admin_url}/v1/authorization-rules", json={"authorizationRules": [{
                "consumerId": consumer["data"]["consumerId"], "resourceType": "MCP",
                "resourceIdentifier": {"resourceId": auth_id}, "expireMode": "LongTerm"}]})
        sessions = {name: await cluster.initialize(http, "gateway", name, key) for name, key in servers.items()}

    async def gateway(name: str, connections: int, duration: int) -> Run:
        return await cluster.measured(functools.partial(
            cluster.tools_call, name, "gateway", name, sessions[name], connections, duration, servers[name]),
            duration)

    async def modern(name: str, connections: int, duration: int) -> Run:
        """The same call in MCP 2026-07-28 (no session), next to the handshake era's."""
        return await cluster.measured(functools.partial(
            cluster.tools_call_modern, f"{name} 2026", "gateway", name, connections, duration, servers[name]),
            duration)

    # Warm every cache and connection pool before measuring.
    await asyncio.to_thread(cluster.direct, 8, 1)
    for name in servers:
        await gateway(name, 8, 2)
        if name in modern_too:
            await modern(name, 8, 2)
    if args.profile:
        # The first server: statistics off unless `--statistics on`.
        first = next(iter(servers))
        load = (lambda: modern(first, 64, 6)) if args.era == "2026" else (lambda: gateway(first, 64, 6))
        await profile(args.profile, cluster, load, ("gateway", "toolexec"))
        return

    print(f"\nREST tool: the backend directly vs tools/call through mcpgw; {args.rounds} rounds x "
          f"{args.duration}s per run, wrk -t1, {os.cpu_count()} CPUs\n")
    print(HEADER)
    summary: dict[str, list[float]] = {}
    p50s: dict[str, list[float]] = {}
    cpus: dict[str, list[dict[str, float]]] = {}
    for connections in (1, 64):
        for rnd in range(args.rounds):
            direct = await cluster.measured(functools.partial(cluster.direct, connections, args.duration),
                                            args.duration)
            rows = [direct]
            for name in servers:
                rows.append(await gateway(name, connections, args.duration))
                if name in modern_too:
                    rows.append(await modern(name, connections, args.duration))
            for row in rows:
                ratio = print_row(row, direct, connections, rnd)
                key = f"{row.label} c={connections}"
                if row is not direct:
                    summary.setdefault(key, []).append(ratio)
                    cpus.setdefault(key, []).append(row.cpu_us_per_call or {})
                p50s.setdefault(key, []).append(row.p50_ms)
    print("\nmedian ratio gateway/direct (throughput), median p50, median CPU us per call per process:")
    for key, ratios in summary.items():
        print(f"  {key:<20} ratio {statistics.median(ratios):.3f}   p50 {statistics.median(p50s[key]):.2f} ms   "
              f"CPU us/call {median_cpu(cpus[key])}")
    for key in ("direct c=1", "direct c=64"):
        print(f"  {key:<20} p50 {statistics.median(p50s[key]):.2f} ms")


def median_cpu(runs: Sequence[dict[str, float]]) -> str:
    """Each process's median CPU per call over `runs` (the gateway's own processes first)."""
    names = [n for n in ("gateway", "toolexec", "nats", "redis", "auth", "backend") if any(n in r for r in runs)]
    return ", ".join(f"{n} {statistics.median(r.get(n, 0.0) for r in runs):.0f}" for n in names)


async def hosted_case(cluster: BenchCluster, args: argparse.Namespace) -> None:
    """An MCP tool on an upstream MCP server (official SDK): called directly, and through the gateway
    as a hosted server, by the same client (wrk on a session initialized once per target)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        await cluster.add_hosted(http, "bench-hosted")
        direct_session = await mcp_session(http, cluster.upstream_url)
        hosted_session = await cluster.initialize(http, "gateway", "bench-hosted")
    hosted_url = cluster.server_url("gateway", "bench-hosted")

    async def direct(connections: int, duration: int) -> Run:
        return await cluster.measured(functools.partial(
            cluster.mcp_call, "upstream", cluster.upstream_url, direct_session, connections, duration), duration)

    async def hosted(connections: int, duration: int) -> Run:
        return await cluster.measured(functools.partial(
            cluster.mcp_call, "hosted", hosted_url, hosted_session, connections, duration), duration)

    await direct(8, 1)
    await hosted(8, 2)
    if args.profile:
        await profile(args.profile, cluster, lambda: hosted(64, 6), ("gateway", "hosting", "upstream"))
        return

    print(f"\nHosted MCP tool ({HOSTED_TOOL}): the SDK upstream directly vs through mcpgw; {args.rounds} rounds x "
          f"{args.duration}s per run, wrk -t1, {os.cpu_count()} CPUs\n")
    print(HEADER)
    ratios: dict[int, list[float]] = {}
    p50s: dict[tuple[str, int], list[float]] = {}
    overheads: list[float] = []
    for connections in (1, 64):
        for rnd in range(args.rounds):
            base = await direct(connections, args.duration)
            relayed = await hosted(connections, args.duration)
            print_row(base, base, connections, rnd)
            ratios.setdefault(connections, []).append(print_row(relayed, base, connections, rnd))
            for row in (base, relayed):
                p50s.setdefault((row.label, connections), []).append(row.p50_ms)
            if connections == 1:
                overheads.append(relayed.p50_ms - base.p50_ms)
    print("\nmedians:")
    for connections in (1, 64):
        print(f"  c={connections:<3} ratio hosted/upstream {statistics.median(ratios[connections]):.3f}   "
              f"p50 upstream {statistics.median(p50s['upstream', connections]):.2f} ms, "
              f"hosted {statistics.median(p50s['hosted', connections]):.2f} ms")
    print(f"  sequential p50 overhead (hosted - upstream, per pair): {statistics.median(overheads):.2f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--case", choices=("rest", "hosted", "both"), default="both",
                        help="a REST tool, a hosted MCP server's tool, or both (default)")
    parser.add_argument("--auth", action="store_true", help="also measure with consumer auth switched on (REST)")
    parser.add_argument("--statistics", choices=("off", "on", "both"), default="both",
                        help="REST: the gateway call on a server with mcpStatisticsEnable false, true, or both "
                             "interleaved in the same rounds (default)")
    parser.add_argument("--era", choices=("handshake", "2026"), default="handshake",
                        help="with --profile --case rest: profile the handshake-era call or the 2026-07-28 one")
    parser.add_argument("--profile", metavar="DIR",
                        help="record py-spy flame graphs (edge and toolexec; edge, hosting and the upstream "
                             "with --case hosted)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    if args.profile and args.case == "both":
        args.case = "rest"

    cluster = BenchCluster(tempfile.mkdtemp(prefix="mcpgw-bench-"))
    try:
        await cluster.start(hosted=args.case != "rest")
        if args.case in ("rest", "both"):
            await rest_case(cluster, args)
        if args.case in ("hosted", "both"):
            await hosted_case(cluster, args)
    finally:
        await cluster.stop()
        shutil.rmtree(cluster.workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
