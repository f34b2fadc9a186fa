"""Streamable HTTP transport at `/mcp-servers/<name>`: POST, GET (server stream) and DELETE."""

from __future__ import annotations

import asyncio
import logging

from mcpgw import jsonrpc
from mcpgw.contracts import McpgwError
from mcpgw.jsonrpc import INVALID_REQUEST, Message
from mcpgw_edge.context import Edge
from mcpgw_edge.http import EventSink, EventStream, Request, Response
from mcpgw_edge.mcp import modern
from mcpgw_edge.mcp.caller import Caller
from mcpgw_edge.mcp.dispatch import MODERN_VERSION, SUPPORTED_VERSIONS, hello, trace_parent
from mcpgw_edge.mcp.hosted import Listener
from mcpgw_edge.mcp.resumable import Recorded, parse_event_id, resumable
from mcpgw_edge.mcp.sessions import Session, new_session_id
from mcpgw_edge.servers import ServerEntry
from mcpgw_edge.telemetry import INTERNAL, Observed
from mcpgw_edge.transports.events import KEEPALIVE, pump
from mcpgw_edge.transports.gate import Gate
from mcpgw_edge.transports.relayed import Relayed, sse_with_id
from mcpgw_edge.transports.replies import json_response, read_messages, rpc_error_response, unavailable
from mcpgw_edge.transports.session_stream import forwarded_to
from mcpgw_edge.transports.stateless import Stateless

log = logging.getLogger(__name__)

SESSION_HEADER = "mcp-session-id"
VERSION_HEADER = "mcp-protocol-version"
BATCH_VERSION = "2025-03-26"
ACCEPTED = Response(202)


def _accepts(accept: str, *types: str) -> bool:
    if "*/*" in accept:
        return True
    for wanted in types:  # a loop, not all(genexpr): 2 % of the edge's samples went to the generator
        if wanted not in accept:
            return False
    return True


class StreamableHttp:
    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.gate = Gate(edge)
        self.relayed = Relayed(edge.streams, edge.settings.client_io_timeout)
        self.stateless = Stateless(edge, self.relayed)

    async def close(self) -> None:
        await self.relayed.close()

    async def _session(self, request: Request, entry: ServerEntry, caller: Caller,
                       version: str | None = None) -> Session | Response:
        session = await self.gate.session(request.header(SESSION_HEADER), entry, caller, "streamable")
        if isinstance(session, Response):
            return session
        if version is None:
            version = request.header(VERSION_HEADER)
        if version is not None and version not in SUPPORTED_VERSIONS:
            return rpc_error_response(400, INVALID_REQUEST, f"Unsupported protocol version: {version} "
                                      f"(supported: {', '.join(SUPPORTED_VERSIONS)})")
        return session

    async def post(self, request: Request, name: str) -> Response | EventStream:
        admitted = await self.gate.admit(request, name)
        if isinstance(admitted, Response):
            return admitted
        entry, caller = admitted
        if not _accepts(request.header("accept") or "*/*", "application/json", "text/event-stream"):
            return rpc_error_response(406, INVALID_REQUEST,
                                      "Not Acceptable: Accept must list application/json and text/event-stream")
        settings = self.edge.settings
        decoded = await read_messages(request, settings.max_body_bytes)
        if isinstance(decoded, Response):
            return decoded

        # The eras told apart per request: 2026-07-28 says so in its header (a session id beside it
        # is ignored); the handshake era has a session, or is opening one.
        version = request.header(VERSION_HEADER)
        if version == MODERN_VERSION:
            return await self.stateless.post(request, decoded, entry, caller)
        if isinstance(decoded, Message) and decoded.method == "initialize" and decoded.is_request:
            return await self._initialize(decoded, entry, caller.consumer_id)
        if request.header(SESSION_HEADER) is None and version is not None and version not in SUPPORTED_VERSIONS:
            # Neither era's: say which versions there are, in the modern error clients recognize.
            request_id = decoded.id if isinstance(decoded, Message) else None
            refusal = modern.unsupported(version, modern.ALL_VERSIONS)
            return rpc_error_response(400, refusal.code, refusal.message,
                                      request_id if isinstance(request_id, int | str) else None, data=refusal.data)
        session = await self._session(request, entry, caller, version)
        if isinstance(session, Response):
            return session

        if isinstance(decoded, list):
            return await self._batch(decoded, session, entry, caller)
        if not decoded.is_request:
            await self.edge.dispatcher.forward(decoded, session, entry, caller)
            return ACCEPTED
        if entry.kind == "rest":
            return json_response(await self.edge.dispatcher.request(decoded, session, entry, caller))
        message, dispatcher = decoded, self.edge.dispatcher

        async def work(listener: Listener) -> tuple[int, bytes]:
            return 200, await dispatcher.request(message, session, entry, caller, listener)

        assert isinstance(message.id, int | str)
        return await self.relayed.respond(work, message.id, session.id if resumable(session.protocol_version) else None)

    async def _initialize(self, message: Message, entry: ServerEntry, consumer_id: str) -> Response:
        assert isinstance(message.id, int | str)
        with Observed(self.edge.dispatcher.metrics, entry.snapshot.name, "initialize", "", message.id, "",
                      trace_parent(message.params)) as seen:
            try:
                init = hello(message.params)
            except jsonrpc.RpcError as exc:
                seen.done(str(exc.code))
                return rpc_error_response(400, exc.code, exc.message, message.id)
            version = init.protocolVersion
            try:
                result = await self.edge.dispatcher.initialize_result(entry, version, consumer_id)
            except McpgwError as exc:  # a hosted server whose upstream cannot be reached
                seen.done(INTERNAL)
                return json_response(jsonrpc.error(message.id, jsonrpc.INTERNAL_ERROR,
                                                   f"gateway error: {exc.message}"))
            session = Session(id=new_session_id(), server_id=entry.snapshot.server_id,
                              server_name=entry.snapshot.name, transport="streamable", protocol_version=version,
                              consumer_id=consumer_id, client_capabilities=init.capabilities,
                              client_info=init.clientInfo)
            try:
                await self.edge.sessions.create(session)
            except McpgwError as exc:
                seen.done(INTERNAL)
                return unavailable(exc)
            return json_response(jsonrpc.result(message.id, result), headers=[("Mcp-Session-Id", session.id)])

    async def _batch(self, messages: list[Message], session: Session, entry: ServerEntry,
                     caller: Caller) -> Response:
        if session.protocol_version != BATCH_VERSION:
            return rpc_error_response(400, INVALID_REQUEST,
                                      f"batches are only allowed in protocol version {BATCH_VERSION}")
        answers: list[bytes] = []
        for message in messages:
            if not message.is_request:
                await self.edge.dispatcher.forward(message, session, entry, caller)
                continue
            if message.method == "initialize":
                assert isinstance(message.id, int | str)
                answers.append(jsonrpc.error(message.id, INVALID_REQUEST, "initialize cannot be batched"))
                continue
            answers.append(await self.edge.dispatcher.request(message, session, entry, caller))
        if not answers:
            return ACCEPTED
        return json_response(b"[" + b",".join(answers) + b"]")

    async def get(self, request: Request, name: str) -> Response | EventStream:
        admitted = await self.gate.admit(request, name)
        if isinstance(admitted, Response):
            return admitted
        entry, caller = admitted
        if not _accepts(request.header("accept") or "", "text/event-stream"):
            return rpc_error_response(406, INVALID_REQUEST, "Not Acceptable: Accept must list text/event-stream")
        session = await self._session(request, entry, caller)
        if isinstance(session, Response):
            return session
        last_event = request.header("last-event-id")
        if last_event is not None:
            return await self._resume(session, last_event)
        hub = self.edge.hub
        stream = hub.open(session.id, session.server_id)
        if stream is None:
            return rpc_error_response(409, INVALID_REQUEST, "Conflict: this session already has a GET stream")

        async def run(sink: EventSink) -> None:
            try:
                # What a hosted server's upstream sends outside any request comes this way.
                async with forwarded_to(self.edge, stream, entry.kind != "rest"):
                    # Says the stream is live: from here on nothing sent to the session is missed.
                    await sink.send(KEEPALIVE)
                    await pump(sink, stream, self.edge.settings.client_io_timeout)
            finally:
                hub.release(stream)

        return EventStream(run)

    async def _resume(self, session: Session, last_event: str) -> Response | EventStream:
        """A request stream resumed after `last_event`: what was missed, then the rest as it comes."""
        parsed = parse_event_id(last_event)
        streams = self.edge.streams
        try:
            known = parsed is not None and await streams.read(session.id, parsed[0], parsed[1]) is not None
        except (TimeoutError, McpgwError, ConnectionError, OSError):
            return rpc_error_response(503, INVALID_REQUEST, "gateway unavailable: stream store unreachable")
        if parsed is None or not known:
            return rpc_error_response(404, INVALID_REQUEST, "Not Found: no stream to resume after that event id")
        stream_id, after = parsed
        settings = self.edge.settings

        async def run(sink: EventSink) -> None:
            async def send(event: Recorded) -> None:
                async with asyncio.timeout(settings.client_io_timeout):
                    await sink.send(sse_with_id(bytes(event.payload), stream_id, event.seq))

            async def idle() -> None:
                async with asyncio.timeout(settings.client_io_timeout):
                    await sink.send(KEEPALIVE)

            await streams.follow(session.id, stream_id, after, send, idle, settings.sse_keepalive)

        return EventStream(run)

    async def delete(self, request: Request, name: str) -> Response:
        admitted = await self.gate.admit(request, name)
        if isinstance(admitted, Response):
            return admitted
        entry, caller = admitted
        session = await self._session(request, entry, caller)
        if isinstance(session, Response):
            return session
        try:
            await self.edge.end_session(session.id)
        except McpgwError as exc:
            return unavailable(exc)
        return Response(200)
