"""Toolexec test rig: a recording aiohttp backend, a stand-in registry on the real bus, a call helper.

Nothing is mocked: every call crosses the real NATS and real HTTP on loopback. The registry
stand-in is a peer service answering the real lookup subject, as the real registry would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import yaml
from aiohttp import web
from multidict import CIMultiDictProxy

from mcpgw.contracts import (
    ServerLookup,
    ServerLookupReply,
    ServerSnapshot,
    ToolCallReply,
    ToolCallRequest,
    ToolsDocument,
)
from mcpgw.runtime.bus import Bus

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    """One request exactly as the backend received it."""

    method: str
    path: str  # raw, still percent-encoded
    query: str  # raw, still percent-encoded
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass
class Echo:
    """An HTTP server on loopback that records every request; answers by route, else echoes."""

    seen: list[Seen] = field(default_factory=list)
    routes: dict[str, Handler] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def last(self) -> Seen:
        assert self.seen, "the backend received no request"
        return self.seen[-1]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path, _, query = request.raw_path.partition("?")
        body = await request.read()
        self.seen.append(Seen(request.method, path, query, request.headers, body))
        route = self.routes.get(request.path)
        if route is not None:
            return await route(request)
        return web.json_response({"method": request.method, "path": path, "query": query,
                                  "body": body.decode(errors="replace")})


class FakeRegistry:
    """Answers the registry's server lookup on the real bus from a dict the test controls."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.servers: dict[str, ServerSnapshot] = {}
        self.lookups = 0
        self.gate: asyncio.Event | None = None  # when set, lookups wait for it (to overlap misses)

    async def start(self) -> None:
        self._subscription = await self.bus.serve(self.bus.subjects.registry_server_lookup, ServerLookup,
                                                  self._lookup)
        await self.bus.sync()

    async def stop(self) -> None:
        await self._subscription.unsubscribe()
        await self.bus.sync()

    async def _lookup(self, req: ServerLookup) -> ServerLookupReply:
        self.lookups += 1
        if self.gate is not None:
            await self.gate.wait()
        return ServerLookupReply(server=self.servers.get(req.server_id or ""))

    def publish(self, server_id: str, revision: int, text: str, *, statistics: bool = True) -> ServerSnapshot:
        doc = msgspec.convert(yaml.safe_load(text), ToolsDocument)
        snapshot = ServerSnapshot(server_id=server_id, name=doc.server.name, revision=revision,
                                  server=doc.server, tools=doc.tools, statistics=statistics)
        self.servers[server_id] = snapshot
        return snapshot


SERVER_YAML = """
server:
  name: demo
  config: {{base: "{base}"}}
{extra}
tools:
{tools}
"""


def publish(registry: FakeRegistry, echo: Echo, tools: str, *, server_id: str = "s1", revision: int = 1,
            server_extra: str = "", statistics: bool = True) -> ServerSnapshot:
    """Publish a server whose `config.base` is the echo backend's URL (statistics on unless told)."""
    return registry.publish(server_id, revision,
                            SERVER_YAML.format(base=echo.url, extra=server_extra, tools=tools), statistics=statistics)


async def call(bus: Bus, server_id: str, tool: str, arguments: Any = None, *, revision: int = 1,
               raw: bytes | None = None, headers: dict[str, str] | None = None,
               consumer_id: str = "", backend: int = 0) -> dict[str, Any]:
    """A tools/call as the edge sends it; returns the decoded CallToolResult."""
    payload = raw if raw is not None else msgspec.json.encode({} if arguments is None else arguments)
    reply = await bus.request(
        bus.subjects.toolexec_call(server_id),
        ToolCallRequest(server_id=server_id, revision=revision, tool=tool, arguments=msgspec.Raw(payload),
                        consumer_id=consumer_id, backend=backend),
        ToolCallReply,
        headers=headers,
    )
    result: dict[str, Any] = msgspec.json.decode(reply.result)
    return result


def text_of(result: dict[str, Any]) -> str:
    content = result["content"]
    assert len(content) == 1 and content[0]["type"] == "text", content
    text: str = content[0]["text"]
    return text
