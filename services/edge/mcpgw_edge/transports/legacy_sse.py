"""Legacy HTTP+SSE transport (2024-11-05): GET `/mcp-servers/<name>/sse`, POST `…/message`.

The stream and the POST may land on different edge replicas: the POST's replica answers the
request and sends the response to `edge.sse.<session>`, which the stream's replica subscribes to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import msgspec

from mcpgw import jsonrpc
from mcpgw.contracts import McpgwError, SseDeliver
from mcpgw.jsonrpc import INVALID_REQUEST, Message
from mcpgw_edge.context import Edge
from mcpgw_edge.http import EventSink, EventStream, Request, Response
from mcpgw_edge.mcp.caller import Caller
from mcpgw_edge.mcp.dispatch import hello
from mcpgw_edge.mcp.sessions import Session, new_session_id
from mcpgw_edge.servers import ServerEntry
from mcpgw_edge.transports.events import pump, sse_event
from mcpgw_edge.transports.gate import Gate
from mcpgw_edge.transports.replies import read_messages, rpc_error_response, unavailable
from mcpgw_edge.transports.session_stream import forwarded_to

log = logging.getLogger(__name__)

ACCEPTED = Response(202, b"Accepted", [("content-type", "text/plain; charset=utf-8")])


class LegacySse:
    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.gate = Gate(edge)
        self._tasks: set[asyncio.Task[None]] = set()

    async def stream(self, request: Request, name: str) -> Response | EventStream:
        admitted = await self.gate.admit(request, name)
        if isinstance(admitted, Response):
            return admitted
        entry, caller = admitted
        accept = request.header("accept") or "*/*"
        if "text/event-stream" not in accept and "*/*" not in accept:
            return rpc_error_response(406, INVALID_REQUEST, "Not Acceptable: Accept must list text/event-stream")
        session = Session(id=new_session_id(), server_id=entry.snapshot.server_id, server_name=entry.snapshot.name,
                          transport="sse", consumer_id=caller.consumer_id)
        try:
            await self.edge.sessions.create(session)
        except McpgwError as exc:
            return unavailable(exc)
        edge = self.edge
        stream = edge.hub.open(session.id, session.server_id)
        assert stream is not None  # a brand-new session id has no stream yet

        async def run(sink: EventSink) -> None:
            try:
                async with forwarded_to(edge, stream):
                    # Relative to the SSE URL, so it stays right behind a proxy that prefixes paths.
                    await sink.send(sse_event(f"message?session_id={session.id}".encode(), "endpoint"))
                    await pump(sink, stream, edge.settings.client_io_timeout)
            finally:
                edge.hub.release(stream)
                # The legacy transport's session lives exactly as long as its stream.
                with contextlib.suppress(Exception):
                    await edge.end_session(session.id)

        return EventStream(run)

    async def message(self, request: Request, name: str) -> Response:
        admitted = await self.gate.admit(request, name)
        if isinstance(admitted, Response):
            return admitted
        entry, caller = admitted
        session = await self.gate.session(request.query("session_id") or request.query("sessionId"),
                                          entry, caller, "sse")
        if isinstance(session, Response):
            return session
        settings = self.edge.settings
        decoded = await read_messages(request, settings.max_body_bytes)
        if isinstance(decoded, Response):
            return decoded
        if isinstance(decoded, list):
            return rpc_error_response(400, INVALID_REQUEST, "batches are not supported on the SSE transport")
        if decoded.is_request:
            task = asyncio.get_running_loop().create_task(self._answer(decoded, session, entry, caller))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            await self.edge.dispatcher.forward(decoded, session, entry, caller)
        return ACCEPTED

    async def _answer(self, message: Message, session: Session, entry: ServerEntry, caller: Caller) -> None:
        assert isinstance(message.id, int | str)
        try:
            if message.method == "initialize":
                try:
                    init = hello(message.params)
                except jsonrpc.RpcError as exc:
                    answer = jsonrpc.error(message.id, exc.code, exc.message)
                else:
                    result = await self.edge.dispatcher.initialize_result(entry, init.protocolVersion,
                                                                          caller.consumer_id)
                    session.protocol_version = init.protocolVersion
                    session.client_capabilities = init.capabilities
                    session.client_info = init.clientInfo
                    await self.edge.sessions.save(session)
                    answer = jsonrpc.result(message.id, result)
            else:
                answer = await self.edge.dispatcher.request(message, session, entry, caller,
                                                            _ToStream(self, session.id))
        except McpgwError as exc:
            answer = jsonrpc.error(message.id, jsonrpc.INTERNAL_ERROR, f"gateway error: {exc.message}")
        except Exception:
            log.exception("SSE request failed")
            answer = jsonrpc.error(message.id, jsonrpc.INTERNAL_ERROR, "internal error")
        await self.deliver(session.id, answer)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, session_id: str, payload: bytes) -> None:
        if self.edge.hub.deliver(session_id, payload):
            return
        await self.edge.bus.publish(self.edge.bus.subjects.edge_sse(session_id),
                                    SseDeliver(session_id=session_id, payload=msgspec.Raw(payload)))

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)


class _ToStream:
    """A relayed request's events on a legacy session's one stream."""

    def __init__(self, transport: LegacySse, session_id: str) -> None:
        self._transport = transport
        self._session_id = session_id

    def event(self, payload: bytes) -> None:
        # In order: a local stream takes it now; another replica's gets it over NATS.
        transport = self._transport
        if not transport.edge.hub.deliver(self._session_id, payload):
            transport._spawn(transport.deliver(self._session_id, payload))

    def pause(self, retry_ms: int) -> None:
        """The legacy transport has no polling: its stream stays open for the answer."""
