"""Upstream sessions: one per client session and hosted server, opened on first use.

A Streamable HTTP upstream session is its id plus the address it was opened on, kept in Redis:
any replica continues it, and two replicas that open one at once settle on the first stored
(the other is ended). A legacy SSE upstream session is a stream one worker holds; `Relay`
routes its messages there. Both end when the client session ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import redis.asyncio as aioredis

from mcpgw.balancing import target_key
from mcpgw.contracts import RedisKeys, UpstreamCall, UpstreamConfig, UpstreamTarget
from mcpgw_hosting.settings import HostingSettings
from mcpgw_hosting.upstream.errors import Unreachable
from mcpgw_hosting.upstream.handshake import InitializeResult, Upstream, initialize
from mcpgw_hosting.upstream.http import UpstreamHttp, credential_headers, find_target, target_url
from mcpgw_hosting.upstream.legacy import LegacyUpstream
from mcpgw_hosting.upstream.streamable import OnMessage, StreamableUpstream, ignore

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (client session id, server id)
# Unrelated upstream messages (not tied to a request): (client session id, server id, message).
Unrelated = Callable[[str, str, bytes], Awaitable[None]]


class Stored(msgspec.Struct, kw_only=True):
    upstream_session_id: str
    protocol_version: str
    address: str
    # Whose credential opened it: ending it upstream needs the same.
    consumer_id: str = ""


_stored = msgspec.json.Decoder(Stored)


BRIDGE_SESSION = "bridge-"


def bridge_session(call: UpstreamCall, capabilities: Any, client_info: Any, slot: int = 0) -> UpstreamCall:
    """The upstream session a bridged request uses: one per consumer and what it declares (and per
    `slot`, where calls cannot share one), as an `UpstreamCall` the session pool opens and continues
    like any other."""
    digest = hashlib.sha256(msgspec.json.encode([call.consumer_id, capabilities, client_info, slot])).hexdigest()
    return UpstreamCall(server_id=call.server_id, session_id=f"{BRIDGE_SESSION}{digest[:32]}",
                        consumer_id=call.consumer_id, message=msgspec.Raw(b"{}"),
                        client_capabilities=msgspec.Raw(msgspec.json.encode(capabilities)),
                        client_info=msgspec.Raw(msgspec.json.encode(client_info)),
                        forward_headers=call.forward_headers)


class UpstreamSession:
    __slots__ = ("config", "key", "upstream")

    def __init__(self, key: Key, config: UpstreamConfig, upstream: Upstream) -> None:
        self.key = key
        self.config = config
        self.upstream = upstream

    @property
    def usable(self) -> bool:
        return not getattr(self.upstream, "closed", False)


def connect(http: UpstreamHttp, settings: HostingSettings, config: UpstreamConfig,
            on_unrelated: OnMessage, address: str | None = None, target: UpstreamTarget | None = None,
            gray: int = 0) -> Upstream:
    """An unopened client for `config`'s upstream: on `address` when it is still one of its targets,
    else on `target`, else on an address picked from backend `gray` (0 the main one)."""
    backend = config.backend
    found = find_target(backend, address) if address else None
    target = found or target or http.pick(config, gray)
    url = target_url(target, backend.path, config.credential)
    headers = credential_headers(config.credential)
    client = http.client(target)
    if backend.transport == "SSE":
        return LegacyUpstream(client, url, headers, settings.max_message_bytes, settings.upstream_timeout,
                              on_unrelated)
    return StreamableUpstream(client, url, headers, settings.max_message_bytes)


async def open_initialized(http: UpstreamHttp, settings: HostingSettings, config: UpstreamConfig,
                           on_unrelated: OnMessage, backend: int = 0, capabilities: bytes = b"{}",
                           client_info: bytes = b"", headers: dict[str, str] | None = None,
                           ) -> tuple[Upstream, InitializeResult]:
    """A new upstream session on an address of `backend` (0 the main one, i gray config i-1; a
    client session's is chosen by the request that opens it, and the session stays there). An
    address that takes no connection counts against its health and the next address of its service
    is tried: nothing was sent."""
    target = http.pick(config, backend)
    tried: list[str] = []
    while True:
        upstream = connect(http, settings, config, on_unrelated, target=target)
        key = target_key(target)
        try:
            if isinstance(upstream, LegacyUpstream):
                await upstream.open(settings.upstream_connect_timeout)
            result = await initialize(upstream, capabilities, client_info, headers)
        except Unreachable:
            await upstream.close()
            if http.health.failed(key):
                log.warning("upstream address %s left out for %gs after %d connection failures in a row",
                            key, http.health.ejection, http.health.threshold)
            tried.append(key)
            balancer = http.balancer(config, backend)
            service = balancer.service_of(target)
            if len(tried) >= balancer.addresses(service):
                raise
            target = http.pick(config, backend, tried, service)
            continue
        except BaseException:  # failed, or cancelled (a describe's timeout): nothing is left open
            await upstream.close()
            raise
        http.health.succeeded(key)
        return upstream, result


def address_of(upstream: Upstream) -> str:
    return upstream.url.split("://", 1)[1].split("/", 1)[0]


class SessionPool:
    def __init__(self, http: UpstreamHttp, redis: aioredis.Redis, keys: RedisKeys, settings: HostingSettings,
                 unrelated: Unrelated, max_live: int = 50_000) -> None:
        self._http = http
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self._unrelated = unrelated
        self._max_live = max_live
        self._live: OrderedDict[Key, UpstreamSession] = OrderedDict()
        self._opening: dict[Key, asyncio.Task[UpstreamSession]] = {}
        self.opened = 0  # upstream sessions initialized by this worker, for tests and debugging

    @property
    def opening_keys(self) -> set[Key]:
        return set(self._opening)

    def live(self, key: Key) -> UpstreamSession | None:
        session = self._live.get(key)
        if session is not None and session.usable:
            self._live.move_to_end(key)
            return session
        return None

    async def existing(self, call: UpstreamCall, config: UpstreamConfig) -> UpstreamSession | None:
        """The session if one is open (here, or stored by another replica); never opens one."""
        key = (call.session_id, call.server_id)
        session = self.live(key)
        if session is not None or key in self._opening:
            return await self.get(call, config)
        if config.backend.transport != "StreamableHTTP":
            return None
        if await self._load(self._keys.upstream_session(*key)) is None:
            return None
        return await self.get(call, config)

    async def get(self, call: UpstreamCall, config: UpstreamConfig) -> UpstreamSession:
        key = (call.session_id, call.server_id)
        session = self.live(key)
        if session is not None and session.config.revision == config.revision:
            return session
        task = self._opening.get(key)
        if task is None:
            task = self._opening[key] = asyncio.get_running_loop().create_task(self._open(key, call, config))
            task.add_done_callback(lambda done: self._opening.pop(key) if self._opening.get(key) is done else None)
        return await asyncio.shield(task)

    async def renew(self, stale: UpstreamSession, call: UpstreamCall) -> UpstreamSession:
        """The upstream forgot the session (404): forget it here too and open a new one."""
        key = stale.key
        if self._live.get(key) is stale:
            del self._live[key]
        await stale.upstream.close(terminate=False)
        with contextlib.suppress(aioredis.RedisError, OSError, TimeoutError):
            await self._redis.delete(self._keys.upstream_session(*key))
        return await self.get(call, stale.config)

    async def _open(self, key: Key, call: UpstreamCall, config: UpstreamConfig) -> UpstreamSession:
        old = self._live.pop(key, None)
        if old is not None:  # a new revision of the server: its upstream may have moved
            await old.upstream.close(terminate=False)
        session_id, server_id = key

        async def unrelated(raw: bytes) -> None:
            await self._unrelated(session_id, server_id, raw)

        redis_key = self._keys.upstream_session(session_id, server_id)
        stored = await self._load(redis_key) if config.backend.transport == "StreamableHTTP" else None
        headers = call.forward_headers or None
        if stored is not None:
            upstream = connect(self._http, self._settings, config, unrelated, stored.address)
            if address_of(upstream) == stored.address:
                # Continue the session another worker (or this one, before a restart) opened.
                upstream.session_id = stored.upstream_session_id
                upstream.protocol_version = stored.protocol_version
                return self._keep(UpstreamSession(key, config, upstream))
        upstream, _ = await open_initialized(self._http, self._settings, config, unrelated, call.backend,
                                             bytes(call.client_capabilities), bytes(call.client_info), headers)
        self.opened += 1
        if isinstance(upstream, StreamableUpstream) and upstream.session_id:
            record = Stored(upstream_session_id=upstream.session_id, protocol_version=upstream.protocol_version or "",
                            address=address_of(upstream), consumer_id=call.consumer_id)
            try:
                won = await self._redis.set(redis_key, msgspec.json.encode(record), nx=True,
                                            ex=self._settings.session_ttl)
                if won:
                    await self._redis.sadd(self._keys.upstream_index(session_id), server_id)
                    await self._redis.expire(self._keys.upstream_index(session_id), self._settings.session_ttl)
                else:
                    theirs = await self._load(redis_key)
                    if theirs is not None and theirs.address == record.address:
                        # Another replica opened one at the same moment: use theirs, end ours.
                        await upstream.close(terminate=True)
                        upstream = connect(self._http, self._settings, config, unrelated, theirs.address)
                        upstream.session_id = theirs.upstream_session_id
                        upstream.protocol_version = theirs.protocol_version
                        return self._keep(UpstreamSession(key, config, upstream))
            except (aioredis.RedisError, OSError, TimeoutError) as exc:
                # Without Redis the session still works here; other replicas open their own.
                log.warning("cannot store upstream session %s: %s", redis_key, type(exc).__name__)
        upstream.listen(unrelated)
        return self._keep(UpstreamSession(key, config, upstream))

    async def _load(self, redis_key: str) -> Stored | None:
        try:
            raw = await self._redis.get(redis_key)
        except (aioredis.RedisError, OSError, TimeoutError):
            return None
        if raw is None:
            return None
        try:
            return _stored.decode(raw)
        except msgspec.DecodeError:
            return None

    def _keep(self, session: UpstreamSession) -> UpstreamSession:
        self._live[session.key] = session
        while len(self._live) > self._max_live:
            _, evicted = self._live.popitem(last=False)
            task = asyncio.get_running_loop().create_task(evicted.upstream.close(terminate=False))
            task.add_done_callback(lambda t: t.exception())
        return session

    async def end_local(self, session_id: str) -> list[UpstreamSession]:
        """Drop this worker's upstream sessions of a client session (ending the legacy ones)."""
        ended = [s for k, s in list(self._live.items()) if k[0] == session_id]
        for session in ended:
            del self._live[session.key]
            await session.upstream.close(terminate=isinstance(session.upstream, LegacyUpstream))
        return ended

    async def end_stored(self, session_id: str, configs: Callable[[str, str], Awaitable[UpstreamConfig]]) -> int:
        """End upstream what Redis says a client session had open (one worker does this per session)."""
        index = self._keys.upstream_index(session_id)
        try:
            server_ids = [s.decode() if isinstance(s, bytes) else s for s in await self._redis.smembers(index)]
        except (aioredis.RedisError, OSError, TimeoutError):
            return 0
        ended = 0
        for server_id in server_ids:
            redis_key = self._keys.upstream_session(session_id, server_id)
            stored = await self._load(redis_key)
            if stored is None:
                continue
            try:
                config = await configs(server_id, stored.consumer_id)
            except Exception:  # the server is gone: so is the way to reach its upstream
                continue
            upstream = connect(self._http, self._settings, config, ignore, stored.address)
            upstream.session_id = stored.upstream_session_id
            upstream.protocol_version = stored.protocol_version
            await upstream.close(terminate=True)
            ended += 1
        with contextlib.suppress(aioredis.RedisError, OSError, TimeoutError):
            await self._redis.delete(index, *(self._keys.upstream_session(session_id, s) for s in server_ids))
        return ended

    async def close(self) -> None:
        for session in list(self._live.values()):
            # Streamable sessions stay open upstream (another replica continues them); a legacy
            # one cannot outlive its stream.
            await session.upstream.close(terminate=isinstance(session.upstream, LegacyUpstream))
        self._live.clear()

