"""Benchmark: the same backend operation called directly and as an MCP tools/call through mcpgw.

Direct and gateway runs are interleaved (direct, gateway, direct, gateway …) so that drift of
the machine cancels out; the ratio gateway/direct is reported per pair and as the median, with
the CPU each process spent per call.

    python bench/run.py [--rounds 3] [--duration 5] [--auth] [--profile DIR]
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
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from harness import BenchCluster, Run, admin


async def profile(out: str, cluster: BenchCluster, load: Callable[[], Awaitable[Run]]) -> None:
    """Record where edge and toolexec spend their CPU under load (py-spy, from PyPI)."""
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
        for p in cluster.procs if p.name in ("gateway", "toolexec")]
    print(await load())
    for spy in spies:
        await asyncio.wait_for(spy.wait(), 60)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--auth", action="store_true", help="also measure with consumer auth switched on")
    parser.add_argument("--profile", metavar="DIR", help="record py-spy flame graphs of edge and toolexec")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")

    cluster = BenchCluster(tempfile.mkdtemp(prefix="mcpgw-bench-"))
    try:
        await cluster.start()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            servers = {"bench": ""}
            await cluster.add_server(http, "bench")
            if args.auth:
                auth_id = await cluster.add_server(http, "bench-auth", consumerAuthInfo={"enable": True})
                consumer = await admin(http, "POST", f"{cluster.admin_url}/v1/consumers", json={
                    "name": "bench", "apikeyIdentityConfig": {"type": "Apikey", "apikeySource": {"source": "Default"},
                                                              "credentials": [{"generateMode": "System"}]}})
                servers["bench-auth"] = consumer["data"]["apikeyIdentityConfig"]["credentials"][0]["apikey"]
                # With consumer auth on, a consumer needs a grant on the server (server level here).
                await admin(http, "POST", f"{cluster.admin_url}/v1/authorization-rules", json={"authorizationRules": [{
                    "consumerId": consumer["data"]["consumerId"], "resourceType": "MCP",
                    "resourceIdentifier": {"resourceId": auth_id}, "expireMode": "LongTerm"}]})
            sessions = {name: await cluster.initialize(http, "gateway", name, key) for name, key in servers.items()}

        async def gateway(name: str, connections: int, duration: int) -> Run:
            return await cluster.measured(functools.partial(
                cluster.tools_call, name, "gateway", name, sessions[name], connections, duration, servers[name]),
                duration)

        # Warm every cache and connection pool before measuring.
        await asyncio.to_thread(cluster.direct, 8, 1)
        for name in servers:
            await gateway(name, 8, 2)
        if args.profile:
            await profile(args.profile, cluster, lambda: gateway("bench", 64, 6))
            return

        print(f"\nmcpgw benchmark: {args.rounds} rounds x {args.duration}s per run, wrk -t1, "
              f"{os.cpu_count()} CPUs\n")
        print(f"{'mode':<22}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'ratio':>8}")
        summary: dict[str, list[float]] = {}
        p50s: dict[str, list[float]] = {}
        for connections in (1, 64):
            for rnd in range(args.rounds):
                direct = await cluster.measured(functools.partial(cluster.direct, connections, args.duration),
                                                args.duration)
                rows = [direct]
                for name in servers:
                    rows.append(await gateway(name, connections, args.duration))
                for row in rows:
                    ratio = row.rps / direct.rps if direct.rps else 0.0
                    label = f"{row.label} c={connections} #{rnd + 1}"
                    print(f"{label:<22}{row.rps:>10.0f}{row.p50_ms:>9.2f}{row.p99_ms:>9.2f}{row.errors:>8}"
                          f"{ratio:>8.3f}")
                    if row.cpu_us_per_call:
                        print(" " * 4 + "CPU us/call: " + ", ".join(
                            f"{k} {v:.0f}" for k, v in row.cpu_us_per_call.items()))
                    if row is not direct:
                        summary.setdefault(f"{row.label} c={connections}", []).append(ratio)
                    p50s.setdefault(f"{row.label} c={connections}", []).append(row.p50_ms)
        print("\nmedian ratio gateway/direct (throughput), median p50:")
        for key, ratios in summary.items():
            print(f"  {key:<20} ratio {statistics.median(ratios):.3f}   p50 {statistics.median(p50s[key]):.2f} ms")
        for key in ("direct c=1", "direct c=64"):
            print(f"  {key:<20} p50 {statistics.median(p50s[key]):.2f} ms")
    finally:
        await cluster.stop()
        shutil.rmtree(cluster.workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
