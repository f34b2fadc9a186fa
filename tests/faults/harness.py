"""A cluster of real processes to break: its own nats-server and redis-server, every service a
`python -m` process (two toolexec, two edges), killed with SIGKILL and started again as an
operator's supervisor would; a backend that answers in 0.3 s; MCP sessions that call it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from mcpgw.devcluster import Proc, free_port, start_nats, start_redis, start_service

ADMIN_TOKEN = "faults-admin-token-0123456789abcdef"
BACKEND_DELAY = 0.3
# A call not answered within this long counts as hung (the gateway's own bounds are shorter).
HUNG_AFTER = 8.0
# The edge's bound on one call, well above what any case needs: a call that waits it out is a defect.
TOOL_CALL_TIMEOUT = 20.0
# How long a tool's backend may take before toolexec gives up (the hanging backend's case).
BACKEND_TIMEOUT = 2.0

TOOLS_YAML = """\
server:
  name: faults
  config:
    baseUrl: {base}
tools:
- name: read_item
  description: A GET (safe to repeat)
  args:
  - {{name: id, type: integer, required: true, position: path}}
  requestTemplate: {{url: "{{{{.config.baseUrl}}}}/items/{{id}}", method: GET}}
- name: write_item
  description: A POST (never repeated)
  args:
  - {{name: id, type: integer, required: true, position: body}}
  requestTemplate: {{url: "{{{{.config.baseUrl}}}}/items", method: POST}}
- name: hang
  description: A backend that never answers
  requestTemplate: {{url: "{{{{.config.baseUrl}}}}/hang", method: GET}}
- name: reset
  description: A backend that resets the connection
  requestTemplate: {{url: "http://127.0.0.1:{raw_port}/reset", method: GET}}
- name: garbage
  description: A backend that answers something that is not HTTP
  requestTemplate: {{url: "http://127.0.0.1:{raw_port}/garbage", method: GET}}
"""


@dataclass
class FaultBackend:
    url: str = ""
    raw_port: int = 0
    # Set when the backend stops: its hanging requests end, so that it stops at once.
    release: asyncio.Event = field(default_factory=asyncio.Event)


def _backend_app(backend: FaultBackend) -> web.Application:
    async def read(request: web.Request) -> web.Response:
        await asyncio.sleep(BACKEND_DELAY)
        return web.json_response({"id": int(request.match_info["id"]), "read": True})

    async def write(request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(BACKEND_DELAY)
        return web.json_response({"id": body.get("id"), "written": True})

    async def hang(request: web.Request) -> web.Response:
        await backend.release.wait()
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/items/{id}", read)
    app.router.add_post("/items", write)
    app.router.add_get("/hang", hang)
    return app


async def _raw(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads a request line, then resets the connection or answers bytes that are not HTTP."""
    line = await reader.readline()
    if b"/garbage" in line:
        writer.write(b"\x00\x01 this is not HTTP at all \xff\r\n\r\n")
        await writer.drain()
    transport = writer.transport
    transport.abort()  # an RST for /reset, a cut after the garbage otherwise


@contextlib.asynccontextmanager
async def fault_backend() -> Any:
    backend = FaultBackend()
    runner = web.AppRunner(_backend_app(backend), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    raw = await asyncio.start_server(_raw, "127.0.0.1", 0)
    backend.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    backend.raw_port = raw.sockets[0].getsockname()[1]
    try:
        yield backend
    finally:
        backend.release.set()
        raw.close()
        await runner.cleanup()


@dataclass
class RealCluster:
    workdir: Path
    nats_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    registry_port: int = field(default_factory=free_port)
    edge_ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    procs: dict[str, Proc] = field(default_factory=dict)
    # Every process that ran, killed ones too: their output is checked for tracebacks.
    ran: list[Proc] = field(default_factory=list)

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}"

    def mcp_url(self, edge: int, server: str = "faults") -> str:
        return f"http://127.0.0.1:{self.edge_ports[edge]}/mcp-servers/{server}"

    def _env(self) -> dict[str, str]:
        return {
            "MCPGW_NATS_URL": f"nats://127.0.0.1:{self.nats_port}",
            "MCPGW_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "MCPGW_SUBJECT_ROOT": "faults",
            "MCPGW_LOG_LEVEL": "WARNING",
            "MCPGW_REGISTRY_PORT": str(self.registry_port),
            "MCPGW_REGISTRY_ADMIN_TOKEN": ADMIN_TOKEN,
            "MCPGW_EDGE_TOOL_CALL_TIMEOUT": str(TOOL_CALL_TIMEOUT),
            "MCPGW_TOOLEXEC_BACKEND_TIMEOUT": str(BACKEND_TIMEOUT),
        }

    async def _start(self, name: str) -> None:
        if name == "nats":
            store = self.workdir / "nats"
            store.mkdir(exist_ok=True)
            proc = await start_nats(self.nats_port, str(store))
        elif name == "redis":
            store = self.workdir / "redis"
            store.mkdir(exist_ok=True)
            proc = await start_redis(self.redis_port, workdir=str(store))
        else:
            kind, _, index = name.partition("-")
            env = self._env()
            if kind == "edge":
                env["MCPGW_EDGE_PORT"] = str(self.edge_ports[int(index) - 1])
            proc = await start_service(f"mcpgw_{kind}", env, name=name)
        self.procs[name] = proc
        self.ran.append(proc)

    async def start(self) -> None:
        await asyncio.gather(self._start("nats"), self._start("redis"))
        # All at once: none needs another to start, only NATS and Redis.
        await asyncio.gather(*(self._start(name) for name in (
            "registry", "auth", "toolexec-1", "toolexec-2", "edge-1", "edge-2")))

    async def kill(self, name: str) -> None:
        """SIGKILL, as the OOM killer or a crash would."""
        proc = self.procs.pop(name)
        proc.proc.kill()
        await proc.stop()

    async def restart(self, name: str) -> None:
        await self._start(name)

    async def stop(self) -> None:
        for name in ("edge-1", "edge-2", "toolexec-1", "toolexec-2", "auth", "registry", "redis", "nats"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                await proc.stop()

    def tracebacks(self) -> list[str]:
        return [f"{proc.name}: {line}" for proc in self.ran for line in proc.lines if "Traceback" in line]

    async def admin(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kwargs.pop("headers", {})}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http, http.request(
                method, self.admin_url + path, headers=headers, **kwargs) as resp:
            return resp.status, await resp.json(content_type=None)

    async def create_server(self, backend: FaultBackend) -> None:
        status, body = await self.admin("POST", "/v1/mcp-servers", json={"name": "faults"})
        assert status == 200, body
        server_id = body["data"]["mcpServerId"]
        status, body = await self.admin("PUT", f"/v1/mcp-servers/{server_id}/tools",
                                        data=TOOLS_YAML.format(base=backend.url, raw_port=backend.raw_port),
                                        headers={"Content-Type": "application/yaml"})
        assert status == 200, body


ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


class Client:
    """One handshake-era MCP session over Streamable HTTP, on one edge (moving to another when its
    edge is gone, the way a load balancer would send it)."""

    def __init__(self, http: aiohttp.ClientSession, cluster: RealCluster, edge: int) -> None:
        self.http = http
        self.cluster = cluster
        self.edge = edge
        self.session = ""
        self.moved = 0

    async def open(self) -> None:
        body = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "faults", "version": "1"}}}
        async with self.http.post(self.cluster.mcp_url(self.edge), json=body, headers=ACCEPT) as resp:
            assert resp.status == 200, await resp.text()
            self.session = resp.headers["Mcp-Session-Id"]
        await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def _post(self, body: dict[str, Any]) -> tuple[int, Any]:
        headers = {**ACCEPT, "Mcp-Session-Id": self.session, "MCP-Protocol-Version": "2025-11-25"}
        async with self.http.post(self.cluster.mcp_url(self.edge), json=body, headers=headers) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text) if text else None
            except ValueError:
                return resp.status, text

    async def call(self, n: int, tool: str, arguments: dict[str, Any]) -> Outcome:
        started = time.monotonic()
        body = {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        try:
            status, answer = await asyncio.wait_for(self._post(body), HUNG_AFTER)
        except TimeoutError:
            return Outcome("hung", "no answer", started, time.monotonic())
        except aiohttp.ClientError as exc:
            self.edge = 1 - self.edge  # its edge is gone: the balancer sends it to the other one
            self.moved += 1
            return Outcome("connection", type(exc).__name__, started, time.monotonic())
        ended = time.monotonic()
        if status == 404:
            return Outcome("session lost", str(answer), started, ended)
        if status >= 500 and not (isinstance(answer, dict) and "error" in answer):
            return Outcome("server error", f"{status} {answer}", started, ended)
        if isinstance(answer, dict) and isinstance(answer.get("result"), dict):
            result = answer["result"]
            text = " ".join(c.get("text", "") for c in result.get("content", []))
            return Outcome("error" if result.get("isError") else "ok", text, started, ended)
        if isinstance(answer, dict) and "error" in answer:
            return Outcome("error", str(answer["error"].get("message")), started, ended)
        return Outcome("server error", f"{status} {answer}", started, ended)


@dataclass
class Outcome:
    kind: str  # ok, error (clean: isError or a JSON-RPC error), hung, session lost, connection, server error
    detail: str
    started: float
    ended: float


@dataclass
class Tally:
    fault: str
    outcomes: list[tuple[int, Outcome]] = field(default_factory=list)  # (client, outcome)
    fault_at: float = 0.0

    def count(self, kind: str) -> int:
        return sum(1 for _, o in self.outcomes if o.kind == kind)

    @property
    def recovery(self) -> float:
        """From the fault until the last call that was not ok (0: every call was ok)."""
        bad = [o.ended for _, o in self.outcomes if o.kind != "ok" and o.ended >= self.fault_at]
        return max(bad) - self.fault_at if bad else 0.0

    def row(self) -> str:
        return (f"| {self.fault} | {len(self.outcomes)} | {self.count('ok')} | {self.count('error')} | "
                f"{self.count('connection')} | {self.count('hung')} | {self.count('session lost')} | "
                f"{self.recovery:.2f} s |")


async def load(cluster: RealCluster, fault_name: str, fault: Callable[[], Awaitable[None]], *,
               duration: float = 5.0, fault_after: float = 1.0, clients: int = 8,
               tool_of: Callable[[int], tuple[str, dict[str, Any]]] | None = None) -> Tally:
    """`clients` sessions (half on each edge) calling in a loop for `duration`; `fault` runs after
    `fault_after`. Every outcome is recorded."""
    tally = Tally(fault_name)
    pick = tool_of or (lambda i: ("read_item", {"id": i}))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HUNG_AFTER + 2)) as http:
        sessions = [Client(http, cluster, i % 2) for i in range(clients)]
        await asyncio.gather(*(c.open() for c in sessions))
        deadline = time.monotonic() + duration

        async def run(i: int, client: Client) -> None:
            n = 0
            tool, arguments = pick(i)
            while time.monotonic() < deadline:
                n += 1
                tally.outcomes.append((i, await client.call(n, tool, arguments)))

        async def inject() -> None:
            await asyncio.sleep(fault_after)  # let the load settle: the fault lands mid-call
            tally.fault_at = time.monotonic()
            await fault()

        await asyncio.gather(inject(), *(run(i, c) for i, c in enumerate(sessions)))
    print(tally.row())
    return tally
