"""MCP methods answered by the edge itself, the same for both transports."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from opentelemetry import trace

from mcpgw.contracts import ErrorCode, McpgwError, ToolCallReply, ToolCallRequest
from mcpgw.runtime import tracing
from mcpgw.runtime.bus import Bus
from mcpgw import jsonrpc
from mcpgw_edge.mcp.caller import Caller
from mcpgw.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, Message, RpcError
from mcpgw_edge.mcp.sessions import Session
from mcpgw_edge.servers import ServerEntry

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mcpgw.edge")

from mcpgw.protocol import GATEWAY_VERSION, LATEST_VERSION, MODERN_VERSION, SUPPORTED_VERSIONS

__all__ = ["GATEWAY_VERSION", "LATEST_VERSION", "MODERN_VERSION", "SUPPORTED_VERSIONS", "Dispatcher"]


_EMPTY_ARGS = msgspec.Raw(b"{}")


class InitializeParams(msgspec.Struct):
    protocolVersion: str
    capabilities: dict[str, Any] = {}
    clientInfo: dict[str, Any] = {}


class CallParams(msgspec.Struct):
    name: str
    # Passed to toolexec undecoded; msgspec cannot combine Raw with None, so `null` arrives as b"null".
    arguments: msgspec.Raw = msgspec.field(default_factory=lambda: _EMPTY_ARGS)


class ListParams(msgspec.Struct):
    cursor: str | None = None


_init_params = msgspec.json.Decoder(InitializeParams)
_call_params = msgspec.json.Decoder(CallParams)
_list_params = msgspec.json.Decoder(ListParams)


def negotiate(params: msgspec.Raw | msgspec.UnsetType) -> str:
    if params is msgspec.UNSET:
        raise RpcError(INVALID_PARAMS, "params.protocolVersion: required")
    try:
        init = _init_params.decode(params)
    except msgspec.DecodeError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid initialize params: {exc}") from None
    # Echo a version we speak; otherwise counter-offer the latest, as the spec asks.
    return init.protocolVersion if init.protocolVersion in SUPPORTED_VERSIONS else LATEST_VERSION


def initialize_result(entry: ServerEntry, version: str) -> bytes:
    snapshot = entry.snapshot
    info: dict[str, Any] = {"name": snapshot.name, "version": GATEWAY_VERSION}
    if snapshot.server is not None and snapshot.server.version:
        info["version"] = snapshot.server.version
    result: dict[str, Any] = {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": True}},
        "serverInfo": info,
    }
    if snapshot.description:
        result["instructions"] = snapshot.description
    return msgspec.json.encode(result)


class Dispatcher:
    """Answers one JSON-RPC request of an initialized session; returns the response bytes."""

    def __init__(self, bus: Bus, tool_call_timeout: float, page_size: int) -> None:
        self._bus = bus
        self._timeout = tool_call_timeout
        self._page_size = page_size

    async def request(self, message: Message, session: Session, entry: ServerEntry, caller: Caller) -> bytes:
        request_id = message.id
        assert isinstance(request_id, int | str)
        try:
            method = message.method
            if method == "tools/call":
                payload = await self._call(message.params, session, entry, caller)
            elif method == "tools/list":
                payload = self._list(message.params, entry, caller.allowed)
            elif method == "ping":
                payload = b"{}"
            elif method == "initialize":
                # A second initialize on a live session: answer it without creating another session.
                payload = initialize_result(entry, negotiate(message.params))
            else:
                raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
        except RpcError as exc:
            return jsonrpc.error(request_id, exc.code, exc.message)
        return jsonrpc.result(request_id, payload)

    def _list(self, params: msgspec.Raw | msgspec.UnsetType, entry: ServerEntry,
              allowed: frozenset[str] | None) -> bytes:
        offset = 0
        if params is not msgspec.UNSET:
            try:
                cursor = _list_params.decode(params).cursor
            except msgspec.DecodeError as exc:
                raise RpcError(INVALID_PARAMS, f"invalid params: {exc}") from None
            if cursor is not None:
                if not cursor.isdigit():
                    raise RpcError(INVALID_PARAMS, "invalid cursor")
                offset = int(cursor)
        return entry.tools_page(offset, self._page_size, allowed)

    async def _call(self, params: msgspec.Raw | msgspec.UnsetType, session: Session, entry: ServerEntry,
                    caller: Caller) -> bytes:
        if params is msgspec.UNSET:
            raise RpcError(INVALID_PARAMS, "params.name: required")
        try:
            call = _call_params.decode(params)
        except msgspec.DecodeError as exc:
            raise RpcError(INVALID_PARAMS, f"invalid tools/call params: {exc}") from None
        allowed = caller.allowed
        if call.name not in entry.tools or (allowed is not None and call.name not in allowed):
            raise RpcError(INVALID_PARAMS, f"Unknown tool: {call.name}")
        arguments = call.arguments
        if bytes(arguments) == b"null":
            arguments = _EMPTY_ARGS
        elif bytes(memoryview(arguments)[:1]) != b"{":
            raise RpcError(INVALID_PARAMS, "params.arguments: must be an object")
        snapshot = entry.snapshot
        with tracing.span(tracer, "tools/call", attributes={"mcp.server": snapshot.name, "mcp.tool": call.name}):
            try:
                reply = await self._bus.request(
                    entry.call_subject,
                    ToolCallRequest(server_id=snapshot.server_id, revision=snapshot.revision, tool=call.name,
                                    arguments=arguments, session_id=session.id, consumer_id=session.consumer_id,
                                    forward_headers=caller.forward_headers,
                                    client_credential=caller.client_credential),
                    ToolCallReply,
                    timeout=self._timeout,
                )
            except McpgwError as exc:
                return self._failed_call(exc, call.name)
        return bytes(reply.result)

    @staticmethod
    def _failed_call(exc: McpgwError, tool: str) -> bytes:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.INVALID_PARAMETER):
            raise RpcError(INVALID_PARAMS, exc.message)
        if exc.code is ErrorCode.TIMEOUT:
            # The model may retry a slow tool; this is a tool failure, not a protocol error.
            return msgspec.json.encode({"content": [{"type": "text", "text": f"tool {tool} timed out"}],
                                        "isError": True})
        log.warning("tools/call %s failed: %s", tool, exc.message)
        raise RpcError(jsonrpc.INTERNAL_ERROR, f"gateway error: {exc.message}")
