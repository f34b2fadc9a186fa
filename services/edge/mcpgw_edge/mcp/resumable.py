"""Resumable request streams (2025-11-25): a relayed request's SSE events, kept so a client can resume.

Once a relayed request's answer becomes an SSE stream, its events get ids `<stream>_<n>` (0 is the
priming event) and are kept in Redis for `ttl` seconds after the last one. A client that lost the
stream, or was told to poll (as its upstream told the gateway), reconnects with GET and
`Last-Event-ID` on any edge replica and gets what it missed, then the rest as it comes:
`edge.stream.<stream>` tells that replica a new event is there to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable

import msgspec
import redis.asyncio as aioredis

from mcpgw.contracts import RedisKeys, StreamAppended
from mcpgw.jsonrpc import NULL
from mcpgw.runtime.bus import Bus

log = logging.getLogger(__name__)

_EVENT_ID = re.compile(r"^([0-9a-f]{16})_(\d{1,9})$")
_REDIS_ERRORS = (aioredis.RedisError, OSError, TimeoutError)
# Revisions whose clients resume a request stream (and take a priming event with empty data).
RESUMABLE_FROM = "2025-11-25"
# Events kept per stream: a long call reporting progress must not grow Redis without bound. The
# priming event stays (it marks the stream as known); of the rest, the newest are kept.
MAX_KEPT = 1000


class Recorded(msgspec.Struct, array_like=True):
    seq: int
    final: bool
    payload: msgspec.Raw

    @property
    def priming(self) -> bool:
        return self.seq == 0


_encode = msgspec.json.encode
_decode = msgspec.json.Decoder(Recorded).decode


def event_id(stream_id: str, seq: int) -> str:
    return f"{stream_id}_{seq}"


def parse_event_id(value: str) -> tuple[str, int] | None:
    match = _EVENT_ID.match(value)
    return (match.group(1), int(match.group(2))) if match else None


def resumable(protocol_version: str) -> bool:
    # Revisions are dates: they order as strings.
    return protocol_version >= RESUMABLE_FROM


class RequestStreams:
    def __init__(self, redis: aioredis.Redis, keys: RedisKeys, bus: Bus, ttl: int, timeout: float) -> None:
        self._redis = redis
        self._keys = keys
        self._bus = bus
        self._ttl = ttl
        self._timeout = timeout

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8)

    async def record(self, session_id: str, stream_id: str, event: Recorded) -> None:
        """Keep `event` for resumption and tell a replica following the stream. A failure loses only
        the chance to resume past it: the live client has it already."""
        key = self._keys.request_stream(session_id, stream_id)
        try:
            async with asyncio.timeout(self._timeout):
                pipe = self._redis.pipeline(transaction=False)
                pipe.rpush(key, _encode(event))
                if event.seq > MAX_KEPT:
                    # Drop the oldest event but the priming one (index 0).
                    pipe.lset(key, 1, "")
                    pipe.lrem(key, 1, "")
                pipe.expire(key, self._ttl)
                await pipe.execute()
            if not event.priming:
                await self._bus.publish(self._bus.subjects.edge_stream(stream_id), StreamAppended(stream_id=stream_id))
        except _REDIS_ERRORS as exc:
            log.warning("request stream %s: event %d not kept (%s)", stream_id, event.seq, type(exc).__name__)

    async def read(self, session_id: str, stream_id: str, after: int) -> list[Recorded] | None:
        """The events after `after`; None when the stream is unknown here (never seen, or expired)."""
        async with asyncio.timeout(self._timeout):
            raw = await self._redis.lrange(self._keys.request_stream(session_id, stream_id), 0, -1)
        if not raw:
            return None
        events = []
        for item in raw:
            try:
                event = _decode(item)
            except msgspec.DecodeError:
                continue
            if event.seq > after:
                events.append(event)
        return events

    async def follow(self, session_id: str, stream_id: str, after: int, send: Callable[[Recorded], Awaitable[None]],
                     idle: Callable[[], Awaitable[None]], idle_interval: float) -> None:
        """Send the stream's events after `after` as they come, until its final one (or it expires)."""
        appended = asyncio.Event()

        async def on_appended(_: StreamAppended) -> None:
            appended.set()

        subscription = await self._bus.subscribe(self._bus.subjects.edge_stream(stream_id), StreamAppended,
                                                 on_appended)
        try:
            while True:
                appended.clear()
                events = await self.read(session_id, stream_id, after)
                if events is None:
                    return  # expired while followed
                for event in events:
                    if bytes(event.payload) != bytes(NULL):
                        await send(event)
                    after = event.seq
                    if event.final:
                        return
                try:
                    async with asyncio.timeout(idle_interval):
                        await appended.wait()
                except TimeoutError:
                    await idle()
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
