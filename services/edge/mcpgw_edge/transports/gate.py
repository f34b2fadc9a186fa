"""Checks every MCP request goes through before any work: Host, Origin, server, consumer, session."""

from __future__ import annotations

from mcpgw import jsonrpc
from mcpgw.contracts import McpgwError
from mcpgw_edge.context import Edge
from mcpgw_edge.http import Request, Response
from mcpgw_edge.mcp.caller import ANONYMOUS, Caller
from mcpgw_edge.mcp.sessions import Session
from mcpgw_edge.servers import ServerEntry
from mcpgw_edge.transports import resource_metadata
from mcpgw_edge.transports.replies import rpc_error_response, unavailable

Admitted = tuple[ServerEntry, Caller]


class Gate:
    def __init__(self, edge: Edge) -> None:
        self.edge = edge

    async def server(self, name: str) -> ServerEntry | Response:
        entry = self.edge.servers.cached(name)
        if entry is None:
            try:
                entry = await self.edge.servers.get(name)
            except McpgwError as exc:
                return unavailable(exc)
            if entry is None:
                return _not_found(name)
        return entry

    async def routed(self, request: Request, name: str) -> ServerEntry | Response:
        """The server, if it answers this request: on its domains' hosts and within its `match`."""
        cached = self.edge.servers.cached(name)  # in memory (nearly always): no coroutine for it
        entry = cached if cached is not None else await self.server(name)
        if isinstance(entry, Response):
            return entry
        if entry.route is not None and not entry.route.admits(request):
            return _not_found(name)
        return entry

    async def admit(self, request: Request, name: str) -> Admitted | Response:
        """Origin, the server and its route, Host, then the consumer; a refusal is the response to send."""
        policy = self.edge.policy
        host = request.header("host")
        if not policy.origin_ok(request.header("origin"), host):
            return rpc_error_response(403, jsonrpc.INVALID_REQUEST, "Forbidden: invalid Origin header")
        entry = await self.routed(request, name)
        if isinstance(entry, Response):
            return entry
        # DNS rebinding: an edge bound to loopback answers loopback names and the allowed hosts,
        # and a server with domains its own domains' names, which `routed` has just matched: the
        # operator declared those names theirs, and only for that server.
        if not (entry.route is not None and entry.route.hosts) and not policy.host_ok(host):
            return rpc_error_response(421, jsonrpc.INVALID_REQUEST, "Misdirected Request: invalid Host header")
        who = await self.consumer(request, entry)
        if isinstance(who, Response):
            return who
        return entry, who

    async def session(self, session_id: str | None, entry: ServerEntry, caller: Caller,
                      transport: str) -> Session | Response:
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

    async def consumer(self, request: Request, entry: ServerEntry) -> Caller | Response:
        snapshot = entry.snapshot
        passthrough = (request.header("authorization") or "") if entry.passthrough else ""
        gray = entry.gray
        if not snapshot.consumer_auth:
            backend = gray.backend(request, "") if gray is not None else 0
            return Caller(client_credential=passthrough, backend=backend) if passthrough or backend else ANONYMOUS
        try:
            verdict = await self.edge.auth.verify(request, snapshot.server_id, snapshot.name)
        except McpgwError as exc:
            return unavailable(exc)
        if verdict.outcome == "allow":
            allowed = None if verdict.allowed_tools is None else frozenset(verdict.allowed_tools)
            # The consumer's name as auth verified it: what a gray match on `x-mcpgw-consumer` tests.
            backend = gray.backend(request, verdict.consumer_name) if gray is not None else 0
            return Caller(verdict.consumer_id, allowed, verdict.forward_headers, passthrough, backend)
        if verdict.outcome == "forbidden":
            return rpc_error_response(403, jsonrpc.INVALID_REQUEST, f"Forbidden: {verdict.reason or 'not authorized'}")
        error = None if verdict.reason == "missing credential" else "invalid_token"
        header = resource_metadata.challenge(request, self.edge.settings.public_url, snapshot.name, error)
        return rpc_error_response(401, jsonrpc.INVALID_REQUEST, f"Unauthorized: {verdict.reason}",
                                  headers=[("WWW-Authenticate", header)])


def _not_found(name: str) -> Response:
    return rpc_error_response(404, jsonrpc.INVALID_REQUEST, f"MCP server not found: {name}")
