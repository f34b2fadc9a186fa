"""Hosted servers, edge side: a client session's messages go to the hosting worker, and back.

The edge still answers `ping` and `initialize` itself (with what the upstream says about itself)
and applies the consumer's tool grants; everything else is the upstream's to answer. Messages the
upstream sends while a request runs (progress, logging, sampling, elicitation) arrive as events
and go to the request's `Listener`, which the transport writes to the request's stream; so does
word that the upstream closed that stream to be polled.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from mcpgw import jsonrpc
from mcpgw.contracts import (
    ErrorCode,
    McpgwError,
    UpstreamCall,
    UpstreamCancel,
    UpstreamDescribe,
    UpstreamDescription,
    UpstreamEvent,
    UpstreamReply,
)
from mcpgw.jsonrpc import INVALID_PARAMS, NULL, Message, RpcError
from mcpgw.runtime.bus import Bus
from mcpgw_edge.mcp.caller import Caller
from mcpgw_edge.mcp.sessions import Session

log = logging.getLogger(__name__)

class Listener(Protocol):
    """Where a relayed request's events go while it runs, in order."""

    def event(self, payload: bytes) -> None:
        """A JSON-RPC message for the client, on the request's stream."""

    def pause(self, retry_ms: int) -> None:
        """The upstream closed the request's stream to be polled in `retry_ms`; the answer comes later."""
_event = msgspec.json.Decoder(UpstreamEvent)


class _Named(msgspec.Struct):
    name: str = ""


class _Page(msgspec.Struct):
    tools: list[msgspec.Raw] = []


class _Answer(msgspec.Struct):
    result: msgspec.Raw = msgspec.field(default_factory=lambda: NULL)


_named = msgspec.json.Decoder(_Named)
_page = msgspec.json.Decoder(_Page)
_answer = msgspec.json.Decoder(_Answer)


def tool_name(params: msgspec.Raw | msgspec.UnsetType) -> str:
    if params is msgspec.UNSET:
        raise RpcError(INVALID_PARAMS, "params.name: required")
    try:
        return _named.decode(params).name
    except msgspec.DecodeError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid tools/call params: {exc}") from None


def filter_tools(result: bytes, keep: Callable[[str], str | None]) -> bytes:
    """A `tools/list` result with only the tools `keep` names (renamed to what it returns)."""
    try:
        fields: dict[str, Any] = msgspec.json.decode(result)
        tools = _page.decode(result).tools
    except msgspec.DecodeError:
        return result
    kept: list[Any] = []
    for raw in tools:
        name = _named.decode(raw).name
        exposed = keep(name)
        if exposed is not None:
            kept.append(raw if exposed == name else msgspec.Raw(renamed(bytes(raw), exposed)))
    fields["tools"] = kept
    return msgspec.json.encode(fields)


def renamed(tool: bytes, name: str) -> bytes:
    """A tool's listing entry under another name (an assembly's alias)."""
    fields: dict[str, Any] = msgspec.json.decode(tool)
    fields["name"] = name
    return msgspec.json.encode(fields)


def name_of(tool: bytes | msgspec.Raw) -> str:
    return _named.decode(tool).name


# hosting gives an upstream 10 s (its DESCRIBE_TIMEOUT) to answer initialize; this is the bound
# on the whole exchange, above it so that the client hears what failed.
DESCRIBE_TIMEOUT = 15.0


class HostedRelay:
    def __init__(self, bus: Bus, timeout: float) -> None:
        self._bus = bus
        self._timeout = timeout
        self._notices: set[asyncio.Future[None]] = set()

    async def describe(self, server_id: str, consumer_id: str) -> UpstreamDescription:
        return await self._bus.request(self._bus.subjects.hosting_describe,
                                       UpstreamDescribe(server_id=server_id, consumer_id=consumer_id),
                                       UpstreamDescription, timeout=DESCRIBE_TIMEOUT)

    def _call(self, server_id: str, session: Session, caller: Caller, body: bytes) -> UpstreamCall:
        return UpstreamCall(server_id=server_id, session_id=session.id, consumer_id=session.consumer_id,
                            message=msgspec.Raw(body), client_capabilities=session.client_capabilities,
                            client_info=session.client_info, forward_headers=caller.forward_headers,
                            backend=caller.backend)

    async def request(self, server_id: str, session: Session, caller: Caller, message: Message,
                      listener: Listener | None, body: bytes | None = None) -> bytes:
        """The upstream's response to `message` (JSON-RPC bytes, with the client's id)."""
        def relay_event(data: bytes) -> None:
            if listener is None:
                return
            try:
                event = _event.decode(data)
            except msgspec.DecodeError:
                log.warning("dropping a malformed event from hosting")
                return
            if event.keepalive:
                return  # it restarted the request's timeout: that was all it was for
            if event.retry_ms is not None:
                listener.pause(event.retry_ms)
            else:
                listener.event(bytes(event.message))

        payload = body if body is not None else msgspec.json.encode(message)
        try:
            reply = await self._bus.request(self._bus.subjects.hosting_call(server_id),
                                            self._call(server_id, session, caller, payload),
                                            UpstreamReply, timeout=self._timeout, on_event=relay_event,
                                            watch=True)
        except McpgwError as exc:
            return self.failed(message, exc)
        response = reply.response
        if response is None:
            return self.failed(message, McpgwError(ErrorCode.INTERNAL, "hosting answered without a response"))
        return response

    async def modern(self, server_id: str, caller: Caller, body: bytes, headers: dict[str, str],
                     listener: Listener) -> tuple[int, bytes]:
        """A 2026-07-28 request passed through as it is, outside any session: the upstream's HTTP status
        and response (its progress and log notifications go to `listener` before)."""
        def relay_event(data: bytes) -> None:
            try:
                event = _event.decode(data)
            except msgspec.DecodeError:
                log.warning("dropping a malformed event from hosting")
                return
            if not event.keepalive:
                listener.event(bytes(event.message))

        call = UpstreamCall(server_id=server_id, session_id="", consumer_id=caller.consumer_id,
                            message=msgspec.Raw(body), forward_headers=caller.forward_headers,
                            modern_headers=headers, call_id=secrets.token_hex(12), backend=caller.backend)
        try:
            reply = await self._bus.request(self._bus.subjects.hosting_call(server_id), call, UpstreamReply,
                                            timeout=self._timeout, on_event=relay_event, watch=True)
        except McpgwError as exc:
            return 200, self.failed(msgspec.json.decode(body, type=Message), exc)
        except asyncio.CancelledError:
            # The client closed its stream: in 2026-07-28 that cancels the request, upstream too.
            notice = asyncio.ensure_future(self._bus.publish(self._bus.subjects.hosting_cancel,
                                                             UpstreamCancel(call_id=call.call_id)))
            self._notices.add(notice)
            notice.add_done_callback(self._notices.discard)
            raise
        response = reply.response
        if response is None:
            return reply.status, b""
        return reply.status, response

    async def send(self, server_id: str, session: Session, caller: Caller, message: Message) -> None:
        """A notification, or the client's answer to a relayed request: passed on, nothing comes back."""
        try:
            await self._bus.request(self._bus.subjects.hosting_call(server_id),
                                    self._call(server_id, session, caller, msgspec.json.encode(message)),
                                    UpstreamReply, timeout=self._timeout)
        except McpgwError as exc:
            log.info("could not pass %s on to server %s: %s", message.method or "a response", server_id, exc.message)

    @staticmethod
    def failed(message: Message, exc: McpgwError) -> bytes:
        request_id = message.id
        assert isinstance(request_id, int | str)
        text = f"gateway error: {exc.message}"
        if message.method == "tools/call":
            return jsonrpc.result(request_id, msgspec.json.encode(
                {"content": [{"type": "text", "text": text}], "isError": True}))
        return jsonrpc.error(request_id, jsonrpc.INTERNAL_ERROR, text)


def result_of(answer: bytes) -> bytes | None:
    """The `result` of a JSON-RPC response, None for an error."""
    try:
        result = bytes(_answer.decode(answer).result)
    except msgspec.DecodeError:
        return None
    return None if result == b"null" else result
