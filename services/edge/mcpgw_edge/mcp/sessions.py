"""MCP sessions: kept in Redis so any edge replica (or a restarted edge) can continue them.

The warm path reads the in-process cache only. Redis is read on a miss; TTL refreshes are
batched (one pipeline per interval for every session touched since the last one); a session
ended on one replica reaches the others through a `SessionEnded` event.

A session the cache holds but Redis lost (a store restarted empty, an evicted key) is written
back by the refresh, not dropped: real clients do not re-initialize after a 404. A session ended
on purpose leaves a tombstone for its TTL, so it is never written back. While Redis cannot be
reached, cached sessions go on; only new sessions and cache misses fail (503, bounded by `timeout`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Literal, TypeVar

import msgspec
import redis.asyncio as aioredis

from mcpgw.contracts import ErrorCode, McpgwError, RedisKeys

log = logging.getLogger(__name__)

Transport = Literal["streamable", "sse"]
# Sessions whose TTL one Redis pipeline refreshes.
REFRESH_BATCH = 500
T = TypeVar("T")


class Session(msgspec.Struct, kw_only=True):
    id: str
    server_id: str
    server_name: str
    transport: Transport
    protocol_version: str = ""
    consumer_id: str = ""
    created: float = 0.0
    # What the client said at initialize: a hosted server's upstream session is opened with the same.
    client_capabilities: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))
    client_info: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"{}"))


_encode = msgspec.json.encode
_decode = msgspec.json.Decoder(Session).decode


def new_session_id() -> str:
    # 128 random bits, hex: globally unique, unguessable, visible ASCII, safe in a NATS subject.
    return secrets.token_hex(16)


class SessionStore:
    def __init__(self, redis: aioredis.Redis, keys: RedisKeys, ttl: int, *, max_cached: int = 100_000,
                 timeout: float = 2.0) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl
        self._timeout = timeout
        self._max_cached = max_cached
        # id -> (session, monotonic time it was last confirmed in Redis or refreshed)
        self._cache: OrderedDict[str, tuple[Session, float]] = OrderedDict()
        self._touched: set[str] = set()
        self._refresher: asyncio.Task[None] | None = None

    @property
    def open_count(self) -> int:
        """Sessions this edge holds that were confirmed or used within their TTL (for /metrics)."""
        now = time.monotonic()
        return sum(1 for _, (_, seen) in list(self._cache.items()) if now - seen < self._ttl)

    @property
    def refresh_interval(self) -> float:
        return max(1.0, min(self._ttl / 4, 60.0))

    async def create(self, session: Session) -> None:
        session.created = time.time()
        await self._call(self._redis.set(self._keys.session(session.id), _encode(session), ex=self._ttl))
        self._remember(session)

    async def save(self, session: Session) -> None:
        """Persist a change (e.g. the protocol version negotiated on a legacy SSE session)."""
        await self._call(self._redis.set(self._keys.session(session.id), _encode(session), ex=self._ttl))
        self._remember(session)

    async def get(self, session_id: str) -> Session | None:
        cached = self._cache.get(session_id)
        now = time.monotonic()
        if cached is not None and now - cached[1] < self._ttl:
            self._touched.add(session_id)
            return cached[0]
        raw = await self._call(self._redis.get(self._keys.session(session_id)))
        if raw is None:
            self._cache.pop(session_id, None)
            return None
        try:
            session = _decode(raw)
        except msgspec.DecodeError:
            log.warning("dropping unreadable session record %s", session_id)
            return None
        self._remember(session)
        self._touched.add(session_id)
        return session

    async def delete(self, session_id: str) -> None:
        self.forget(session_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._keys.session_ended(session_id), b"1", ex=self._ttl)
        pipe.delete(self._keys.session(session_id))
        await self._call(pipe.execute())

    def touch(self, session_id: str) -> None:
        """Count the session as used: its TTL is refreshed with the next batch."""
        if session_id in self._cache:
            self._touched.add(session_id)

    def forget(self, session_id: str) -> None:
        self._cache.pop(session_id, None)
        self._touched.discard(session_id)

    def _remember(self, session: Session) -> None:
        self._cache[session.id] = (session, time.monotonic())
        self._cache.move_to_end(session.id)
        while len(self._cache) > self._max_cached:
            self._cache.popitem(last=False)

    async def _call(self, awaitable: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(awaitable, self._timeout)
        except (TimeoutError, aioredis.RedisError, OSError) as exc:
            raise McpgwError(ErrorCode.NO_RESPONDERS, f"session store unavailable: {type(exc).__name__}") from None

    async def flush_touched(self) -> None:
        """Refresh the TTL of every session used since the last flush, REFRESH_BATCH per pipeline.

        One pipeline for 10,000 sessions held the event loop for its whole encode and decode
        (calls stalled up to 412 ms); batches let the calls in between.
        """
        if not self._touched:
            return
        ids, self._touched = list(self._touched), set()
        for start in range(0, len(ids), REFRESH_BATCH):
            batch = ids[start:start + REFRESH_BATCH]
            pipe = self._redis.pipeline(transaction=False)
            for session_id in batch:
                pipe.expire(self._keys.session(session_id), self._ttl)
            try:
                alive = await asyncio.wait_for(pipe.execute(), self._timeout)
            except (TimeoutError, aioredis.RedisError, OSError) as exc:
                log.warning("session TTL refresh failed (%s); will retry", type(exc).__name__)
                self._touched.update(ids[start:])
                return
            now = time.monotonic()
            lost = []
            for session_id, ok in zip(batch, alive, strict=True):
                entry = self._cache.get(session_id)
                if entry is None:
                    continue
                if ok:
                    self._cache[session_id] = (entry[0], now)
                else:
                    lost.append(entry[0])
            if lost:
                await self._write_back(lost)

    async def _write_back(self, sessions: list[Session]) -> None:
        """Sessions this edge holds that Redis no longer has: stored again unless ended on purpose
        (a tombstone) or re-created meanwhile (NX); a tombstoned one leaves the cache."""
        pipe = self._redis.pipeline(transaction=False)
        for session in sessions:
            pipe.exists(self._keys.session_ended(session.id))
        try:
            ended = await asyncio.wait_for(pipe.execute(), self._timeout)
            pipe = self._redis.pipeline(transaction=False)
            kept = [s for s, gone in zip(sessions, ended, strict=True) if not gone]
            for session in kept:
                pipe.set(self._keys.session(session.id), _encode(session), ex=self._ttl, nx=True)
            if kept:
                await asyncio.wait_for(pipe.execute(), self._timeout)
        except (TimeoutError, aioredis.RedisError, OSError) as exc:
            log.warning("writing back %d lost sessions failed (%s); will retry", len(sessions), type(exc).__name__)
            self._touched.update(s.id for s in sessions)
            return
        now = time.monotonic()
        for session, gone in zip(sessions, ended, strict=True):
            if gone:
                self._cache.pop(session.id, None)
            elif session.id in self._cache:
                self._cache[session.id] = (session, now)
        if len(kept):
            log.warning("wrote back %d sessions the session store had lost", len(kept))

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval)
            await self.flush_touched()

    def start(self) -> None:
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        with contextlib.suppress(McpgwError, Exception):
            await self.flush_touched()
