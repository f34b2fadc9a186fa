"""Streamable HTTP transport at `/mcp-servers/<name>`: POST, GET (server stream) and DELETE."""

from __future__ import annotations

import logging

from aiohttp import web

from mcpgw.contracts import McpgwError, SessionEnded
from mcpgw_edge import jsonrpc
from mcpgw_edge.caller import Caller
from mcpgw_edge.context import Edge
from mcpgw_edge.http import JSON, Gate, pump, read_messages, rpc_error_response, start_event_stream, unavailable
from mcpgw_edge.jsonrpc import INVALID_REQUEST, Message
from mcpgw_edge.protocol import MODERN_VERSION, SUPPORTED_VERSIONS, initialize_result, negotiate
from mcpgw_edge.servers import ServerEntry
from mcpgw_edge.sessions import Session, new_session_id

log = logging.getLogger(__name__)

SESSION_HEADER = "Mcp-Session-Id"
VERSION_HEADER = "MCP-Protocol-Version"
BATCH_VERSION = "2025-03-26"


def _accepts(accept: str, *types: str) -> bool:
    if "*/*" in accept:
        return True
    return all(t in accept for t in types)


class StreamableHttp:
    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.gate = Gate(edge)

    async def _session(self, request: web.Request, entry: ServerEntry, caller: Caller) -> Session | web.Response:
        session = await self.gate.session(request.headers.get(SESSION_HEADER), entry, caller, "streamable")
        if isinstance(session, web.Response):
            return session
        version = request.headers.get(VERSION_HEADER)
        if version is not None and version not in SUPPORTED_VERSIONS:
            return rpc_error_response(400, INVALID_REQUEST, f"Unsupported protocol version: {version} "
                                      f"(supported: {', '.join(SUPPORTED_VERSIONS)})")
        return session

    async def post(self, request: web.Request) -> web.StreamResponse:
        admitted = await self.gate.admit(request)
        if isinstance(admitted, web.Response):
            return admitted
        entry, caller = admitted
        if not _accepts(request.headers.get("Accept", "*/*"), "application/json", "text/event-stream"):
            return rpc_error_response(406, INVALID_REQUEST,
                                      "Not Acceptable: Accept must list application/json and text/event-stream")
        decoded = await read_messages(request, self.edge.settings)
        if isinstance(decoded, web.Response):
            return decoded

        if isinstance(decoded, Message) and decoded.method == "initialize" and decoded.is_request:
            return await self._initialize(request, decoded, entry, caller.consumer_id)

        if request.headers.get(SESSION_HEADER) is None and (
            request.headers.get(VERSION_HEADER) == MODERN_VERSION
            or (isinstance(decoded, Message) and decoded.method == "server/discover")
        ):
            # A client probing the stateless 2026-07-28 revision: -32600 makes it fall back to initialize.
            return rpc_error_response(400, INVALID_REQUEST,
                                      f"protocol revision {MODERN_VERSION} is not supported; use initialize")
        session = await self._session(request, entry, caller)
        if isinstance(session, web.Response):
            return session

        if isinstance(decoded, list):
            return await self._batch(decoded, session, entry, caller)
        if not decoded.is_request:
            return web.Response(status=202)
        answer = await self.edge.dispatcher.request(decoded, session, entry, caller)
        return web.Response(body=answer, content_type=JSON)

    async def _initialize(self, request: web.Request, message: Message, entry: ServerEntry,
                          consumer_id: str) -> web.Response:
        assert isinstance(message.id, int | str)
        try:
            version = negotiate(message.params)
        except jsonrpc.RpcError as exc:
            return rpc_error_response(400, exc.code, exc.message, message.id)
        session = Session(id=new_session_id(), server_id=entry.snapshot.server_id, server_name=entry.snapshot.name,
                          transport="streamable", protocol_version=version, consumer_id=consumer_id)
        try:
            await self.edge.sessions.create(session)
        except McpgwError as exc:
            return unavailable(exc)
        return web.Response(body=jsonrpc.result(message.id, initialize_result(entry, version)), content_type=JSON,
                            headers={SESSION_HEADER: session.id})

    async def _batch(self, messages: list[Message], session: Session, entry: ServerEntry,
                     caller: Caller) -> web.Response:
        if session.protocol_version != BATCH_VERSION:
            return rpc_error_response(400, INVALID_REQUEST,
                                      f"batches are only allowed in protocol version {BATCH_VERSION}")
        answers: list[bytes] = []
        for message in messages:
            if not message.is_request:
                continue
            if message.method == "initialize":
                assert isinstance(message.id, int | str)
                answers.append(jsonrpc.error(message.id, INVALID_REQUEST, "initialize cannot be batched"))
                continue
            answers.append(await self.edge.dispatcher.request(message, session, entry, caller))
        if not answers:
            return web.Response(status=202)
        return web.Response(body=b"[" + b",".join(answers) + b"]", content_type=JSON)

    async def get(self, request: web.Request) -> web.StreamResponse:
        admitted = await self.gate.admit(request)
        if isinstance(admitted, web.Response):
            return admitted
        entry, caller = admitted
        if not _accepts(request.headers.get("Accept", ""), "text/event-stream"):
            return rpc_error_response(406, INVALID_REQUEST, "Not Acceptable: Accept must list text/event-stream")
        session = await self._session(request, entry, caller)
        if isinstance(session, web.Response):
            return session
        stream = self.edge.hub.open(session.id, session.server_id)
        if stream is None:
            return rpc_error_response(409, INVALID_REQUEST, "Conflict: this session already has a GET stream")
        try:
            response = await start_event_stream(request)
            await pump(response, stream, self.edge.settings.sse_keepalive, self.edge.settings.client_io_timeout)
        finally:
            self.edge.hub.release(stream)
        return response

    async def delete(self, request: web.Request) -> web.StreamResponse:
        admitted = await self.gate.admit(request)
        if isinstance(admitted, web.Response):
            return admitted
        entry, caller = admitted
        session = await self._session(request, entry, caller)
        if isinstance(session, web.Response):
            return session
        try:
            await self.edge.sessions.delete(session.id)
        except McpgwError as exc:
            return unavailable(exc)
        self.edge.hub.close(session.id)
        await self.edge.bus.publish(self.edge.bus.subjects.event_session(session.id),
                                    SessionEnded(session_id=session.id))
        return web.Response(status=200)

    async def not_allowed(self, request: web.Request) -> web.Response:
        return rpc_error_response(405, INVALID_REQUEST, f"Method Not Allowed: {request.method}",
                                  headers={"Allow": "GET, POST, DELETE"})


