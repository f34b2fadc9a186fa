"""What the benchmarks share: the cluster as separate processes, wrk runs, CPU accounting.

The whole cluster runs exactly as `make up` runs it (nats-server, redis-server, registry, auth,
toolexec, edge, and hosting when asked), with a trivial aiohttp backend and, for hosted servers, an
upstream MCP server on the official SDK (`demo/mcp_server.py`, its `shout` tool); wrk (one thread,
little CPU) drives the load.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from mcpgw.devcluster import Proc, free_port, spawn, spawn_ready, start_nats, start_redis, start_service

HERE = Path(__file__).resolve().parent
SCRIPT = str(HERE / "tools_call.lua")
# tools/call with a JSON-RPC id of its own per request: for MCP servers, direct or through the gateway.
MCP_SCRIPT = str(HERE / "mcp_call.lua")
MODERN_SCRIPT = str(HERE / "tools_call_modern.lua")
UPSTREAM = str(HERE.parent / "demo" / "mcp_server.py")
UPSTREAM_READY = r"demo-mcp ready on \S+"
# The hosted benchmark's tool: trivial (no sleep, no notifications), so the cost measured is the relay's.
HOSTED_TOOL = "shout"
HOSTED_ARGS = '{"text":"hi"}'
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
ADMIN_TOKEN = secrets.token_urlsafe(32)
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
    """User + system CPU time of a process (all its threads) so far (Linux /proc)."""
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
    # Commands Redis processed per call during the run (statistics flushes included): near 0 when
    # no call waits on Redis.
    redis_per_call: float | None = None


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(label: str, url: str, connections: int, duration: int, env: Mapping[str, str],
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


async def admin(http: aiohttp.ClientSession, method: str, url: str, *, headers: dict[str, str] | None = None,
                **kw: object) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **(headers or {})}
    async with http.request(method, url, headers=headers, **kw) as resp:  # type: ignore[arg-type]
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"{method} {url}: {resp.status} {body}")
        return body  # type: ignore[no-any-return]


async def mcp_session(http: aiohttp.ClientSession, url: str, key: str = "") -> str:
    """An initialized Streamable HTTP session at `url` (initialize, then notifications/initialized); its id."""
    headers = dict(MCP_HEADERS)
    if key:
        headers["Authorization"] = f"Bearer {key}"
    async with http.post(url, headers=headers, json={
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "bench", "version": "1"}}}) as resp:
        assert resp.status == 200, await resp.text()
        await resp.read()
        session = resp.headers["Mcp-Session-Id"]
    headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"})
    async with http.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}) as resp:
        assert resp.status == 202, await resp.text()
    return session


@dataclass
class BenchCluster:
    """The processes of one benchmark run, and what the wrk runs need to reach them."""

    workdir: str
    env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)
    admin_url: str = ""
    backend_url: str = ""
    upstream_url: str = ""  # the upstream MCP server's Streamable HTTP endpoint (hosted only)
    edges: dict[str, int] = field(default_factory=dict)  # label -> port

    async def start(self, edges: Sequence[tuple[str, Sequence[str] | None]] = (("gateway", None),),
                    hosted: bool = False) -> None:
        """nats, redis, registry, auth, toolexec (and hosting with the upstream MCP server when
        `hosted`), the backend, then each edge: (label, argv or None for `python -m mcpgw_edge`)."""
        nats_port, redis_port = free_port(), free_port()
        self.procs.append(await start_nats(nats_port, os.path.join(self.workdir, "js")))
        self.procs.append(await start_redis(redis_port, workdir=self.workdir))
        admin_port, backend_port = free_port(), free_port()
        self.env = {
            "MCPGW_NATS_URL": f"nats://127.0.0.1:{nats_port}",
            "MCPGW_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "MCPGW_REGISTRY_PORT": str(admin_port),
            "MCPGW_LOG_LEVEL": "WARNING",
            "MCPGW_ADMIN_TOKEN": ADMIN_TOKEN,
            "OTEL_SDK_DISABLED": os.environ.get("OTEL_SDK_DISABLED", "false"),
        }
        modules = ("mcpgw_registry", "mcpgw_auth", "mcpgw_toolexec") + (("mcpgw_hosting",) if hosted else ())
        for module in modules:
            self.procs.append(await start_service(module, self.env))
        if hosted:
            upstream = await spawn_ready("upstream", [sys.executable, UPSTREAM, "--port", "0"], UPSTREAM_READY,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
            self.procs.append(upstream)
            self.upstream_url = (await upstream.wait_for(UPSTREAM_READY)).split()[-1]
        for label, argv in edges:
            port = free_port()
            env = {**self.env, "MCPGW_EDGE_PORT": str(port)}
            if argv is None:
                self.procs.append(await start_service("mcpgw_edge", env, name=label))
            else:
                self.procs.append(await spawn_ready(label, argv, r"mcpgw-edge ready", env={**os.environ, **env}))
            self.edges[label] = port
        backend = await spawn("backend", [sys.executable, str(HERE / "backend.py"), str(backend_port)])
        self.procs.append(backend)
        await backend.wait_for("bench-backend ready")
        self.admin_url = f"http://127.0.0.1:{admin_port}"
        self.backend_url = f"http://127.0.0.1:{backend_port}"

    async def add_server(self, http: aiohttp.ClientSession, name: str, **fields: Any) -> str:
        created = await admin(http, "POST", f"{self.admin_url}/v1/mcp-servers", json={"name": name, **fields})
        server_id: str = created["data"]["mcpServerId"]
        await admin(http, "PUT", f"{self.admin_url}/v1/mcp-servers/{server_id}/tools",
                    data=TOOLS_YAML.format(base=self.backend_url), headers={"Content-Type": "application/yaml"})
        return server_id

    async def add_hosted(self, http: aiohttp.ClientSession, name: str) -> str:
        """A hosted server (Streamable HTTP) for the upstream MCP server, its service created first."""
        origin, _, path = self.upstream_url.partition("://")[2].partition("/")
        created = await admin(http, "POST", f"{self.admin_url}/v1/services", json={
            "sourceType": "VIP", "serviceConfigs": [{"name": f"{name}-upstream", "addresses": [origin]}]})
        service_id = created["data"]["serviceIds"][0]
        created = await admin(http, "POST", f"{self.admin_url}/v1/mcp-servers", json={
            "name": name, "type": "RealMCP", "createFromType": "ApiGatewayMcpHosting", "protocol": "StreamableHTTP",
            "exposedUriPath": "/" + path,
            "backendConfig": {"scene": "SingleService", "services": [{"serviceId": service_id, "weight": 100}]}})
        server_id: str = created["data"]["mcpServerId"]
        return server_id

    def server_url(self, edge: str, server: str) -> str:
        return f"http://127.0.0.1:{self.edges[edge]}/mcp-servers/{server}"

    async def initialize(self, http: aiohttp.ClientSession, edge: str, server: str, key: str = "") -> str:
        """A Streamable HTTP session on `server` through `edge`; its id."""
        return await mcp_session(http, self.server_url(edge, server), key)

    def tools_call(self, label: str, edge: str, server: str, session: str, connections: int, duration: int,
                   key: str = "") -> Run:
        return wrk(label, self.server_url(edge, server), connections, duration,
                   {"MCPGW_BENCH_SESSION": session, "MCPGW_BENCH_TOOL": "get_item", "MCPGW_BENCH_AUTH": key},
                   SCRIPT)

    def tools_call_modern(self, label: str, edge: str, server: str, connections: int, duration: int,
                          key: str = "") -> Run:
        """The same tool call in MCP 2026-07-28: no session (nothing for the edge to look up)."""
        return wrk(label, self.server_url(edge, server), connections, duration,
                   {"MCPGW_BENCH_TOOL": "get_item", "MCPGW_BENCH_AUTH": key}, MODERN_SCRIPT)

    def mcp_call(self, label: str, url: str, session: str, connections: int, duration: int) -> Run:
        """The hosted benchmark's tools/call on an MCP endpoint (the upstream itself, or the gateway)."""
        return wrk(label, url, connections, duration,
                   {"MCPGW_BENCH_SESSION": session, "MCPGW_BENCH_TOOL": HOSTED_TOOL, "MCPGW_BENCH_ARGS": HOSTED_ARGS},
                   MCP_SCRIPT)

    def direct(self, connections: int, duration: int) -> Run:
        return wrk("direct", f"{self.backend_url}/items/1", connections, duration, {})

    async def measured(self, run_it: Callable[[], Run], duration: int, watch: Sequence[str] | None = None) -> Run:
        """`run_it` in a thread (the children's output keeps being read), with each process's CPU per call."""
        watched = {p.name: p.proc.pid for p in self.procs if watch is None or p.name in watch}
        commands = await self.redis_commands()
        before = {k: cpu_seconds(pid) for k, pid in watched.items()}
        run = await asyncio.to_thread(run_it)
        used = {k: cpu_seconds(pid) - before[k] for k, pid in watched.items()}
        calls = run.rps * duration
        if calls:
            run.cpu_us_per_call = {k: v / calls * 1e6 for k, v in used.items() if v > 0}
            # Minus the two INFO commands of this count itself.
            run.redis_per_call = max(0, await self.redis_commands() - commands - 1) / calls
        return run

    async def redis_commands(self) -> int:
        """Commands the cluster's redis-server has processed so far."""
        client = aioredis.from_url(self.env["MCPGW_REDIS_URL"])
        try:
            info = await client.info("stats")
        finally:
            await client.aclose()
        return int(info["total_commands_processed"])

    async def stop(self) -> None:
        for proc in reversed(self.procs):
            await proc.stop()
