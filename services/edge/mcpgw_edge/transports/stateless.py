"""Streamable HTTP in MCP 2026-07-28: self-contained POSTs, no session, `subscriptions/listen` streams.

A request is modern when it says `MCP-Protocol-Version: 2026-07-28`; the headers name its method
(and tool), checked against the body once (`mcp/modern.py`). Nothing is read from Redis: the
consumer is checked per request (decisions cached) and the server comes from the edge's cache.
A hosted server's requests go to hosting, which passes them through to a 2026-07-28 upstream as
they are, or bridges them to a handshake-era one. An assembled server lists and calls its sources'
tools: a REST source's through toolexec, a hosted source's through hosting, in this revision.
"""

from __future__ import annotations

import logging
import secrets

import msgspec

from mcpgw import jsonrpc
from mcpgw.jsonrpc import INVALID_PARAMS, INVALID_REQUEST, Message, RpcError
from mcpgw.protocol import MODERN_VERSION, header_value
from mcpgw_edge.context import Edge
from mcpgw_edge.http import EventSink, EventStream, Request, Response
from mcpgw_edge.mcp import modern, param_headers
from mcpgw_edge.mcp.caller import Caller
from mcpgw_edge.mcp.dispatch import decode_call, list_offset, trace_parent
from mcpgw_edge.mcp.hosted import Listener, filter_tools, result_of, tool_name
from mcpgw_edge.mcp.modern import Refusal
from mcpgw_edge.servers import ServerEntry
from mcpgw_edge.telemetry import Observed
from mcpgw_edge.transports.events import pump
from mcpgw_edge.transports.relayed import Relayed
from mcpgw_edge.transports.replies import json_response, rpc_error_response

log = logging.getLogger(__name__)

ACCEPTED = Response(202)


# Headers a 2026-07-28 request carries upstream with it (lowercase, as the seam gives them).
PROTOCOL_HEADERS = ("mcp-protocol-version", "mcp-method", "mcp-name")


class Stateless:
    def __init__(self, edge: Edge, relayed: Relayed) -> None:
        self.edge = edge
        self._relayed = relayed

    async def post(self, request: Request, message: Message | list[Message], entry: ServerEntry,
                   caller: Caller) -> Response | EventStream:
        if isinstance(message, list):
            return rpc_error_response(400, INVALID_REQUEST, f"batches are not part of revision {MODERN_VERSION}")
        if not message.is_request:
            if not message.is_notification:
                return rpc_error_response(400, INVALID_REQUEST,
                                          f"a {MODERN_VERSION} client sends no responses: input goes in a retry")
            return ACCEPTED  # this revision defines no client notification over HTTP: nothing to do
        request_id = message.id
        assert isinstance(request_id, int | str)
        if message.method == "tools/call" and entry.kind == "rest":  # the hot path: params decoded once
            try:
                return await self._rest_call(request, message, request_id, entry, caller)
            except Refusal as refusal:
                return rpc_error_response(refusal.status, refusal.code, refusal.message, request_id,
                                          data=refusal.data)
        with Observed(self.edge.dispatcher.metrics, entry.snapshot.name, str(message.method), "", request_id, "",
                      trace_parent(message.params)) as seen:
            answer = await self._observed(request, message, request_id, entry, caller)
            if isinstance(answer, Response):
                seen.answered(answer.body)
            return answer

    async def _observed(self, request: Request, message: Message, request_id: int | str, entry: ServerEntry,
                        caller: Caller) -> Response | EventStream:
        try:
            modern.check(message, request.header("mcp-method"), request.header("mcp-name"))
            if message.method in modern.REMOVED:
                raise modern.not_found(str(message.method))  # whatever era the upstream speaks
            if entry.kind == "hosted":
                return await self._hosted(request, message, request_id, entry, caller)
            if entry.kind == "assembly" and message.method in ("tools/list", "tools/call"):
                return await self._assembled(request, message, request_id, entry, caller)
            return await self._answer(message, request_id, entry, caller)
        except Refusal as refusal:
            return rpc_error_response(refusal.status, refusal.code, refusal.message, request_id, data=refusal.data)

    async def _rest_call(self, request: Request, message: Message, request_id: int | str, entry: ServerEntry,
                         caller: Caller) -> Response:
        """A REST tool's call: its params decoded once, for the header checks and for the call."""
        header_method, header_name = request.header("mcp-method"), request.header("mcp-name")
        dispatcher = self.edge.dispatcher
        try:
            call = decode_call(message.params)
        except RpcError as exc:
            modern.check(message, header_method, header_name)  # a malformed _meta or header is said first
            return json_response(jsonrpc.error(request_id, exc.code, exc.message))
        modern.check_decoded("tools/call", call.meta, call.name, header_method, header_name)
        # x-mcp-header arguments mirrored in Mcp-Param-* headers
        param_headers.check_call(entry, message.params, request.headers, caller.allowed)
        try:
            payload = await dispatcher.call_decoded(call, "", entry, caller, request_id)
        except RpcError as exc:
            return json_response(jsonrpc.error(request_id, exc.code, exc.message))
        return json_response(jsonrpc.result(request_id, modern.complete(payload)))

    async def _answer(self, message: Message, request_id: int | str, entry: ServerEntry,
                      caller: Caller) -> Response | EventStream:
        method = message.method
        edge = self.edge
        if method == "tools/list":
            try:
                offset = list_offset(message.params)
            except RpcError as exc:
                return json_response(jsonrpc.error(request_id, exc.code, exc.message))
            page = entry.tools_page(offset, edge.dispatcher.page_size, caller.allowed)
            # A consumer's grants shape the list: no shared cache may hand it to someone else.
            private = entry.snapshot.consumer_auth
            return json_response(jsonrpc.result(request_id, modern.cacheable(page, self._ttl(entry),
                                                                             private)))
        if method == "server/discover":
            return json_response(jsonrpc.result(request_id, modern.discover_result(entry, self._ttl(entry))))
        if method == "subscriptions/listen":
            return self._listen(message, request_id, entry)
        raise modern.not_found(str(method))

    async def _hosted(self, request: Request, message: Message, request_id: int | str, entry: ServerEntry,
                      caller: Caller) -> Response | EventStream:
        """Checked here (headers, grants), answered by the upstream through hosting."""
        allowed = caller.allowed
        if allowed is not None and message.method == "tools/call":
            name = tool_name(message.params)
            if name not in allowed:
                return json_response(jsonrpc.error(request_id, INVALID_PARAMS, f"Unknown tool: {name}"))
        headers = {name: value for name, value in request.headers.items()
                   if name in PROTOCOL_HEADERS or name.startswith("mcp-param-")}
        body = msgspec.json.encode(message)
        relay = self.edge.dispatcher.relay
        server_id = entry.snapshot.server_id

        async def work(listener: Listener) -> tuple[int, bytes]:
            status, answer = await relay.modern(server_id, caller, body, headers, listener)
            if message.method == "server/discover" and status == 200:
                # The versions are the gateway's to offer: the handshake era too (it opens an
                # upstream session for that), and none the gateway does not speak.
                answer = modern.with_versions(answer)
            if allowed is not None and message.method == "tools/list" and status == 200:
                result = result_of(answer)
                if result is not None:
                    # The consumer's grants shape this list: private to it, whatever the upstream said.
                    filtered = filter_tools(result, lambda n: n if n in allowed else None)
                    answer = jsonrpc.result(request_id, filtered.replace(b'"cacheScope":"public"',
                                                                         b'"cacheScope":"private"'))
            return status, answer

        return await self._relayed.respond(work, request_id, None, cancel_on_disconnect=True)

    async def _assembled(self, request: Request, message: Message, request_id: int | str, entry: ServerEntry,
                         caller: Caller) -> Response | EventStream:
        """An assembly's tools: listed from its sources, each call sent to the source owning the name
        (a hosted one in this revision too: passed through, or bridged by hosting)."""
        edge = self.edge
        assemblies = edge.dispatcher.assemblies
        allowed = caller.allowed
        if message.method == "tools/list":
            try:
                offset = list_offset(message.params)
            except RpcError as exc:
                return json_response(jsonrpc.error(request_id, exc.code, exc.message))
            members = await assemblies.members(None, entry, caller, fresh=offset == 0)
            visible = [m.entry for m in members.values() if allowed is None or m.exposed in allowed]
            size = edge.dispatcher.page_size
            page = b'{"tools":[' + b",".join(visible[offset:offset + size]) + b"]"
            if offset + size < len(visible):
                page += b',"nextCursor":' + msgspec.json.encode(str(offset + size))
            return json_response(jsonrpc.result(request_id, modern.cacheable(
                page + b"}", self._ttl(entry), private=True)))  # sources' lists vary: not shared
        name = tool_name(message.params)
        members = await assemblies.members(None, entry, caller)
        member = None if allowed is not None and name not in allowed else (
            members.get(name) or (await assemblies.members(None, entry, caller, fresh=True)).get(name))
        if member is None:
            return json_response(jsonrpc.error(request_id, INVALID_PARAMS, f"Unknown tool: {name}"))
        params = msgspec.json.decode(message.params) if message.params is not msgspec.UNSET else {}
        params["name"] = member.original
        source = member.source
        if source.kind == "hosted":
            body = msgspec.json.encode({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})
            headers = {name: value for name, value in request.headers.items()
                       if name in PROTOCOL_HEADERS or name.startswith("mcp-param-")}
            headers["mcp-name"] = header_value(member.original)
            relay, server_id = edge.dispatcher.relay, source.snapshot.server_id

            async def work(listener: Listener) -> tuple[int, bytes]:
                return await relay.modern(server_id, caller, body, headers, listener)

            return await self._relayed.respond(work, request_id, None, cancel_on_disconnect=True)
        inner = Caller(caller.consumer_id, None, caller.forward_headers)
        try:
            payload = await edge.dispatcher.call_tool(msgspec.Raw(msgspec.json.encode(params)), "", source, inner)
        except RpcError as exc:
            return json_response(jsonrpc.error(request_id, exc.code, exc.message))
        return json_response(jsonrpc.result(request_id, modern.complete(payload)))

    def _ttl(self, entry: ServerEntry) -> int:
        """`ttlMs` of the server's list results: its own (`listTtlMs`), else the edge's default."""
        own = entry.snapshot.list_ttl_ms
        return self.edge.settings.list_ttl_ms if own is None else own

    def _listen(self, message: Message, request_id: int | str, entry: ServerEntry) -> EventStream:
        """A stream of the change notifications the client opted in to (a REST server's: its tools)."""
        wanted = modern.listen_filter(message)
        agreed = {"toolsListChanged": True} if wanted.get("toolsListChanged") is True else {}
        hub = self.edge.hub
        # Keyed apart from sessions: a subscription belongs to no session.
        stream = hub.open("listen-" + secrets.token_hex(16), entry.snapshot.server_id)
        assert stream is not None  # a fresh key
        stream.tools_changed = modern.tools_list_changed(request_id) if agreed else None
        stream.send(modern.acknowledged(request_id, agreed))
        write_timeout = self.edge.settings.client_io_timeout

        async def run(sink: EventSink) -> None:
            try:
                await pump(sink, stream, write_timeout)
            finally:
                hub.release(stream)

        return EventStream(run)
