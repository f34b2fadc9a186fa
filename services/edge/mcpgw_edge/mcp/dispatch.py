"""MCP methods answered by the edge itself, the same for both transports."""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec

from mcpgw import jsonrpc
from mcpgw.contracts import ErrorCode, McpgwError, ToolCallReply, ToolCallRequest, parse_relay_id
from mcpgw.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, Message, RpcError
from mcpgw.protocol import GATEWAY_VERSION, LATEST_VERSION, MODERN_VERSION, SUPPORTED_VERSIONS
from mcpgw.runtime import tracing
from mcpgw.runtime.bus import Bus
from mcpgw_edge import telemetry
from mcpgw_edge.mcp.assembly import Assemblies
from mcpgw_edge.mcp.caller import Caller
from mcpgw_edge.mcp.counting import EdgeCounts
from mcpgw_edge.mcp.hosted import HostedRelay, Listener, filter_tools, result_of, tool_name
from mcpgw_edge.mcp.modern import RequestMeta
from mcpgw_edge.mcp.sessions import Session
from mcpgw_edge.servers import ServerEntry
from mcpgw_edge.telemetry import EdgeMetrics, Observed, tracer

log = logging.getLogger(__name__)
_UNKNOWN_TOOL = str(INVALID_PARAMS)

__all__ = ["GATEWAY_VERSION", "LATEST_VERSION", "MODERN_VERSION", "SUPPORTED_VERSIONS", "Dispatcher"]


_EMPTY_ARGS = msgspec.Raw(b"{}")


class InitializeParams(msgspec.Struct):
    protocolVersion: str
    # Kept undecoded: a hosted server's upstream session is opened with the client's own.
    capabilities: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))
    clientInfo: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))


class CallParams(msgspec.Struct):
    name: str
    # Passed to toolexec undecoded; msgspec cannot combine Raw with None, so `null` arrives as b"null".
    arguments: msgspec.Raw = msgspec.field(default_factory=lambda: _EMPTY_ARGS)
    meta: RequestMeta | None = msgspec.field(default=None, name="_meta")


class _Traced(msgspec.Struct):
    meta: RequestMeta | None = msgspec.field(default=None, name="_meta")


_traced = msgspec.json.Decoder(_Traced)


def decode_call(params: msgspec.Raw | msgspec.UnsetType) -> CallParams:
    """A `tools/call`'s params: the tool, its arguments (undecoded) and what its `_meta` says."""
    if params is msgspec.UNSET:
        raise RpcError(INVALID_PARAMS, "params.name: required")
    try:
        return _call_params.decode(params)
    except msgspec.DecodeError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid tools/call params: {exc}") from None


def trace_parent(params: msgspec.Raw | msgspec.UnsetType) -> dict[str, str] | None:
    """The trace context in a request's `_meta`, if any (both eras)."""
    if params is msgspec.UNSET:
        return None
    try:
        meta = _traced.decode(params).meta
    except msgspec.DecodeError:
        return None
    return None if meta is None else meta.parent()


class ListParams(msgspec.Struct):
    cursor: str | None = None


_init_params = msgspec.json.Decoder(InitializeParams)
_call_params = msgspec.json.Decoder(CallParams)
_list_params = msgspec.json.Decoder(ListParams)


def hello(params: msgspec.Raw | msgspec.UnsetType) -> InitializeParams:
    """The client's initialize params, with `protocolVersion` set to the revision to speak."""
    if params is msgspec.UNSET:
        raise RpcError(INVALID_PARAMS, "params.protocolVersion: required")
    try:
        init = _init_params.decode(params)
    except msgspec.DecodeError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid initialize params: {exc}") from None
    # Echo a version we speak; otherwise counter-offer the latest, as the spec asks.
    if init.protocolVersion not in SUPPORTED_VERSIONS:
        init.protocolVersion = LATEST_VERSION
    return init


def negotiate(params: msgspec.Raw | msgspec.UnsetType) -> str:
    return hello(params).protocolVersion


def initialize_result(entry: ServerEntry, version: str) -> bytes:
    snapshot = entry.snapshot
    info: dict[str, Any] = {"name": snapshot.name, "version": GATEWAY_VERSION}
    if snapshot.version:
        info["version"] = snapshot.version
    result: dict[str, Any] = {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": True}},
        "serverInfo": info,
    }
    if snapshot.description:
        result["instructions"] = snapshot.description
    return msgspec.json.encode(result)


def list_offset(params: msgspec.Raw | msgspec.UnsetType) -> int:
    if params is msgspec.UNSET:
        return 0
    try:
        cursor = _list_params.decode(params).cursor
    except msgspec.DecodeError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid params: {exc}") from None
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise RpcError(INVALID_PARAMS, "invalid cursor")
    return int(cursor)


def _with_name(params: msgspec.Raw | msgspec.UnsetType, name: str) -> msgspec.Raw:
    fields: dict[str, Any] = {} if params is msgspec.UNSET else msgspec.json.decode(params)
    fields["name"] = name
    return msgspec.Raw(msgspec.json.encode(fields))


class Dispatcher:
    """Answers one JSON-RPC request of an initialized session; returns the response bytes.

    For a hosted or assembled server, what the upstream sends while the request runs goes to
    `listener` (the transport writes it to the request's stream).
    """

    def __init__(self, bus: Bus, tool_call_timeout: float, page_size: int, relay: HostedRelay,
                 assemblies: Assemblies, counts: EdgeCounts | None = None) -> None:
        self._bus = bus
        self._timeout = tool_call_timeout
        self.page_size = page_size
        self.relay = relay
        self.assemblies = assemblies
        self.metrics = EdgeMetrics()
        self.counts = counts if counts is not None else EdgeCounts(None)

    async def initialize_result(self, entry: ServerEntry, version: str, consumer_id: str) -> bytes:
        """What `initialize` answers: a hosted server's capabilities and identity are its upstream's."""
        if entry.kind != "hosted":
            return initialize_result(entry, version)
        upstream = await self.relay.describe(entry.snapshot.server_id, consumer_id)
        result: dict[str, Any] = {"protocolVersion": version, "capabilities": upstream.capabilities,
                                  "serverInfo": upstream.server_info}
        instructions = upstream.instructions or entry.snapshot.description
        if instructions:
            result["instructions"] = instructions
        return msgspec.json.encode(result)

    async def request(self, message: Message, session: Session, entry: ServerEntry, caller: Caller,
                      listener: Listener | None = None) -> bytes:
        request_id = message.id
        assert isinstance(request_id, int | str)
        method = message.method
        kind = entry.kind
        if method == "tools/call" and kind == "rest":  # the hot path first (timed and traced in there)
            try:
                payload = await self.call_decoded(decode_call(message.params), session.id, entry, caller, request_id)
            except RpcError as exc:
                return jsonrpc.error(request_id, exc.code, exc.message)
            return jsonrpc.result(request_id, payload)
        # A hosted or assembled server's tools are its upstreams': not a label (a client names any).
        with Observed(self.metrics, entry.snapshot.name, str(method), "", request_id, session.id,
                      trace_parent(message.params)) as seen:
            try:
                return seen.answered(await self._answer(message, session, entry, caller, listener))
            except RpcError as exc:
                seen.done(str(exc.code))
                return jsonrpc.error(request_id, exc.code, exc.message)

    async def _answer(self, message: Message, session: Session, entry: ServerEntry, caller: Caller,
                      listener: Listener | None) -> bytes:
        request_id = message.id
        assert isinstance(request_id, int | str)
        method = message.method
        kind = entry.kind
        if method == "ping":
            payload = b"{}"
        elif method == "initialize":
            # A second initialize on a live session: answer it without creating another session.
            try:
                payload = await self.initialize_result(entry, negotiate(message.params), caller.consumer_id)
            except McpgwError as exc:
                raise RpcError(jsonrpc.INTERNAL_ERROR, f"gateway error: {exc.message}") from None
        elif kind != "rest" and not session.protocol_version:
            # A legacy SSE session before its initialize: its upstream session would be opened
            # without the capabilities the client is about to declare.
            raise RpcError(jsonrpc.INVALID_REQUEST, f"{method}: initialize the session first")
        elif kind == "hosted":
            return await self._hosted(message, session, entry, caller, listener)
        elif kind == "assembly":
            return await self._assembled(message, session, entry, caller, listener)
        elif method == "tools/list":
            payload = entry.tools_page(list_offset(message.params), self.page_size, caller.allowed)
        else:
            raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
        return jsonrpc.result(request_id, payload)

    async def forward(self, message: Message, session: Session, entry: ServerEntry, caller: Caller) -> None:
        """A notification or a response from the client: to the upstream(s) it concerns, if any."""
        if entry.kind == "rest" or message.method == "notifications/initialized":
            return
        sources = [entry.snapshot.server_id] if entry.kind == "hosted" else \
            [s.server_id for s in entry.snapshot.sources]
        if message.method is msgspec.UNSET:  # the answer to a relayed server-to-client request
            parsed = parse_relay_id(message.id)
            if parsed is not None and parsed[0] in sources:
                await self.relay.send(parsed[0], session, caller, message)
            return
        for server_id in sources:
            if entry.kind == "assembly":
                source = await self.assemblies.source(server_id)
                if source is None or source.kind != "hosted":
                    continue
            await self.relay.send(server_id, session, caller, message)

    async def _hosted(self, message: Message, session: Session, entry: ServerEntry, caller: Caller,
                      listener: Listener | None) -> bytes:
        allowed = caller.allowed
        method = message.method
        if method == "tools/call" and allowed is not None:
            name = tool_name(message.params)
            if name not in allowed:
                # Not granted: hosting never sees it, so it is counted here (its upstream's names are
                # not known here: an ungranted name counts as unknown).
                self.counts.refused(entry.snapshot, name, False, caller.consumer_id, time.perf_counter())
                raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
        answer = await self.relay.request(entry.snapshot.server_id, session, caller, message, listener)
        if method == "tools/list" and allowed is not None:
            result = result_of(answer)
            if result is not None:
                assert isinstance(message.id, int | str)
                answer = jsonrpc.result(message.id, filter_tools(result, lambda n: n if n in allowed else None))
        return answer

    async def _assembled(self, message: Message, session: Session, entry: ServerEntry, caller: Caller,
                         listener: Listener | None) -> bytes:
        request_id = message.id
        assert isinstance(request_id, int | str)
        allowed = caller.allowed
        method = message.method
        if method == "tools/list":
            offset = list_offset(message.params)
            members = await self.assemblies.members(session, entry, caller, fresh=offset == 0)
            visible = [m.entry for m in members.values() if allowed is None or m.exposed in allowed]
            chunk = visible[offset:offset + self.page_size]
            body = b'{"tools":[' + b",".join(chunk) + b"]"
            if offset + self.page_size < len(visible):
                body += b',"nextCursor":' + msgspec.json.encode(str(offset + self.page_size))
            return jsonrpc.result(request_id, body + b"}")
        if method != "tools/call":
            raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
        started = time.perf_counter()
        name = tool_name(message.params)
        members = await self.assemblies.members(session, entry, caller)
        member = members.get(name)
        if allowed is not None and name not in allowed:
            self.counts.refused(entry.snapshot, name, member is not None, caller.consumer_id, started)
            raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
        member = member or (await self.assemblies.members(session, entry, caller, fresh=True)).get(name)
        if member is None:
            self.counts.refused(entry.snapshot, name, False, caller.consumer_id, started)
            raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
        params = _with_name(message.params, member.original) if member.original != name else message.params
        source = member.source
        size = len(params) if isinstance(params, msgspec.Raw) else 0
        # The sources' workers count under the sources; the assembly's own statistics are the edge's.
        if source.kind == "hosted":
            call = Message(jsonrpc="2.0", id=message.id, method="tools/call", params=params)
            answer = await self.relay.request(source.snapshot.server_id, session, caller, call, listener)
            self.counts.answered(entry.snapshot, name, caller.consumer_id, started, result_of(answer), size)
            return answer
        # The assembly's grants were applied above; the source's own tool check still holds.
        inner = Caller(caller.consumer_id, None, caller.forward_headers)
        try:
            payload = await self._call(params, session.id, source, inner)
        except RpcError:
            self.counts.answered(entry.snapshot, name, caller.consumer_id, started, None, size)
            raise
        self.counts.answered(entry.snapshot, name, caller.consumer_id, started, payload, size)
        return jsonrpc.result(request_id, payload)

    async def call_tool(self, params: msgspec.Raw | msgspec.UnsetType, session_id: str, entry: ServerEntry,
                        caller: Caller) -> bytes:
        """A REST tool's result payload (a 2026-07-28 request has no session: `session_id` is empty)."""
        return await self._call(params, session_id, entry, caller)

    async def _call(self, params: msgspec.Raw | msgspec.UnsetType, session_id: str, entry: ServerEntry,
                    caller: Caller) -> bytes:
        return await self.call_decoded(decode_call(params), session_id, entry, caller)

    async def call_decoded(self, call: CallParams, session_id: str, entry: ServerEntry, caller: Caller,
                           request_id: object = None) -> bytes:
        """A REST tool's result payload for params decoded already (`decode_call`)."""
        started = time.perf_counter()
        allowed = caller.allowed
        snapshot = entry.snapshot
        parent = call.meta.parent() if call.meta is not None else None
        if call.name not in entry.tools or (allowed is not None and call.name not in allowed):
            # Neither a label nor a span name: a client may name any tool.
            with Observed(self.metrics, snapshot.name, "tools/call", "", request_id, session_id, parent) as seen:
                seen.done(_UNKNOWN_TOOL)
            self.counts.refused(snapshot, call.name, call.name in entry.tools, caller.consumer_id, started)
            raise RpcError(INVALID_PARAMS, f"Unknown tool: {call.name}")
        series = entry.series.get(call.name) or self.metrics.tool(entry.series, snapshot.name, call.name)
        opened = None
        passing = None
        if tracing.enabled():
            opened = telemetry.mcp_span("tools/call", call.name, request_id, session_id, snapshot.name, parent)
        elif parent:  # not tracing here: a traced client's context still goes on, unchanged
            passing = tracing.span(tracer, "", parent=parent)
            passing.__enter__()
        outcome = telemetry.OK
        try:
            reply = await self._send_call(call, session_id, entry, caller)
            if isinstance(reply, tuple):  # an isError result the gateway made (timeout, lost worker)
                outcome, made = reply
                return made
            if reply.is_error:
                outcome = telemetry.TOOL_ERROR
            return bytes(reply.result)
        except RpcError as exc:
            outcome = str(exc.code)
            raise
        except BaseException:
            outcome = telemetry.INTERNAL
            raise
        finally:
            if passing is not None:
                passing.__exit__(None, None, None)
            elapsed = time.perf_counter() - started
            if outcome is telemetry.OK:
                series.ok.observe(elapsed)
            elif outcome is telemetry.TOOL_ERROR:
                series.tool_error.observe(elapsed)
            else:
                series.other(outcome).observe(elapsed)
            if opened is not None:
                telemetry.end_span(opened, outcome)

    async def _send_call(self, call: CallParams, session_id: str, entry: ServerEntry,
                         caller: Caller) -> ToolCallReply | tuple[str, bytes]:
        """toolexec's reply, or (outcome, result) of an isError result the gateway made itself."""
        arguments = call.arguments
        if bytes(arguments) == b"null":
            arguments = _EMPTY_ARGS
        elif bytes(memoryview(arguments)[:1]) != b"{":
            raise RpcError(INVALID_PARAMS, "params.arguments: must be an object")
        snapshot = entry.snapshot
        request = ToolCallRequest(server_id=snapshot.server_id, revision=snapshot.revision, tool=call.name,
                                  arguments=arguments, session_id=session_id, consumer_id=caller.consumer_id,
                                  forward_headers=caller.forward_headers, client_credential=caller.client_credential,
                                  backend=caller.backend)
        try:
            return await self._bus.request(entry.call_subject, request, ToolCallReply, timeout=self._timeout,
                                           watch=True)
        except McpgwError as exc:
            if (exc.code is not ErrorCode.WORKER_LOST or not entry.tools[call.name].repeatable
                    or not self._bus.nc.is_connected):
                return self._failed_call(exc, call.name)
            # Safe to repeat: once more, on whichever replica is left (the lost one's
            # subscription went with its connection). Not while NATS itself is away from us:
            # the retry would only wait for it too.
            log.warning("tools/call %s: %s; calling once more", call.name, exc.message)
            try:
                return await self._bus.request(entry.call_subject, request, ToolCallReply,
                                               timeout=self._timeout, watch=True)
            except McpgwError as again:
                return self._failed_call(again, call.name)

    @staticmethod
    def _failed_call(exc: McpgwError, tool: str) -> tuple[str, bytes]:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.INVALID_PARAMETER):
            raise RpcError(INVALID_PARAMS, exc.message)
        if exc.code is ErrorCode.TIMEOUT:
            # The model may retry a slow tool; this is a tool failure, not a protocol error.
            return "timeout", msgspec.json.encode({"content": [{"type": "text", "text": f"tool {tool} timed out"}],
                                                   "isError": True})
        if exc.code is ErrorCode.WORKER_LOST:
            log.warning("tools/call %s: %s", tool, exc.message)
            return "worker_lost", msgspec.json.encode({"content": [{"type": "text", "text": (
                f"tool {tool} failed: the gateway {exc.message}; the backend may or may not have received "
                "the call")}], "isError": True})
        log.warning("tools/call %s failed: %s", tool, exc.message)
        raise RpcError(jsonrpc.INTERNAL_ERROR, f"gateway error: {exc.message}")
