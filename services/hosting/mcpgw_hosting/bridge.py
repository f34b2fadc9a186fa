"""A 2026-07-28 client in front of a handshake-era upstream: the gateway bridges the eras.

The upstream needs a session: the bridge keeps one per consumer and set of client capabilities
(`bridge-<hash>`), opened like any other and continued from Redis. A request goes up under an id
of the bridge's making (concurrent requests share that session). When the upstream asks the client
something mid-call (elicitation, sampling, roots), the modern client cannot be asked directly: the
call is held here, and the client gets `input_required` with those requests and a `requestState`
sealed by the gateway (`sealing.py`). Its retry, carrying the answers, reaches whichever edge and
worker; the state names the worker holding the call (`hosting.bridge.<worker>`), which gives the
answers to the upstream and answers the retry with what comes next: the result, or more input.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

import msgspec
from nats.aio.msg import Msg

from mcpgw.contracts import (
    UpstreamCall,
    UpstreamConfig,
    UpstreamDescribe,
    UpstreamEvent,
    UpstreamReply,
)
from mcpgw.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, Message
from mcpgw.protocol import META_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL
from mcpgw.runtime.bus import Bus
from mcpgw_hosting.bridge_listen import BridgedSubscriptions, Describe
from mcpgw_hosting.sealing import Sealer, StateInvalid
from mcpgw_hosting.sessions import SessionPool, bridge_session
from mcpgw_hosting.upstream.errors import SessionGone, UpstreamError
from mcpgw_hosting.upstream.legacy import LegacyUpstream
from mcpgw_hosting.upstream.streamable import ignore

log = logging.getLogger(__name__)

_message = msgspec.json.Decoder(Message)
MISSING_CAPABILITY = -32021
# What the upstream may ask mid-call, and the client capability each needs.
NEEDS = {"sampling/createMessage": "sampling", "elicitation/create": "elicitation", "roots/list": "roots"}
LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


class _Retry(msgspec.Struct):
    requestState: str | None = None
    inputResponses: dict[str, Any] | None = None


_retry = msgspec.json.Decoder(_Retry)


def _result(request_id: Any, result: dict[str, Any]) -> bytes:
    return msgspec.json.encode({"jsonrpc": "2.0", "id": request_id, "result": result})


def _error(request_id: Any, code: int, message: str) -> bytes:
    return msgspec.json.encode({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


class HeldCall:
    """An upstream call of a bridged request, between the client's round trips."""

    def __init__(self, held_id: str, progress_token: Any) -> None:
        self.id = held_id
        self.upstream_id = f"mcpgw~bridge~{held_id}"
        self.progress_token = progress_token
        # The call's end: ("final", response) or ("failed", why). Its requests for input set `asked`.
        self.outcomes: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.asked = asyncio.Event()
        # The edge's inbox of the round trip under way: progress and log notifications go there.
        self.reply_to = ""
        # Input requests the upstream is waiting on: key -> (upstream request id, the request).
        self.pending: dict[str, tuple[Any, dict[str, Any]]] = {}
        self.task: asyncio.Task[None] | None = None
        self.answer_to: Any = None  # posts the client's answers to the upstream session
        self.method = ""
        self.capabilities: dict[str, Any] = {}
        # Which of its consumer's legacy SSE upstream sessions the call holds (see `Bridge._start`).
        self.slot = 0
        self.slot_key: tuple[str, str, bytes] | None = None
        # Fires when the client takes too long to retry with its answers.
        self.expiry: asyncio.TimerHandle | None = None
        self.log_from: int | None = None
        # Set when the upstream asked for something the client did not declare it can do.
        self.missing: str | None = None


class Bridge:
    def __init__(self, bus: Bus, pool: SessionPool, sealer: Sealer, worker_id: str, held_timeout: float,
                 subscriptions: BridgedSubscriptions, describe: Describe) -> None:
        self._bus = bus
        self._describe = describe
        self.subscriptions = subscriptions
        self._pool = pool
        self._sealer = sealer
        self.worker_id = worker_id
        self._held_timeout = held_timeout
        self._held: dict[str, HeldCall] = {}
        # Legacy SSE upstream sessions in use, by consumer, server and declarations: their slots.
        self._slots: dict[tuple[str, str, bytes], set[int]] = {}

    async def relay(self, call: UpstreamCall, config: UpstreamConfig, msg: Msg) -> UpstreamReply | None:
        message = _message.decode(call.message)
        request_id = message.id
        try:
            retry = _retry.decode(message.params) if message.params is not msgspec.UNSET else _Retry()
        except msgspec.DecodeError:
            retry = _Retry()
        if retry.requestState is not None:
            try:
                state = self._sealer.open(retry.requestState, call.server_id, call.consumer_id)
            except StateInvalid as exc:
                return UpstreamReply(message=msgspec.Raw(_error(request_id, INVALID_PARAMS, str(exc))), status=400)
            if state.worker != self.worker_id:
                await self._bus.forward(self._bus.subjects.hosting_bridge(state.worker), msg)
                return None  # the worker holding the call answers
            return await self.resume(call, state.held, retry.inputResponses or {}, request_id, msg.reply)
        if message.method == "server/discover":
            return await self._discover(call, request_id)
        if message.method == "subscriptions/listen":
            return await self.subscriptions.listen(call, config, message, msg.reply)
        return await self._start(call, config, message, msg.reply)

    async def _discover(self, call: UpstreamCall, request_id: Any) -> UpstreamReply:
        """What the upstream said at initialize, as a 2026-07-28 discovery (the edge sets the versions)."""
        description = await self._describe(UpstreamDescribe(server_id=call.server_id,
                                                                  consumer_id=call.consumer_id))
        result: dict[str, Any] = {"resultType": "complete", "supportedVersions": [],
                                  "capabilities": msgspec.json.decode(description.capabilities),
                                  "_meta": {"io.modelcontextprotocol/serverInfo":
                                            msgspec.json.decode(description.server_info)},
                                  "ttlMs": 0, "cacheScope": "public"}
        if description.instructions:
            result["instructions"] = description.instructions
        return UpstreamReply(message=msgspec.Raw(_result(request_id, result)))

    async def resume(self, call: UpstreamCall, held_id: str, responses: dict[str, Any], request_id: Any,
                     reply: str) -> UpstreamReply:
        held = self._held.get(held_id)
        if held is None:
            text = "the call this requestState continues is over (or its worker restarted); send the request afresh"
            return UpstreamReply(message=msgspec.Raw(_error(request_id, INVALID_PARAMS, text)), status=400)
        held.reply_to = reply
        if held.expiry is not None:
            held.expiry.cancel()
        answered = [key for key in list(held.pending) if key in responses]
        for key in answered:
            upstream_id, _ = held.pending.pop(key)
            body = msgspec.json.encode({"jsonrpc": "2.0", "id": upstream_id, "result": responses[key]})
            try:
                await held.answer_to(body)
            except UpstreamError as exc:
                failed = _error(request_id, INTERNAL_ERROR, f"upstream error: {exc.message}")
                return self._finish(held, request_id, failed)
        if held.pending:  # answers missing: ask again for what is still needed
            return self._input_required(held, call, request_id)
        return await self._next(held, call, request_id, held.method)

    async def _start(self, call: UpstreamCall, config: UpstreamConfig, message: Message, reply: str) -> UpstreamReply:
        params: dict[str, Any] = msgspec.json.decode(message.params) if message.params is not msgspec.UNSET else {}
        meta = params.pop("_meta", None) or {}
        capabilities = meta.get(META_CAPABILITIES) or {}
        client_info = meta.get(META_CLIENT_INFO) or {}
        held = HeldCall(secrets.token_hex(12), meta.get("progressToken"))
        held.reply_to = reply
        held.method = str(message.method)
        held.capabilities = capabilities if isinstance(capabilities, dict) else {}
        # 2026-07-28: log messages only for a request that asks, at its level and above.
        level = meta.get(META_LOG_LEVEL)
        held.log_from = LEVELS.index(level) if level in LEVELS else None
        # The handshake era's _meta: the progress token (ours, the client's may collide with another
        # client's on this shared session) and any trace context.
        up_meta = {k: v for k, v in meta.items() if not k.startswith("io.modelcontextprotocol/")}
        if held.progress_token is not None:
            up_meta["progressToken"] = held.id
        if up_meta:
            params["_meta"] = up_meta
        body = msgspec.json.encode({"jsonrpc": "2.0", "id": held.upstream_id, "method": message.method,
                                    "params": params})
        # A legacy SSE upstream cannot tell whose request it asks about when two calls run on one
        # session: there, each call in flight has a session of its own (kept for the next one).
        if config.backend.transport == "SSE":
            held.slot_key = (call.consumer_id, call.server_id, msgspec.json.encode([capabilities, client_info]))
            held.slot = self._checkout(held.slot_key)
        session_call = bridge_session(call, capabilities, client_info, held.slot)
        headers = call.forward_headers or None
        try:
            session = await self._pool.get(session_call, config)
        except UpstreamError as exc:
            self._checkin(held)
            return UpstreamReply(message=msgspec.Raw(_failure(message, message.id, exc.message)))

        async def answer_to(answer: bytes) -> None:
            await session.upstream.post(answer, None, ignore, headers)

        held.answer_to = answer_to

        async def on_message(raw: bytes) -> None:
            await self._from_upstream(held, raw)

        async def run() -> None:
            nonlocal session
            try:
                try:
                    answer = await self._post(session.upstream, body, held, on_message, headers)
                except SessionGone:
                    session = await self._pool.renew(session, session_call)
                    answer = await self._post(session.upstream, body, held, on_message, headers)
                held.outcomes.put_nowait(("final", answer))
            except UpstreamError as exc:
                held.outcomes.put_nowait(("failed", exc.message))

        self._held[held.id] = held
        held.task = asyncio.get_running_loop().create_task(run())
        return await self._next(held, call, message.id, method=str(message.method))

    @staticmethod
    async def _post(upstream: Any, body: bytes, held: HeldCall, on_message: Any, headers: Any) -> bytes:
        if isinstance(upstream, LegacyUpstream):
            answer = await upstream.post(body, held.upstream_id, on_message, headers,
                                         progress_token=held.id if held.progress_token is not None else None)
        else:
            answer = await upstream.post(body, held.upstream_id, on_message, headers)
        if answer is None:
            raise UpstreamError("upstream did not answer the request")
        return bytes(answer)

    async def _from_upstream(self, held: HeldCall, raw: bytes) -> None:
        """What the upstream sends mid-call: its requests become input requests, notifications go on."""
        message = _message.decode(raw)
        if message.method is msgspec.UNSET:
            return
        params: dict[str, Any] = msgspec.json.decode(message.params) if message.params is not msgspec.UNSET else {}
        if message.id is not msgspec.UNSET:
            needed = NEEDS.get(str(message.method))
            if needed is not None and needed not in held.capabilities:
                # The client cannot do it: tell the upstream so, and the client which capability.
                held.missing = needed
                refusal = {"jsonrpc": "2.0", "id": message.id,
                           "error": {"code": -32601, "message": f"client does not support {message.method}"}}
                with contextlib.suppress(UpstreamError):
                    await held.answer_to(msgspec.json.encode(refusal))
                held.asked.set()
                return
            key = f"input-{len(held.pending) + 1}-{secrets.token_hex(3)}"
            held.pending[key] = (message.id, {"method": message.method, "params": params})
            held.asked.set()
            return
        if message.method == "notifications/message":
            level = params.get("level")
            if held.log_from is None or level not in LEVELS or LEVELS.index(level) < held.log_from:
                return
        if message.method == "notifications/progress" and held.progress_token is not None:
            params["progressToken"] = held.progress_token
            raw = msgspec.json.encode({"jsonrpc": "2.0", "method": message.method, "params": params})
        if held.reply_to:
            with contextlib.suppress(Exception):
                await self._bus.emit(held.reply_to, UpstreamEvent(message=msgspec.Raw(raw)))

    async def _next(self, held: HeldCall, call: UpstreamCall, request_id: Any, method: str = "") -> UpstreamReply:
        """The next outcome of the held call, as the answer to the round trip under way."""
        ended = asyncio.ensure_future(held.outcomes.get())
        asked = asyncio.ensure_future(held.asked.wait())
        try:
            done, _ = await asyncio.wait({ended, asked}, timeout=self._held_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (ended, asked):
                if not waiting.done():
                    waiting.cancel()
        if ended in done:
            kind, value = ended.result()
            if kind == "failed":
                return self._finish(held, request_id, _failure_text(method, request_id, str(value)))
            answer = _completed(bytes(value), request_id, method)
            reply = self._finish(held, request_id, answer)
            if b'"code":-32601' in answer.replace(b" ", b""):
                reply.status = 404  # 2026-07-28: an unknown method is a 404
            return reply
        if asked in done and held.missing is not None:
            error = {"jsonrpc": "2.0", "id": request_id, "error": {
                "code": MISSING_CAPABILITY, "message": f"Missing required client capability: {held.missing}",
                "data": {"requiredCapabilities": {held.missing: {}}}}}
            reply = self._finish(held, request_id, msgspec.json.encode(error))
            reply.status = 400
            return reply
        if asked in done and held.pending:
            held.asked.clear()
            return self._input_required(held, call, request_id)
        return self._finish(held, request_id, _error(request_id, INTERNAL_ERROR, "upstream did not answer in time"))

    def _input_required(self, held: HeldCall, call: UpstreamCall, request_id: Any) -> UpstreamReply:
        # A client that never retries must not hold the call (and its upstream request) forever.
        if held.expiry is not None:
            held.expiry.cancel()
        held.expiry = asyncio.get_running_loop().call_later(self._held_timeout, self._abandon, held)
        state = self._sealer.seal(self._sealer.new(self.worker_id, held.id), call.server_id, call.consumer_id)
        result = {"resultType": "input_required",
                  "inputRequests": {key: request for key, (_, request) in held.pending.items()},
                  "requestState": state}
        return UpstreamReply(message=msgspec.Raw(_result(request_id, result)))

    def _abandon(self, held: HeldCall) -> None:
        if self._held.get(held.id) is held:
            log.info("bridged call %s: no retry came; given up", held.id)
            self._finish(held, None, b"")

    def _checkout(self, key: tuple[str, str, bytes]) -> int:
        busy = self._slots.setdefault(key, set())
        slot = next(i for i in range(len(busy) + 1) if i not in busy)
        busy.add(slot)
        return slot

    def _checkin(self, held: HeldCall) -> None:
        if held.slot_key is not None:
            busy = self._slots.get(held.slot_key, set())
            busy.discard(held.slot)
            if not busy:
                self._slots.pop(held.slot_key, None)
            held.slot_key = None

    def _finish(self, held: HeldCall, request_id: Any, answer: bytes) -> UpstreamReply:
        if held.expiry is not None:
            held.expiry.cancel()
        self._checkin(held)
        self._held.pop(held.id, None)
        if held.task is not None and not held.task.done():
            held.task.cancel()
        return UpstreamReply(message=msgspec.Raw(answer))

    async def close(self) -> None:
        for held in list(self._held.values()):
            if held.task is not None:
                held.task.cancel()
        self._held.clear()


CACHEABLE = frozenset({"tools/list", "prompts/list", "resources/list", "resources/read", "resources/templates/list"})


def _completed(answer: bytes, request_id: Any, method: str) -> bytes:
    """The upstream's response as this round trip's: its id, and the fields 2026-07-28 results have
    (a handshake-era upstream gives no caching hints: none to rely on, and not to be shared)."""
    decoded: dict[str, Any] = msgspec.json.decode(answer)
    decoded["id"] = request_id
    result = decoded.get("result")
    if isinstance(result, dict):
        result.setdefault("resultType", "complete")
        if method in CACHEABLE:
            result.setdefault("ttlMs", 0)
            result.setdefault("cacheScope", "private")
    return msgspec.json.encode(decoded)


def _failure(message: Message, request_id: Any, problem: str) -> bytes:
    return _failure_text(str(message.method), request_id, problem)


def _failure_text(method: str, request_id: Any, problem: str) -> bytes:
    text = f"upstream error: {problem}"
    if method == "tools/call":
        return _result(request_id, {"resultType": "complete", "content": [{"type": "text", "text": text}],
                                    "isError": True})
    return _error(request_id, INTERNAL_ERROR, text)


