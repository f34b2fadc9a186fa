"""A handshake-era client in front of a 2026-07-28-only upstream: the gateway bridges the eras.

Such an upstream has no `initialize` and no session: each of the client's requests goes up on its
own, with the `_meta` and headers 2026-07-28 needs (the client's capabilities and identity from
its session). When the upstream answers `input_required`, the gateway asks the client itself, as
the handshake era does: each input request becomes a server-to-client request on the client's
stream, under a relay id naming this worker and the waiting call (`rb~<worker>~<call>~<key>`),
so the client's answer, reaching any edge and worker, comes back here (`hosting.bridge.<worker>`).
With every answer in, the request is retried upstream with `inputResponses` and the upstream's own
`requestState`, until its result.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import msgspec
import redis.asyncio as aioredis
from nats.aio.msg import Msg

from mcpgw.contracts import RedisKeys, SseDeliver, UpstreamCall, UpstreamConfig, UpstreamEvent, UpstreamReply, relay_id
from mcpgw.jsonrpc import INTERNAL_ERROR, Message
from mcpgw.protocol import MODERN_VERSION, header_value
from mcpgw.runtime.bus import Bus
from mcpgw_hosting.modern import ModernPassThrough
from mcpgw_hosting.upstream.errors import UpstreamError

log = logging.getLogger(__name__)

PREFIX = "rb~"
# How long a worker's claim to subscribe for a session lasts (it is not refreshed: a new request
# of the session renews it when the claim is gone and nobody listens).
LISTEN_CLAIM = 3600
# Round trips one request may take before the gateway gives up on it (an upstream that keeps asking).
MAX_ROUNDS = 8
NAMED = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_message = msgspec.json.Decoder(Message)


class _Waiting:
    def __init__(self, keys: set[str]) -> None:
        self.keys = keys
        self.answers: dict[str, Any] = {}
        self.done = asyncio.Event()


class ReverseBridge:
    def __init__(self, bus: Bus, modern: ModernPassThrough, worker_id: str, wait: float,
                 redis: aioredis.Redis | None = None, keys: RedisKeys | None = None) -> None:
        self._bus = bus
        self._modern = modern
        self.worker_id = worker_id
        self._wait = wait
        self._waiting: dict[str, _Waiting] = {}
        self._redis = redis
        self._keys = keys
        # (client session, server) -> the task subscribed upstream on that session's behalf
        self._listening: dict[tuple[str, str], asyncio.Task[None]] = {}

    async def keep_listening(self, call: UpstreamCall, config: UpstreamConfig) -> None:
        """Subscribe upstream (`subscriptions/listen`) for a client session's change notifications,
        which reach its stream as the handshake era has them; one worker per session does it."""
        key = (call.session_id, call.server_id)
        task = self._listening.get(key)
        if task is not None and not task.done():
            return
        if self._redis is not None and self._keys is not None:
            claim = self._keys.upstream_holder(f"{call.session_id}.listen", call.server_id)
            try:
                if not await self._redis.set(claim, self.worker_id, nx=True, ex=LISTEN_CLAIM):
                    return  # another worker listens for this session
            except (aioredis.RedisError, OSError, TimeoutError):
                pass
        self._listening[key] = asyncio.get_running_loop().create_task(self._listen(call, config))

    def close(self) -> None:
        for task in self._listening.values():
            task.cancel()
        self._listening.clear()

    def stop_listening(self, session_id: str) -> None:
        for key in [k for k in self._listening if k[0] == session_id]:
            self._listening.pop(key).cancel()

    async def _listen(self, call: UpstreamCall, config: UpstreamConfig) -> None:
        found = await self._modern.discover(config)
        if found is None:
            return
        wanted = {flag: True for feature, flag in (("tools", "toolsListChanged"), ("prompts", "promptsListChanged"),
                                                    ("resources", "resourcesListChanged"))
                  if (found.capabilities.get(feature) or {}).get("listChanged")}
        if not wanted:
            return
        meta = {"io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
                "io.modelcontextprotocol/clientCapabilities": msgspec.json.decode(call.client_capabilities)}
        body = msgspec.json.encode({"jsonrpc": "2.0", "id": "mcpgw~listen", "method": "subscriptions/listen",
                                    "params": {"_meta": meta, "notifications": wanted}})
        headers = {"MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "subscriptions/listen"}
        subject = self._bus.subjects.edge_sse(call.session_id)

        async def deliver(raw: bytes) -> None:
            message = msgspec.json.decode(raw)
            method = message.get("method") if isinstance(message, dict) else None
            if not isinstance(method, str) or method == "notifications/subscriptions/acknowledged":
                return
            params = dict(message.get("params") or {})
            params.pop("_meta", None)  # the subscription id means nothing to a handshake-era client
            notification: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
            if params:
                notification["params"] = params
            payload = msgspec.json.encode(notification)
            await self._bus.publish(subject, SseDeliver(session_id=call.session_id, payload=msgspec.Raw(payload)))

        delay = 0.5
        while True:
            try:
                await self._modern.client(config, call.backend).follow(body, headers, deliver)
                delay = 0.5
            except UpstreamError as exc:
                log.info("upstream subscription for %s dropped: %s", call.session_id, exc.message)
            await asyncio.sleep(delay)  # re-subscribe, slower each time it fails
            delay = min(delay * 2, 30.0)

    async def request(self, call: UpstreamCall, config: UpstreamConfig, message: Message, reply: str) -> UpstreamReply:
        params: dict[str, Any] = msgspec.json.decode(message.params) if message.params is not msgspec.UNSET else {}
        meta = dict(params.get("_meta") or {})
        meta["io.modelcontextprotocol/protocolVersion"] = MODERN_VERSION
        meta["io.modelcontextprotocol/clientCapabilities"] = msgspec.json.decode(call.client_capabilities)
        client_info = msgspec.json.decode(call.client_info)
        if client_info:
            meta["io.modelcontextprotocol/clientInfo"] = client_info
        params["_meta"] = meta
        method = str(message.method)
        headers = {"MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": method, **call.forward_headers}
        named = NAMED.get(method)
        if named is not None and isinstance(params.get(named), str):
            headers["Mcp-Name"] = header_value(params[named])

        async def emit(raw: bytes) -> None:
            if reply:
                await self._bus.emit(reply, UpstreamEvent(message=msgspec.Raw(raw)))

        request_id = message.id
        assert isinstance(request_id, int | str)
        try:
            for _ in range(MAX_ROUNDS):
                body = msgspec.json.encode({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
                client = self._modern.client(config, call.backend)
                answer = await client.post(body, request_id, emit, headers)
                if answer is None:
                    raise UpstreamError("upstream did not answer the request")
                decoded: dict[str, Any] = msgspec.json.decode(answer)
                result = decoded.get("result")
                if not (isinstance(result, dict) and result.get("resultType") == "input_required"):
                    return UpstreamReply(message=msgspec.Raw(answer))
                params["inputResponses"] = await self._ask(call, result.get("inputRequests") or {}, emit)
                if "requestState" in result:
                    params["requestState"] = result["requestState"]
                else:
                    params.pop("requestState", None)
            raise UpstreamError(f"upstream still asked for input after {MAX_ROUNDS} round trips")
        except (UpstreamError, TimeoutError) as exc:
            problem = exc.message if isinstance(exc, UpstreamError) else "the client did not answer in time"
            text = f"upstream error: {problem}"
            if method == "tools/call":
                failed = {"jsonrpc": "2.0", "id": request_id,
                          "result": {"content": [{"type": "text", "text": text}], "isError": True}}
            else:
                failed = {"jsonrpc": "2.0", "id": request_id, "error": {"code": INTERNAL_ERROR, "message": text}}
            return UpstreamReply(message=msgspec.Raw(msgspec.json.encode(failed)))

    async def _ask(self, call: UpstreamCall, requests: dict[str, Any], emit: Any) -> dict[str, Any]:
        """Send the upstream's input requests to the client as its own requests; their answers, by key."""
        waiting_id = secrets.token_hex(8)
        waiting = self._waiting[waiting_id] = _Waiting(set(requests))
        try:
            for key, request in requests.items():
                ask_id = relay_id(call.server_id, f"{PREFIX}{self.worker_id}~{waiting_id}~{key}")
                await emit(msgspec.json.encode({"jsonrpc": "2.0", "id": ask_id, "method": request.get("method"),
                                                "params": request.get("params") or {}}))
            async with asyncio.timeout(self._wait):
                await waiting.done.wait()
            return waiting.answers
        finally:
            self._waiting.pop(waiting_id, None)

    async def answer(self, upstream_id: str, message: Message, msg: Msg) -> bool:
        """The client's answer to one of the input requests: to the worker and call waiting for it.
        False when it was passed on to another worker (which answers the NATS request)."""
        worker, _, rest = upstream_id[len(PREFIX):].partition("~")
        waiting_id, _, key = rest.partition("~")
        if worker != self.worker_id:
            await self._bus.forward(self._bus.subjects.hosting_bridge(worker), msg)
            return False
        waiting = self._waiting.get(waiting_id)
        if waiting is None or key not in waiting.keys:
            return True  # late, or not ours: nobody waits for it
        if message.error is not msgspec.UNSET:
            waiting.answers[key] = {"error": msgspec.json.decode(message.error)}
        else:
            waiting.answers[key] = msgspec.json.decode(message.result) if message.result is not msgspec.UNSET else {}
        if waiting.keys <= set(waiting.answers):
            waiting.done.set()
        return True
