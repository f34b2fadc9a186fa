"""HTTP answers shared by both transports: JSON-RPC error bodies, SSE framing, the common gate."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from mcpgw.contracts import McpgwError
from mcpgw_edge import jsonrpc, resource_metadata
from mcpgw_edge.caller import ANONYMOUS, Caller
from mcpgw_edge.context import Edge
from mcpgw_edge.jsonrpc import InvalidMessage, Message
from mcpgw_edge.servers import ServerEntry
from mcpgw_edge.sessions import Session
from mcpgw_edge.settings import EdgeSettings
from mcpgw_edge.streams import Stream

JSON = "application/json"


Admitted = tuple[ServerEntry, Caller]


def rpc_error_response(status: int, code: int, message: str, request_id: jsonrpc.RequestId | None = None,
                       headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=jsonrpc.error(request_id, code, message), content_type=JSON,
                        headers=headers)


def unavailable(exc: McpgwError) -> web.Response:
    return rpc_error_response(503 if exc.http_status >= 500 else exc.http_status, jsonrpc.INTERNAL_ERROR,
                              f"gateway unavailable: {exc.message}")


class Gate:
    """Checks every MCP request goes through before any work: Host, Origin, server, consumer."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge

    def check_origin(self, request: web.Request) -> web.Response | None:
        policy = self.edge.policy
        host = request.headers.get("Host")
        if not policy.host_ok(host):
            return rpc_error_response(421, jsonrpc.INVALID_REQUEST, "Misdirected Request: invalid Host header")
        if not policy.origin_ok(request.headers.get("Origin"), host):
            return rpc_error_response(403, jsonrpc.INVALID_REQUEST, "Forbidden: invalid Origin header")
        return None

    async def server(self, request: web.Request) -> ServerEntry | web.Response:
        name = request.match_info["name"]
        entry = self.edge.servers.cached(name)
        if entry is None:
            try:
                entry = await self.edge.servers.get(name)
            except McpgwError as exc:
                return unavailable(exc)
            if entry is None:
                return rpc_error_response(404, jsonrpc.INVALID_REQUEST, f"MCP server not found: {name}")
        return entry

    async def admit(self, request: web.Request) -> Admitted | web.Response:
        """Host/Origin, then the server, then the consumer; a refusal is the response to send."""
        refused = self.check_origin(request)
        if refused is not None:
            return refused
        entry = await self.server(request)
        if isinstance(entry, web.Response):
            return entry
        who = await self.consumer(request, entry)
        if isinstance(who, web.Response):
            return who
        return entry, who

    async def session(self, session_id: str | None, entry: ServerEntry, caller: Caller,
                      transport: str) -> Session | web.Response:
        """The caller's session on this server, or the refusal: 400 none given, 404 unknown, 403 not theirs."""
        if not session_id:
            what = "Mcp-Session-Id header" if transport == "streamable" else "session_id"
            return rpc_error_response(400, jsonrpc.INVALID_REQUEST, f"Bad Request: missing {what}")
        try:
            session = await self.edge.sessions.get(session_id)
        except McpgwError as exc:
            return unavailable(exc)
        if session is None or session.server_id != entry.snapshot.server_id or session.transport != transport:
            return rpc_error_response(404, jsonrpc.INVALID_REQUEST, "Session not found")
        if session.consumer_id != caller.consumer_id:
            # Sessions are not credentials: another consumer cannot ride on this one.
            return rpc_error_response(403, jsonrpc.INVALID_REQUEST, "Forbidden: session belongs to another consumer")
        return session

    async def consumer(self, request: web.Request, entry: ServerEntry) -> Caller | web.Response:
        snapshot = entry.snapshot
        passthrough = request.headers.get("Authorization", "") if entry.passthrough else ""
        if not snapshot.consumer_auth:
            return Caller(client_credential=passthrough) if passthrough else ANONYMOUS
        try:
            verdict = await self.edge.auth.verify(request, snapshot.server_id, snapshot.name)
        except McpgwError as exc:
            return unavailable(exc)
        if verdict.outcome == "allow":
            allowed = None if verdict.allowed_tools is None else frozenset(verdict.allowed_tools)
            return Caller(verdict.consumer_id, allowed, verdict.forward_headers, passthrough)
        if verdict.outcome == "forbidden":
            return rpc_error_response(403, jsonrpc.INVALID_REQUEST, f"Forbidden: {verdict.reason or 'not authorized'}")
        error = None if verdict.reason == "missing credential" else "invalid_token"
        header = resource_metadata.challenge(request, self.edge.settings.public_url, snapshot.name, error)
        return rpc_error_response(401, jsonrpc.INVALID_REQUEST, f"Unauthorized: {verdict.reason}",
                                  headers={"WWW-Authenticate": header})


async def start_event_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache, no-transform",
        "X-Accel-Buffering": "no",
    })
    response.enable_chunked_encoding()
    await response.prepare(request)
    return response


def sse_event(payload: bytes, event: str = "message") -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


async def pump(response: web.StreamResponse, stream: Stream, keepalive: float, write_timeout: float) -> None:
    """Write the stream's messages as SSE events until it closes or the client goes away."""
    with contextlib.suppress(ConnectionError, TimeoutError):
        while True:
            try:
                item = await asyncio.wait_for(stream.queue.get(), keepalive)
            except TimeoutError:
                # An SSE comment keeps proxies from idling the stream out and detects a gone client.
                item = b""
            if item is None:
                break
            # A client that stops reading would block the write forever: bound it.
            async with asyncio.timeout(write_timeout):
                await response.write(sse_event(item) if item else b": ping\n\n")


async def read_messages(request: web.Request, settings: EdgeSettings) -> Message | list[Message] | web.Response:
    """The POSTed JSON-RPC message(s), or the error response for a body we refuse."""
    if request.content_type != JSON:
        return rpc_error_response(400, jsonrpc.INVALID_REQUEST, "Invalid Content-Type: expected application/json")
    body = await read_body(request, settings.max_body_bytes, settings.client_io_timeout)
    if isinstance(body, web.Response):
        return body
    try:
        return jsonrpc.decode(body)
    except InvalidMessage as exc:
        return rpc_error_response(400, exc.code, exc.message, exc.request_id)


async def read_body(request: web.Request, limit: int, timeout: float) -> bytes | web.Response:
    """The request body, or the error response for one too large or too slow to arrive."""
    if request.content_length is not None and request.content_length > limit:
        return rpc_error_response(413, jsonrpc.INVALID_REQUEST, "request body too large")
    try:
        if request.content.is_eof():  # the usual small body came with the headers: no timer needed
            return await request.read()
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        return rpc_error_response(408, jsonrpc.INVALID_REQUEST, "request body not received in time")
    except web.HTTPRequestEntityTooLarge:
        return rpc_error_response(413, jsonrpc.INVALID_REQUEST, "request body too large")
