"""Who holds each legacy SSE upstream session, found over NATS.

A legacy upstream session is a stream, so one worker holds it. The first worker to get one of its
messages claims it in Redis and serves `hosting.held.<session>.<server>`; a worker that gets a
message for a session another one holds sends it there and passes the holder's events and reply
back. A claim outlives a worker that died (for up to HOLDER_TTL); the first message that finds no
responder at the holder's subject takes the session over (compare-and-set on the claim) and
re-opens it upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from mcpgw.contracts import ErrorCode, McpgwError, RedisKeys, UpstreamCall, UpstreamReply
from mcpgw.runtime.bus import Bus
from mcpgw_hosting.sessions import SessionPool

log = logging.getLogger(__name__)

HOLDER_TTL = 30  # seconds; the holder refreshes its claims every third of it
Key = tuple[str, str]
Handler = Callable[[UpstreamCall, Msg], Awaitable[UpstreamReply | None]]

# Replace a claim only if it still names the worker found gone.
_STEAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""
# Drop a claim only if it is still this worker's.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
_REDIS_ERRORS = (aioredis.RedisError, OSError, TimeoutError)


class Holders:
    def __init__(self, bus: Bus, redis: aioredis.Redis, keys: RedisKeys, pool: SessionPool, timeout: float) -> None:
        self._bus = bus
        self._redis = redis
        self._keys = keys
        self._pool = pool
        self._timeout = timeout
        self.worker_id = secrets.token_hex(8)
        self._held: dict[Key, Subscription] = {}
        self._refresher: asyncio.Task[None] | None = None
        self.handle_held: Handler | None = None  # set by the relay: serves the held subject

    async def route(self, call: UpstreamCall, msg: Msg) -> UpstreamReply | None:
        """None when this worker holds the session (or just took it): relay here. Otherwise the
        holder's reply, its events already passed on to the requester."""
        key = (call.session_id, call.server_id)
        if self._pool.live(key) is not None or key in self._pool.opening_keys:
            await self._serve(key)
            return None
        for _ in range(3):
            holder = await self._claim(key)
            if holder is None:
                await self._serve(key)
                return None
            try:
                return await self._forward(key, call, msg)
            except McpgwError as exc:
                if exc.code is not ErrorCode.NO_RESPONDERS:
                    raise
            log.info("upstream session %s: holder %s is gone; taking it over", key, holder)
            if await self._steal(key, holder):
                await self._serve(key)
                return None
        raise McpgwError(ErrorCode.NO_RESPONDERS, "the worker holding this upstream session cannot be reached")

    async def _claim(self, key: Key) -> str | None:
        """None if this worker holds the claim now, else the holder's id."""
        claim = self._keys.upstream_holder(*key)
        try:
            if await self._redis.set(claim, self.worker_id, nx=True, ex=HOLDER_TTL):
                return None
            holder = await self._redis.get(claim)
        except _REDIS_ERRORS as exc:
            log.warning("cannot claim upstream session %s: %s; holding it here", key, type(exc).__name__)
            return None
        if holder is None:
            return await self._claim(key)  # expired in between
        name = holder.decode() if isinstance(holder, bytes) else str(holder)
        return None if name == self.worker_id else name

    async def _steal(self, key: Key, gone: str) -> bool:
        try:
            taken = await self._redis.eval(_STEAL, 1, self._keys.upstream_holder(*key), gone,
                                           self.worker_id, HOLDER_TTL)
        except _REDIS_ERRORS:
            return True
        return bool(taken)

    async def _forward(self, key: Key, call: UpstreamCall, msg: Msg) -> UpstreamReply:
        relayed: list[asyncio.Task[None]] = []
        loop = asyncio.get_running_loop()

        def on_event(data: bytes) -> None:
            if msg.reply:
                after = relayed[-1] if relayed else None
                relayed.append(loop.create_task(self._relay_event(after, msg.reply, data)))

        try:
            return await self._bus.request(self._bus.subjects.hosting_held(*key), call, UpstreamReply,
                                           timeout=self._timeout, on_event=on_event, watch=True)
        finally:
            if relayed:  # every event goes out before the reply does
                await asyncio.gather(*relayed, return_exceptions=True)

    async def _relay_event(self, after: asyncio.Task[None] | None, reply: str, data: bytes) -> None:
        """Pass an event on once the one before it went: a large one (compressed in a thread, sent
        in chunks) must not be overtaken nor interleaved by the next."""
        if after is not None:
            await asyncio.wait([after])
        await self._bus.emit_raw(reply, data)

    async def _serve(self, key: Key) -> None:
        if key in self._held:
            return
        assert self.handle_held is not None
        self._held[key] = await self._bus.serve_raw(self._bus.subjects.hosting_held(*key), UpstreamCall,
                                                    self.handle_held, span_name="hosting.held")
        if self._refresher is None:
            self._refresher = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(HOLDER_TTL / 3)
            for key in list(self._held):
                if self._pool.live(key) is None and key not in self._pool.opening_keys:
                    await self.release(key)
                    continue
                with contextlib.suppress(*_REDIS_ERRORS):
                    await self._redis.expire(self._keys.upstream_holder(*key), HOLDER_TTL)

    async def release(self, key: Key) -> None:
        subscription = self._held.pop(key, None)
        if subscription is None:
            return
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
        with contextlib.suppress(*_REDIS_ERRORS):
            await self._redis.eval(_RELEASE, 1, self._keys.upstream_holder(*key),
                                   self.worker_id)

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for key in list(self._held):
            await self.release(key)
