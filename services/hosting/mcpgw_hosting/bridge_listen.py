"""`subscriptions/listen` for a 2026-07-28 client bridged to a handshake-era upstream.

Such an upstream sends its change notifications outside any request (a Streamable HTTP upstream
on its session's GET stream, a legacy one on its stream): they arrive as the bridged session's
unrelated messages. A listen request registers the client's filter on that session and stays open;
every notification it asked for goes to it as an event, tagged with its subscription id, after the
acknowledgement. Resource subscriptions become `resources/subscribe` on the upstream session. The
call ends when its client goes away (the edge cancels it) or the worker stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from mcpgw.contracts import (
    UpstreamCall,
    UpstreamConfig,
    UpstreamDescribe,
    UpstreamDescription,
    UpstreamEvent,
    UpstreamReply,
)
from mcpgw.jsonrpc import Message
from mcpgw.protocol import META_CAPABILITIES, META_CLIENT_INFO, META_SUBSCRIPTION
from mcpgw.runtime.bus import Bus
from mcpgw_hosting.sessions import SessionPool, bridge_session
from mcpgw_hosting.upstream.errors import UpstreamError
from mcpgw_hosting.upstream.streamable import ignore

log = logging.getLogger(__name__)

# Handshake-era notification -> the filter field that asks for it.
KINDS = {"notifications/tools/list_changed": "toolsListChanged",
         "notifications/prompts/list_changed": "promptsListChanged",
         "notifications/resources/list_changed": "resourcesListChanged"}
# How often a quiet subscription says it is alive (the edge gives up on a relayed call that is
# silent for its upstream timeout, 130 s by default).
KEEPALIVE = 30.0


@dataclass
class _Subscription:
    subscription_id: Any
    reply_to: str
    wants: set[str]
    uris: set[str] = field(default_factory=set)


# What the upstream said about itself at initialize (`Describer.describe`, in this process).
Describe = Callable[[UpstreamDescribe], Awaitable[UpstreamDescription]]


class BridgedSubscriptions:
    def __init__(self, bus: Bus, pool: SessionPool, describe: Describe, keepalive: float = KEEPALIVE) -> None:
        self._bus = bus
        self._describe = describe
        self._pool = pool
        self._keepalive = keepalive
        self._subscriptions: dict[tuple[str, str], list[_Subscription]] = {}

    async def listen(self, call: UpstreamCall, config: UpstreamConfig, message: Message, reply: str) -> UpstreamReply:
        params: dict[str, Any] = msgspec.json.decode(message.params) if message.params is not msgspec.UNSET else {}
        meta = params.get("_meta") or {}
        wanted = params.get("notifications") or {}
        description = await self._describe(UpstreamDescribe(server_id=call.server_id,
                                                                  consumer_id=call.consumer_id))
        capabilities: dict[str, Any] = msgspec.json.decode(description.capabilities)
        agreed: dict[str, Any] = {}
        for feature, flag in (("tools", "toolsListChanged"), ("prompts", "promptsListChanged"),
                              ("resources", "resourcesListChanged")):
            if wanted.get(flag) is True and (capabilities.get(feature) or {}).get("listChanged"):
                agreed[flag] = True
        uris = [u for u in wanted.get("resourceSubscriptions") or [] if isinstance(u, str)]
        if uris and (capabilities.get("resources") or {}).get("subscribe"):
            agreed["resourceSubscriptions"] = uris
        session_call = bridge_session(call, meta.get(META_CAPABILITIES) or {}, meta.get(META_CLIENT_INFO) or {})
        try:
            session = await self._pool.get(session_call, config)
            for i, uri in enumerate(agreed.get("resourceSubscriptions", [])):
                body = msgspec.json.encode({"jsonrpc": "2.0", "id": f"mcpgw~subscribe~{i}",
                                            "method": "resources/subscribe", "params": {"uri": uri}})
                await session.upstream.post(body, f"mcpgw~subscribe~{i}", ignore, call.forward_headers or None)
        except UpstreamError as exc:
            error = {"jsonrpc": "2.0", "id": message.id, "error": {"code": -32603, "message": f"upstream error: "
                                                                                             f"{exc.message}"}}
            return UpstreamReply(message=msgspec.Raw(msgspec.json.encode(error)))
        subscription = _Subscription(message.id, reply, {k for k in agreed if k in KINDS.values()},
                                     set(agreed.get("resourceSubscriptions", [])))
        key = (session_call.session_id, call.server_id)
        await self._emit(subscription, {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                                        "params": {"_meta": {META_SUBSCRIPTION: message.id}, "notifications": agreed}})
        self._subscriptions.setdefault(key, []).append(subscription)
        try:
            while True:  # open until the client goes away (its call is cancelled) or the worker stops
                await asyncio.sleep(self._keepalive)
                await self._bus.emit(reply, UpstreamEvent(keepalive=True))
        finally:
            held = self._subscriptions.get(key, [])
            if subscription in held:
                held.remove(subscription)
            if not held:
                self._subscriptions.pop(key, None)

    async def unrelated(self, session_id: str, server_id: str, raw: bytes) -> None:
        """A message the upstream sent outside any request on a bridged session: to the listeners."""
        try:
            message = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return
        method = message.get("method") if isinstance(message, dict) else None
        params = message.get("params") or {}
        for subscription in list(self._subscriptions.get((session_id, server_id), [])):
            kind = KINDS.get(str(method))
            if kind is not None and kind in subscription.wants:
                await self._emit(subscription, {"jsonrpc": "2.0", "method": method,
                                                "params": {**params, "_meta": {META_SUBSCRIPTION:
                                                                               subscription.subscription_id}}})
            elif method == "notifications/resources/updated" and params.get("uri") in subscription.uris:
                await self._emit(subscription, {"jsonrpc": "2.0", "method": method, "params": {
                    **params, "_meta": {META_SUBSCRIPTION: subscription.subscription_id}}})

    async def _emit(self, subscription: _Subscription, message: dict[str, Any]) -> None:
        event = UpstreamEvent(message=msgspec.Raw(msgspec.json.encode(message)))
        with contextlib.suppress(Exception):
            await self._bus.emit(subscription.reply_to, event)

