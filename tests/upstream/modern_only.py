"""A small hand-written MCP server that speaks 2026-07-28 only: no initialize, no session.

For the gateway's bridge from handshake-era clients: its `greet` tool asks for the user's name by
multi round-trip (`input_required` with an elicitation and its own requestState), and reports
progress on an SSE answer when asked to; `initialize` is a removed method here (404 / -32601).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.backends import serving

MODERN = "2026-07-28"
TOOLS = [{"name": "greet", "description": "Greets the user by the name it asks for",
          "inputSchema": {"type": "object", "properties": {"greeting": {"type": "string"}}}},
         {"name": "echo", "description": "Echoes its text", "inputSchema": {
             "type": "object", "properties": {"text": {"type": "string"}}}},
         {"name": "wait", "description": "Reports progress, then waits until its client goes away",
          "inputSchema": {"type": "object"}}]
STATE = "opaque-state-of-the-upstream"


@dataclass
class ModernOnly:
    url: str
    methods: list[str] = field(default_factory=list)
    retries: list[dict[str, Any]] = field(default_factory=list)
    # Set when a `wait` call's connection went away before it answered (2026-07-28's cancellation).
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    # Open subscriptions/listen streams, and the event set when one opens.
    listeners: list[asyncio.Queue[dict[str, Any]]] = field(default_factory=list)
    listening: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, method: str) -> None:
        """A change notification to every open subscription."""
        for queue in self.listeners:
            queue.put_nowait({"jsonrpc": "2.0", "method": method})


def _result(request_id: Any, result: dict[str, Any]) -> web.Response:
    return web.json_response({"jsonrpc": "2.0", "id": request_id, "result": {"resultType": "complete", **result}})


def _app(server: ModernOnly) -> web.Application:
    async def mcp(request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            return web.Response(status=405)
        message: dict[str, Any] = await request.json()
        method = message.get("method", "")
        server.methods.append(method)
        request_id = message.get("id")
        if request.headers.get("MCP-Protocol-Version") != MODERN or request.headers.get("Mcp-Method") != method:
            return web.json_response({"jsonrpc": "2.0", "id": request_id, "error": {
                "code": -32020, "message": "Header mismatch"}}, status=400)
        params = message.get("params") or {}
        meta = params.get("_meta") or {}
        if meta.get("io.modelcontextprotocol/protocolVersion") != MODERN:
            return web.json_response({"jsonrpc": "2.0", "id": request_id, "error": {
                "code": -32602, "message": "missing _meta"}}, status=400)
        if method == "server/discover":
            return _result(request_id, {"supportedVersions": [MODERN], "capabilities": {"tools": {"listChanged": True}},
                                        "_meta": {"io.modelcontextprotocol/serverInfo": {
                                            "name": "modern-only", "version": "1.0"}},
                                        "ttlMs": 0, "cacheScope": "public"})
        if method == "tools/list":
            return _result(request_id, {"tools": TOOLS, "ttlMs": 0, "cacheScope": "public"})
        if method == "subscriptions/listen":
            stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await stream.prepare(request)
            subscription = {"io.modelcontextprotocol/subscriptionId": request_id}
            ack = {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                   "params": {"_meta": subscription, "notifications": params.get("notifications", {})}}
            await stream.write(b"data: " + json.dumps(ack).encode() + b"\n\n")
            queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            server.listeners.append(queue)
            server.listening.set()
            try:
                while True:
                    pushed = await queue.get()
                    pushed["params"] = {"_meta": subscription}
                    await stream.write(b"data: " + json.dumps(pushed).encode() + b"\n\n")
            finally:
                server.listeners.remove(queue)
        if method == "tools/call" and params.get("name") == "wait":
            stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await stream.prepare(request)
            progress = {"jsonrpc": "2.0", "method": "notifications/progress",
                        "params": {"progressToken": meta.get("progressToken"), "progress": 0}}
            await stream.write(b"data: " + json.dumps(progress).encode() + b"\n\n")
            try:
                await asyncio.Event().wait()  # until the connection closes (the handler is cancelled)
            except asyncio.CancelledError:
                server.cancelled.set()
                raise
        if method == "tools/call" and params.get("name") == "echo":
            return _result(request_id, {"content": [{"type": "text", "text": params["arguments"]["text"]}]})
        if method == "tools/call" and params.get("name") == "greet":
            responses = params.get("inputResponses")
            if responses is None:
                if "elicitation" not in meta.get("io.modelcontextprotocol/clientCapabilities", {}):
                    return web.json_response({"jsonrpc": "2.0", "id": request_id, "error": {
                        "code": -32021, "message": "Missing required client capability: elicitation",
                        "data": {"requiredCapabilities": {"elicitation": {}}}}}, status=400)
                return _result(request_id, {"resultType": "input_required", "requestState": STATE, "inputRequests": {
                    "user_name": {"method": "elicitation/create", "params": {
                        "mode": "form", "message": "What is your name?", "requestedSchema": {
                            "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}}})
            server.retries.append(params)
            assert params.get("requestState") == STATE
            name = responses["user_name"]["content"]["name"]
            text = f"{params['arguments'].get('greeting', 'Hello')}, {name}!"
            token = meta.get("progressToken")
            if token is None:
                return _result(request_id, {"content": [{"type": "text", "text": text}]})
            stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await stream.prepare(request)
            progress = {"jsonrpc": "2.0", "method": "notifications/progress",
                        "params": {"progressToken": token, "progress": 1, "total": 1}}
            final = {"jsonrpc": "2.0", "id": request_id,
                     "result": {"resultType": "complete", "content": [{"type": "text", "text": text}]}}
            await stream.write(b"data: " + json.dumps(progress).encode() + b"\n\n")
            await stream.write(b"data: " + json.dumps(final).encode() + b"\n\n")
            await stream.write_eof()
            return stream
        return web.json_response({"jsonrpc": "2.0", "id": request_id, "error": {
            "code": -32601, "message": f"Method not found: {method}"}}, status=404)

    app = web.Application()
    app.router.add_route("*", "/mcp", mcp)
    return app


@asynccontextmanager
async def running_modern_only() -> AsyncIterator[ModernOnly]:
    server = ModernOnly(url="")
    async with serving(_app(server), handler_cancellation=True) as origin:
        server.url = origin + "/mcp"
        yield server
