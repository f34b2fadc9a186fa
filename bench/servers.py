"""Which HTTP server should carry the edge? The real tools/call path behind each, in one run.

    python bench/servers.py [--rounds 3] [--duration 5] [--servers granian-rsgi,uvicorn,...]

One cluster (nats, redis, registry, auth, toolexec, backend) and one edge process per server
(bench/edge_servers.py), all at once; wrk drives the same tools/call through each edge in turn,
interleaved with the backend called directly, the edge order rotated every round. Reported per
server: median calls/s, ratio to direct, p50/p99, and the CPU per call of the edge process (all
its threads, Rust ones included), of toolexec and of nats-server.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import statistics
import sys
import tempfile

import aiohttp
from edge_servers import SERVERS
from harness import HERE, BenchCluster, Run


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--connections", default="64,1")
    args = parser.parse_args()
    kinds = args.servers.split(",")
    cluster = BenchCluster(tempfile.mkdtemp(prefix="mcpgw-bench-"))
    try:
        await cluster.start([(kind, [sys.executable, str(HERE / "edge_servers.py"), kind]) for kind in kinds])
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await cluster.add_server(http, "bench")
            sessions = {kind: await cluster.initialize(http, kind, "bench") for kind in kinds}

        async def through(kind: str, connections: int, duration: int) -> Run:
            return await cluster.measured(functools.partial(
                cluster.tools_call, kind, kind, "bench", sessions[kind], connections, duration), duration,
                watch=(kind, "toolexec", "nats"))

        await asyncio.to_thread(cluster.direct, 8, 1)
        for kind in kinds:
            await through(kind, 8, 2)
        print(f"\nHTTP servers under the edge: {args.rounds} rounds x {args.duration}s, wrk -t1, "
              f"{os.cpu_count()} CPUs\n")
        rows: dict[tuple[str, int], list[tuple[Run, float]]] = {}
        for connections in (int(c) for c in args.connections.split(",")):
            for rnd in range(args.rounds):
                direct = await asyncio.to_thread(cluster.direct, connections, args.duration)
                order = kinds[rnd % len(kinds):] + kinds[:rnd % len(kinds)]
                for kind in order:
                    run = await through(kind, connections, args.duration)
                    ratio = run.rps / direct.rps if direct.rps else 0.0
                    rows.setdefault((kind, connections), []).append((run, ratio))
                    cpu = run.cpu_us_per_call or {}
                    print(f"  c={connections:<3} #{rnd + 1} {kind:<17} {run.rps:>8.0f}/s ratio {ratio:.3f} "
                          f"p50 {run.p50_ms:.2f} p99 {run.p99_ms:.2f} ms errors {run.errors}  CPU us/call: "
                          + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items()))
        print("\n| server | in flight | calls/s | ratio to direct | p50 ms | p99 ms | edge CPU us/call "
              "| toolexec | nats |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for (kind, connections), results in rows.items():
            def med(values: list[float]) -> float:
                return statistics.median(values)
            cpus = [r.cpu_us_per_call or {} for r, _ in results]
            print(f"| {kind} | {connections} | {med([r.rps for r, _ in results]):.0f} "
                  f"| {med([q for _, q in results]):.3f} | {med([r.p50_ms for r, _ in results]):.2f} "
                  f"| {med([r.p99_ms for r, _ in results]):.2f} | {med([c.get(kind, 0) for c in cpus]):.0f} "
                  f"| {med([c.get('toolexec', 0) for c in cpus]):.0f} | {med([c.get('nats', 0) for c in cpus]):.0f} |")
    finally:
        await cluster.stop()
        shutil.rmtree(cluster.workdir, ignore_errors=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
