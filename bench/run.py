"""Benchmark: the same backend operation called directly and as an MCP tools/call through mcpgw.

The whole cluster runs as separate processes (nats-server, redis-server, registry, auth,
toolexec, edge) exactly as `make up` runs it. wrk (one thread, little CPU) drives the load.
Direct and gateway runs are interleaved (direct, gateway, direct, gateway …) so that drift of
the machine cancels out; the ratio gateway/direct is reported per pair and as the median.

    python bench/run.py [--rounds 3] [--duration 5] [--auth]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from mcpgw.devcluster import Proc, free_port, spawn, start_nats, start_redis, start_service

HERE = Path(__file__).resolve().parent
TOOLS_YAML = """\
server:
  name: bench
  config:
    baseUrl: {base}
tools:
- name: get_item
  description: Fetch one item
  args:
  - name: id
    type: integer
    required: true
    position: path
  requestTemplate:
    url: "{{{{.config.baseUrl}}}}/items/{{id}}"
    method: GET
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us_per_call: dict[str, float] | None = None


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(label: str, url: str, connections: int, duration: int, env: dict[str, str],
        script: str | None = None) -> Run:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script:
        argv += ["-s", script]
    out = subprocess.run([*argv, url], capture_output=True, text=True, env={**os.environ, **env},
                         timeout=duration + 30, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    if m := re.search(r"bench-failures (\d+)", out):
        errors += int(m.group(1))
    return Run(label, rps, p50, p99, errors)


ADMIN_TOKEN = secrets.token_urlsafe(32)


async def admin(http: aiohttp.ClientSession, method: str, url: str, *, headers: dict[str, str] | None = None,
                **kw: object) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **(headers or {})}
    async with http.request(method, url, headers=headers, **kw) as resp:  # type: ignore[arg-type]
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"{method} {url}: {resp.status} {body}")
        return body  # type: ignore[no-any-return]


async def profile(out: str, procs: list[Proc], load: Callable[[], Awaitable[Run]]) -> None:
    """Record where edge and toolexec spend their CPU under load (py-spy, from PyPI)."""
    os.makedirs(out, exist_ok=True)
    # The venv's own (scripts/bootstrap.sh bench installs it there), else one on PATH.
    beside = Path(sys.executable).with_name("py-spy")
    spy_bin = str(beside) if beside.exists() else shutil.which("py-spy")
    if spy_bin is None:
        sys.exit("py-spy not found: pip install py-spy")
    spies = [await asyncio.create_subprocess_exec(
        spy_bin, "record", "-d", "5", "-r", "200", "-f", "speedscope", "-o", os.path.join(out, f"{p.name}.json"),
        "-p", str(p.proc.pid), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for p in procs if p.name in ("edge", "toolexec")]
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

    procs = []
    workdir = tempfile.mkdtemp(prefix="mcpgw-bench-")
    try:
        nats_port, redis_port = free_port(), free_port()
        procs.append(await start_nats(nats_port, os.path.join(workdir, "js")))
        procs.append(await start_redis(redis_port, workdir=workdir))
        edge_port, admin_port, backend_port = free_port(), free_port(), free_port()
        env = {
            "MCPGW_NATS_URL": f"nats://127.0.0.1:{nats_port}",
            "MCPGW_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "MCPGW_EDGE_PORT": str(edge_port),
            "MCPGW_REGISTRY_PORT": str(admin_port),
            "MCPGW_LOG_LEVEL": "WARNING",
            "MCPGW_ADMIN_TOKEN": ADMIN_TOKEN,
            "OTEL_SDK_DISABLED": os.environ.get("OTEL_SDK_DISABLED", "false"),
        }
        for module in ("mcpgw_registry", "mcpgw_auth", "mcpgw_toolexec", "mcpgw_edge"):
            procs.append(await start_service(module, env))
        backend = await spawn("backend", [sys.executable, str(HERE / "backend.py"), str(backend_port)])
        procs.append(backend)
        await backend.wait_for("bench-backend ready")
        base = f"http://127.0.0.1:{backend_port}"
        admin_url = f"http://127.0.0.1:{admin_port}"
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            servers = {"bench": ""}
            created = await admin(http, "POST", f"{admin_url}/v1/mcp-servers", json={"name": "bench"})
            server_id = created["data"]["mcpServerId"]  # type: ignore[index]
            await admin(http, "PUT", f"{admin_url}/v1/mcp-servers/{server_id}/tools",
                        data=TOOLS_YAML.format(base=base), headers={"Content-Type": "application/yaml"})
            if args.auth:
                created = await admin(http, "POST", f"{admin_url}/v1/mcp-servers",
                                      json={"name": "bench-auth", "consumerAuthInfo": {"enable": True}})
                auth_id = created["data"]["mcpServerId"]  # type: ignore[index]
                await admin(http, "PUT", f"{admin_url}/v1/mcp-servers/{auth_id}/tools",
                            data=TOOLS_YAML.format(base=base), headers={"Content-Type": "application/yaml"})
                consumer = await admin(http, "POST", f"{admin_url}/v1/consumers", json={
                    "name": "bench", "apikeyIdentityConfig": {"type": "Apikey", "apikeySource": {"source": "Default"},
                                                              "credentials": [{"generateMode": "System"}]}})
                servers["bench-auth"] = consumer["data"]["apikeyIdentityConfig"]["credentials"][0]["apikey"]  # type: ignore[index]
                # With consumer auth on, a consumer needs a grant on the server (server level here).
                await admin(http, "POST", f"{admin_url}/v1/authorization-rules", json={"authorizationRules": [{
                    "consumerId": consumer["data"]["consumerId"], "resourceType": "MCP",  # type: ignore[index]
                    "resourceIdentifier": {"resourceId": auth_id}, "expireMode": "LongTerm"}]})
            sessions = {}
            for name, key in servers.items():
                headers = {"Accept": "application/json, text/event-stream"}
                if key:
                    headers["Authorization"] = f"Bearer {key}"
                async with http.post(f"http://127.0.0.1:{edge_port}/mcp-servers/{name}", headers=headers, json={
                        "jsonrpc": "2.0", "id": 0, "method": "initialize",
                        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                   "clientInfo": {"name": "bench", "version": "1"}}}) as resp:
                    assert resp.status == 200, await resp.text()
                    sessions[name] = resp.headers["Mcp-Session-Id"]

        direct_url = f"{base}/items/1"
        script = str(HERE / "tools_call.lua")

        watched = {p.name: p.proc.pid for p in procs}

        async def measured(run_it: Callable[[], Run], duration: int) -> Run:
            before = {k: cpu_seconds(pid) for k, pid in watched.items()}
            # In a thread: the children's output keeps being read while wrk runs.
            run = await asyncio.to_thread(run_it)
            used = {k: cpu_seconds(pid) - before[k] for k, pid in watched.items()}
            calls = run.rps * duration
            if calls:
                run.cpu_us_per_call = {k: v / calls * 1e6 for k, v in used.items() if v > 0}
            return run

        async def gateway(name: str, connections: int, duration: int) -> Run:
            return await measured(lambda: gateway_run(name, connections, duration), duration)

        def gateway_run(name: str, connections: int, duration: int) -> Run:
            return wrk(name, f"http://127.0.0.1:{edge_port}/mcp-servers/{name}", connections, duration,
                       {"MCPGW_BENCH_SESSION": sessions[name], "MCPGW_BENCH_TOOL": "get_item",
                        "MCPGW_BENCH_AUTH": servers[name]}, script)

        # Warm every cache and connection pool before measuring.
        await asyncio.to_thread(wrk, "warm", direct_url, 8, 1, {})
        for name in servers:
            await gateway(name, 8, 2)
        if args.profile:
            await profile(args.profile, procs, lambda: gateway("bench", 64, 6))
            return

        print(f"\nmcpgw benchmark: {args.rounds} rounds x {args.duration}s per run, wrk -t1, "
              f"{os.cpu_count()} CPUs\n")
        print(f"{'mode':<22}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'ratio':>8}")
        summary: dict[str, list[float]] = {}
        p50s: dict[str, list[float]] = {}
        for connections in (1, 64):
            for rnd in range(args.rounds):
                direct = await measured(
                    functools.partial(wrk, "direct", direct_url, connections, args.duration, {}), args.duration)
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
        for proc in reversed(procs):
            await proc.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
