"""A small hand-written MCP server (Streamable HTTP, JSON answers) that records what reaches it.

Where the SDK fixture is the yardstick for fidelity, this one is for what a test must see or
control exactly: the headers an upstream receives (credentials), session ends (DELETE), a server
that forgets its sessions, a tool that hangs, an answer that is not MCP at all.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.backends import serving

# ok: JSON answers; hang: a tool call waits for `release`; stream: a tool call answers with an SSE
# stream, a progress notification first, then (after `release`) its result; html, http500: nonsense;
# deep, deep_stream: a tool call's result nested 5000 levels deep, as JSON or as an SSE event.
Mode = Literal["ok", "hang", "stream", "html", "http500", "rpc_error", "deep", "deep_stream"]
DEEP = "[" * 5000 + "]" * 5000


@dataclass
class Seen:
    method: str
    rpc_method: str
    headers: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class RawUpstream:
    url: str
    seen: list[Seen] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    deleted: list[str] = field(default_factory=list)
    initialized: int = 0
    mode: Mode = "ok"
    # Set when a tools/call arrived (a hanging tool's call has reached the upstream).
    called: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    # Open GET streams (session id -> queue of messages to send), and responses the client POSTed.
    streams: dict[str, asyncio.Queue[dict[str, Any]]] = field(default_factory=dict)
    stream_opened: asyncio.Event = field(default_factory=asyncio.Event)
    responses: list[dict[str, Any]] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, message: dict[str, Any]) -> None:
        """Send a message on every open GET stream (outside any request)."""
        for queue in self.streams.values():
            queue.put_nowait(message)

    def calls(self, rpc_method: str) -> list[Seen]:
        return [s for s in self.seen if s.rpc_method == rpc_method]

    def forget_sessions(self) -> None:
        self.sessions.clear()


TOOLS = [{"name": "whoami", "description": "Echoes the credential the upstream received",
          "inputSchema": {"type": "object"}},
         {"name": "shared", "description": "A name other servers have too", "inputSchema": {"type": "object"}}]


def _app(upstream: RawUpstream) -> web.Application:
    async def mcp(request: web.Request) -> web.StreamResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if request.method == "DELETE":
            sid = headers.get("mcp-session-id", "")
            upstream.seen.append(Seen("DELETE", "", headers, dict(request.query)))
            upstream.deleted.append(sid)
            upstream.sessions.discard(sid)
            return web.Response(status=200)
        if request.method == "GET":
            sid = headers.get("mcp-session-id", "")
            if sid not in upstream.sessions:
                return web.Response(status=404)
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            upstream.streams[sid] = queue
            upstream.stream_opened.set()
            try:
                while True:
                    pushed = await queue.get()
                    await response.write(b"event: message\ndata: " + json.dumps(pushed).encode() + b"\n\n")
            finally:
                upstream.streams.pop(sid, None)
        message: dict[str, Any] = await request.json()
        method = message.get("method", "")
        upstream.seen.append(Seen("POST", method, headers, dict(request.query), message))
        if method == "initialize" and "id" in message:
            sid = secrets.token_hex(8)
            upstream.sessions.add(sid)
            upstream.initialized += 1
            params = message.get("params")
            result = {"protocolVersion": params.get("protocolVersion") if isinstance(params, dict) else None,
                      "capabilities": {"tools": {"listChanged": True}},
                      "serverInfo": {"name": "raw-upstream", "version": "1.0"}}
            return web.json_response({"jsonrpc": "2.0", "id": message["id"], "result": result},
                                     headers={"Mcp-Session-Id": sid})
        if headers.get("mcp-session-id") not in upstream.sessions:
            return web.json_response({"jsonrpc": "2.0", "id": None,
                                      "error": {"code": -32001, "message": "Session not found"}}, status=404)
        if "method" not in message:
            upstream.responses.append(message)
            upstream.answered.set()
            return web.Response(status=202)
        if "id" not in message:
            return web.Response(status=202)
        if method == "tools/list":
            return web.json_response({"jsonrpc": "2.0", "id": message["id"], "result": {"tools": TOOLS}})
        if method == "tools/call":
            upstream.called.set()
            if upstream.mode == "hang":
                await upstream.release.wait()
            if upstream.mode == "stream":
                token = message.get("params", {}).get("_meta", {}).get("progressToken")
                response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
                await response.prepare(request)
                progress = {"jsonrpc": "2.0", "method": "notifications/progress",
                            "params": {"progressToken": token, "progress": 1, "total": 2}}
                await response.write(b"data: " + json.dumps(progress).encode() + b"\n\n")
                await upstream.release.wait()
                result = {"jsonrpc": "2.0", "id": message["id"],
                          "result": {"content": [{"type": "text", "text": "done after a while"}]}}
                await response.write(b"data: " + json.dumps(result).encode() + b"\n\n")
                await response.write_eof()
                return response
            if upstream.mode in ("deep", "deep_stream"):
                deep = f'{{"jsonrpc":"2.0","id":{json.dumps(message["id"])},"result":{{"content":{DEEP}}}}}'
                if upstream.mode == "deep":
                    return web.Response(text=deep, content_type="application/json")
                return web.Response(text=f"event: message\ndata: {deep}\n\n", content_type="text/event-stream")
            if upstream.mode == "html":
                return web.Response(text="<html>oops</html>", content_type="text/html")
            if upstream.mode == "http500":
                return web.Response(status=500, text="upstream on fire")
            if upstream.mode == "rpc_error":
                return web.json_response({"jsonrpc": "2.0", "id": message["id"],
                                          "error": {"code": -32602, "message": "bad arguments"}})
            text = json.dumps({"authorization": headers.get("authorization"), "x-api-key": headers.get("x-api-key"),
                               "query": dict(request.query)})
            return web.json_response({"jsonrpc": "2.0", "id": message["id"],
                                      "result": {"content": [{"type": "text", "text": text}]}})
        return web.json_response({"jsonrpc": "2.0", "id": message["id"],
                                  "error": {"code": -32601, "message": f"Method not found: {method}"}})

    app = web.Application()
    app.router.add_route("*", "/mcp", mcp)
    return app


@asynccontextmanager
async def running_raw_upstream(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[RawUpstream]:
    upstream = RawUpstream(url="")
    async with serving(_app(upstream), ssl_context) as origin:
        upstream.url = origin + "/mcp"
        try:
            yield upstream
        finally:
            upstream.release.set()
