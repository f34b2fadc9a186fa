"""Relaying a client session's messages to its upstream session, and the upstream's back.

Requests go up with the client's own id and progress token (the upstream session is this client
session's alone, so they are unique there). What the upstream sends before the response goes to
the edge as events on the request's reply subject; its server-to-client requests get an id of
the gateway's making (`relay_id`) so that the client's answer, reaching any edge and any worker,
finds this upstream session again. A legacy SSE upstream is held by one worker: the others pass
its messages on to `hosting.held.<session>.<server>`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from nats.aio.msg import Msg

from mcpgw.contracts import (
    ErrorCode,
    McpgwError,
    SseDeliver,
    UpstreamCall,
    UpstreamCancel,
    UpstreamConfig,
    UpstreamEvent,
    UpstreamReply,
    parse_relay_id,
    relay_id,
)
from mcpgw.jsonrpc import INTERNAL_ERROR, NULL, Message
from mcpgw.jsonrpc import result as jsonrpc_result
from mcpgw.runtime.bus import Bus
from mcpgw.runtime.stats import Stats
from mcpgw.statistics import Outcome
from mcpgw_hosting.bridge import Bridge
from mcpgw_hosting.configs import UpstreamConfigs
from mcpgw_hosting.holders import Holders
from mcpgw_hosting.modern import ModernPassThrough
from mcpgw_hosting.reverse_bridge import PREFIX as REVERSE_PREFIX
from mcpgw_hosting.reverse_bridge import ReverseBridge
from mcpgw_hosting.sessions import BRIDGE_SESSION, SessionPool, UpstreamSession
from mcpgw_hosting.upstream.errors import SessionGone, UpstreamError
from mcpgw_hosting.upstream.legacy import LegacyUpstream
from mcpgw_hosting.upstream.streamable import OnMessage, OnPause, StreamableUpstream, ignore

log = logging.getLogger(__name__)

_message = msgspec.json.Decoder(Message)


class _Cancelled(msgspec.Struct):
    requestId: Any = None
    reason: str | None = None


class _CallParams(msgspec.Struct):
    name: str = ""


class _CallResult(msgspec.Struct):
    isError: bool = False


class _Outcome(msgspec.Struct):
    result: _CallResult | None = None
    error: msgspec.Raw = msgspec.field(default_factory=lambda: NULL)


_cancelled = msgspec.json.Decoder(_Cancelled)
_call_params = msgspec.json.Decoder(_CallParams)
_outcome = msgspec.json.Decoder(_Outcome)


def to_client(raw: bytes, server_id: str) -> bytes:
    """An upstream message as the client must see it: its requests (and their cancellation) re-id'd."""
    try:
        message = _message.decode(raw)
    except msgspec.DecodeError:
        return raw
    if message.method is msgspec.UNSET:
        return raw
    if message.id is not msgspec.UNSET and message.id is not None:
        message.id = relay_id(server_id, message.id)
        return msgspec.json.encode(message)
    if message.method == "notifications/cancelled" and message.params is not msgspec.UNSET:
        try:
            params = _cancelled.decode(message.params)
        except msgspec.DecodeError:
            return raw
        if isinstance(params.requestId, int | str) and not isinstance(params.requestId, bool):
            body: dict[str, Any] = {"requestId": relay_id(server_id, params.requestId)}
            if params.reason is not None:
                body["reason"] = params.reason
            message.params = msgspec.Raw(msgspec.json.encode(body))
            return msgspec.json.encode(message)
    return raw


def failure(message: Message, problem: str) -> bytes:
    """What the client gets when the upstream fails a request: `isError` for a tool call, else an error."""
    text = f"upstream error: {problem}"
    if message.method == "tools/call":
        result = {"content": [{"type": "text", "text": text}], "isError": True}
        return msgspec.json.encode({"jsonrpc": "2.0", "id": message.id, "result": result})
    return msgspec.json.encode({"jsonrpc": "2.0", "id": message.id, "error": {"code": INTERNAL_ERROR, "message": text}})



class Relay:
    def __init__(self, bus: Bus, configs: UpstreamConfigs, pool: SessionPool, holders: Holders,
                 modern: ModernPassThrough, bridge: Bridge, reverse: ReverseBridge, stats: Stats | None) -> None:
        self._bus = bus
        self.modern = modern
        self.bridge = bridge
        self.reverse = reverse
        self._configs = configs
        self.pool = pool
        self._stats = stats
        self.holders = holders
        holders.handle_held = self.handle_held
        self.calls = 0  # messages this worker took from the queue group, for tests and debugging
        self._running: dict[str, asyncio.Task[Any]] = {}

    async def unrelated(self, session_id: str, server_id: str, raw: bytes) -> None:
        """A message the upstream sent outside any request: to the client session's own stream (a
        bridged session has no client stream: its subscriptions take what they asked for)."""
        if session_id.startswith(BRIDGE_SESSION):
            await self.bridge.subscriptions.unrelated(session_id, server_id, raw)
            return
        payload = to_client(raw, server_id)
        await self._bus.publish(self._bus.subjects.edge_sse(session_id),
                                SseDeliver(session_id=session_id, payload=msgspec.Raw(payload)))

    async def handle(self, call: UpstreamCall, msg: Msg) -> UpstreamReply | None:
        self.calls += 1
        config = await self._configs.get(call.server_id, call.consumer_id)
        if call.modern_headers:  # 2026-07-28: passed through, or bridged to a handshake-era upstream
            return await self._modern_call(call, config, msg)
        if config.backend.transport == "StreamableHTTP" and await self.modern.modern_only(config):
            started = asyncio.get_running_loop().time()
            return self._counted(call, config, started, await self._to_modern(call, config, msg))
        if config.backend.transport == "SSE":
            answered = await self.holders.route(call, msg)
            if answered is not None:
                return answered  # by the worker that holds the session
        return await self._relay(call, config, msg.reply)

    async def handle_bridged(self, call: UpstreamCall, msg: Msg) -> UpstreamReply | None:
        """A message for a bridged call this worker holds, that landed on another worker first: a
        2026-07-28 client's retry, or a handshake-era client's answer to an input request."""
        config = await self._configs.get(call.server_id, call.consumer_id)
        if call.modern_headers:
            return await self.bridge.relay(call, config, msg)
        return await self._to_modern(call, config, msg)

    async def _to_modern(self, call: UpstreamCall, config: UpstreamConfig, msg: Msg) -> UpstreamReply | None:
        """A handshake-era client's message for a 2026-07-28-only upstream (`reverse_bridge.py`)."""
        try:
            message = _message.decode(call.message)
        except msgspec.DecodeError as exc:
            raise McpgwError(ErrorCode.INVALID_PARAMETER, f"malformed message: {exc}") from None
        if message.method is msgspec.UNSET:  # the client's answer to an input request
            parsed = parse_relay_id(message.id)
            if parsed is not None and isinstance(parsed[1], str) and parsed[1].startswith(REVERSE_PREFIX):
                if not await self.reverse.answer(parsed[1], message, msg):
                    return None  # the worker waiting for it answers
            return UpstreamReply()
        if message.id is msgspec.UNSET:
            return UpstreamReply()  # no client notification means anything to such an upstream
        if message.method == "logging/setLevel":
            assert isinstance(message.id, int | str)
            return UpstreamReply(message=msgspec.Raw(jsonrpc_result(message.id, b"{}")))
        await self.reverse.keep_listening(call, config)  # its change notifications, for the client's stream
        return await self.reverse.request(call, config, message, msg.reply)

    async def handle_held(self, call: UpstreamCall, msg: Msg) -> UpstreamReply | None:
        config = await self._configs.get(call.server_id, call.consumer_id)
        return await self._relay(call, config, msg.reply)

    async def _relay(self, call: UpstreamCall, config: UpstreamConfig, reply: str) -> UpstreamReply:
        try:
            message = _message.decode(call.message)
        except msgspec.DecodeError as exc:
            raise McpgwError(ErrorCode.INVALID_PARAMETER, f"malformed message: {exc}") from None
        headers = call.forward_headers or None
        if message.method is msgspec.UNSET:
            await self._answer(call, config, message, headers)
            return UpstreamReply()
        if message.id is msgspec.UNSET:
            if message.method != "notifications/initialized":  # the gateway sent its own
                await self._notify(call, config, bytes(call.message), headers)
            return UpstreamReply()

        server_id = call.server_id

        async def emit(raw: bytes) -> None:
            if reply:
                await self._bus.emit(reply, UpstreamEvent(message=msgspec.Raw(to_client(raw, server_id))))

        async def paused(retry_ms: int) -> None:
            if reply:
                await self._bus.emit(reply, UpstreamEvent(retry_ms=retry_ms))

        started = asyncio.get_running_loop().time()
        try:
            session = await self.pool.get(call, config)
            try:
                answer = await self._post(session, bytes(call.message), message, emit, paused, headers)
            except SessionGone:
                session = await self.pool.renew(session, call)
                answer = await self._post(session, bytes(call.message), message, emit, paused, headers)
        except UpstreamError as exc:
            log.info("server %s: %s failed: %s", server_id, message.method, exc.message)
            answer = failure(message, exc.message)
        if config.statistics and message.method == "tools/call" and self._stats is not None:
            self._record(call, message, answer, asyncio.get_running_loop().time() - started)
        return UpstreamReply(message=msgspec.Raw(answer))

    async def _modern_call(self, call: UpstreamCall, config: UpstreamConfig, msg: Msg) -> UpstreamReply | None:
        started = asyncio.get_running_loop().time()
        task = asyncio.current_task()
        if call.call_id and task is not None:
            self._running[call.call_id] = task  # its client closing the stream cancels it
        reply: UpstreamReply | None
        try:
            if await self.modern.speaks_modern(config):
                reply = await self.modern.relay(call, config, msg.reply)
            else:
                reply = await self.bridge.relay(call, config, msg)
        finally:
            self._running.pop(call.call_id, None)
        return self._counted(call, config, started, reply)

    async def cancel(self, event: UpstreamCancel) -> None:
        """A 2026-07-28 client went away: stop its call here, if it runs here (the upstream sees its
        request's connection close, which that revision makes the cancellation)."""
        task = self._running.pop(event.call_id, None)
        if task is not None:
            task.cancel()

    def _counted(self, call: UpstreamCall, config: UpstreamConfig, started: float,
                 reply: UpstreamReply | None) -> UpstreamReply | None:
        """Statistics for a tool call that went by a path of its own (2026-07-28, a bridge): counted
        once, when its result is in (not for each `input_required` round)."""
        if not config.statistics or self._stats is None or reply is None:
            return reply
        answer = reply.response
        if answer is None or b'"input_required"' in answer:
            return reply
        try:
            message = _message.decode(call.message)
        except msgspec.DecodeError:
            return reply
        if message.method == "tools/call":
            self._record(call, message, answer, asyncio.get_running_loop().time() - started)
        return reply

    def _record(self, call: UpstreamCall, message: Message, answer: bytes, seconds: float) -> None:
        """Statistics as for a REST tool: a result with isError is a tool error, a JSON-RPC error a
        protocol error; bytes are the client's message and the answer."""
        assert self._stats is not None
        try:
            name = _call_params.decode(message.params).name if message.params is not msgspec.UNSET else ""
            outcome = _outcome.decode(answer)
        except msgspec.DecodeError:
            return
        kind: Outcome = ("protocol_error" if bytes(outcome.error) != b"null" else
                         "tool_error" if outcome.result is not None and outcome.result.isError else "ok")
        self._stats.record(call.server_id, name, call.consumer_id, kind, seconds * 1000, len(call.message),
                           len(answer))

    @staticmethod
    async def _post(session: UpstreamSession, body: bytes, message: Message, emit: OnMessage, paused: OnPause,
                    headers: dict[str, str] | None) -> bytes:
        upstream = session.upstream
        request_id = message.id
        assert isinstance(request_id, int | str)
        if isinstance(upstream, LegacyUpstream):
            answer = await upstream.post(body, request_id, emit, headers, progress_token=_progress_token(message))
        elif isinstance(upstream, StreamableUpstream):
            answer = await upstream.post(body, request_id, emit, headers, on_pause=paused)
        else:
            answer = await upstream.post(body, request_id, emit, headers)
        if answer is None:
            raise UpstreamError("upstream did not answer the request")
        return answer

    async def _answer(self, call: UpstreamCall, config: UpstreamConfig, message: Message,
                      headers: dict[str, str] | None) -> None:
        """The client's answer to a server-to-client request: back to the session that asked."""
        parsed = parse_relay_id(message.id)
        if parsed is None or parsed[0] != call.server_id:
            return  # not one of ours: nothing upstream is waiting for it
        message.id = parsed[1]
        await self._notify(call, config, msgspec.json.encode(message), headers)

    async def _notify(self, call: UpstreamCall, config: UpstreamConfig, body: bytes,
                      headers: dict[str, str] | None) -> None:
        try:
            session = await self.pool.existing(call, config)
            if session is None:
                return  # no upstream session: nothing there is waiting for this
            try:
                await session.upstream.post(body, None, ignore, headers)
            except SessionGone:
                pass  # what it answered or cancelled died with the session
        except UpstreamError as exc:
            log.info("server %s: cannot pass a message on: %s", call.server_id, exc.message)

    async def close(self) -> None:
        await self.holders.close()
        await self.bridge.close()
        self.reverse.close()


class _Meta(msgspec.Struct):
    progressToken: int | str | None = None


class _WithMeta(msgspec.Struct):
    meta: _Meta | None = msgspec.field(default=None, name="_meta")


_with_meta = msgspec.json.Decoder(_WithMeta)


def _progress_token(message: Message) -> int | str | None:
    if message.params is msgspec.UNSET:
        return None
    try:
        meta = _with_meta.decode(message.params).meta
    except msgspec.DecodeError:
        return None
    return None if meta is None else meta.progressToken

