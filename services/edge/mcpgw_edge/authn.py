"""Consumer authentication at the edge: credentials extracted per request, decisions cached.

Every request is authenticated (not only `initialize`). The decision for a given credential set
is asked of the auth worker once and cached until a consumer change event (or the cache TTL).
"""

from __future__ import annotations

import asyncio
import time

from mcpgw.contracts import (
    ConfigChanged,
    PresentedCredential,
    SourcesReply,
    SourcesRequest,
    VerifyReply,
    VerifyRequest,
)
from mcpgw.runtime.bus import Bus
from mcpgw_edge.http import Request

ANONYMOUS = VerifyReply(outcome="allow")
# Refusals are remembered only briefly: the change event that would make one wrong can be lost.
REFUSAL_TTL = 5.0
MISSING = VerifyReply(outcome="unauthenticated", reason="missing credential")


class AuthGate:
    def __init__(self, bus: Bus, timeout: float, cache_ttl: float, max_cached: int = 100_000) -> None:
        self._bus = bus
        self._timeout = timeout
        self._ttl = cache_ttl
        self._max = max_cached
        self._cache: dict[tuple[str, tuple[PresentedCredential, ...]], tuple[VerifyReply, float]] = {}
        self._sources: SourcesReply | None = None
        self._sources_lock = asyncio.Lock()
        self._generation = 0
        # Newest consumer/grant revision seen in events; auth must answer from at least this one.
        self._min_revision = 0
        # For /metrics: decisions answered from memory, verify round trips, decisions dropped by events.
        self.hits = 0
        self.misses = 0
        self.invalidations = 0

    async def _credential_sources(self) -> SourcesReply:
        if self._sources is not None:
            return self._sources
        async with self._sources_lock:
            if self._sources is None:
                generation = self._generation
                reply = await self._bus.request(self._bus.subjects.auth_sources, SourcesRequest(), SourcesReply,
                                                timeout=self._timeout)
                if generation == self._generation:
                    self._sources = reply
                return reply
            return self._sources

    async def credentials(self, request: Request) -> tuple[PresentedCredential, ...]:
        found: list[PresentedCredential] = []
        authorization = request.header("authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            found.append(PresentedCredential(source="bearer", value=token.strip()))
        sources = await self._credential_sources()
        for name in sources.headers:
            value = request.header(name.lower())
            if value:
                found.append(PresentedCredential(source="header", name=name, value=value))
        for name in sources.query:
            value = request.query(name)
            if value:
                found.append(PresentedCredential(source="query", name=name, value=value))
        for name in sources.cookies:
            value = request.cookie(name)
            if value:
                found.append(PresentedCredential(source="cookie", name=name, value=value))
        return tuple(found)

    async def verify(self, request: Request, server_id: str, server_name: str) -> VerifyReply:
        creds = await self.credentials(request)
        if not creds:
            return MISSING
        key = (server_id, creds)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            self.hits += 1
            return hit[0]
        self.misses += 1
        generation = self._generation
        reply = await self._bus.request(
            self._bus.subjects.auth_verify,
            VerifyRequest(server_id=server_id, server_name=server_name, credentials=list(creds),
                          min_revision=self._min_revision),
            VerifyReply,
            timeout=self._timeout,
        )
        # A change event that arrived while we asked makes this answer stale: do not cache it.
        # Nor beyond the token's or grant's own expiry.
        lifetime = self._ttl if reply.outcome == "allow" else min(self._ttl, REFUSAL_TTL)
        if reply.valid_until:
            lifetime = min(lifetime, reply.valid_until - time.time())
        if generation == self._generation and lifetime > 0:
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[key] = (reply, now + lifetime)
        return reply

    async def on_event(self, event: ConfigChanged) -> None:
        if event.entity in ("consumer", "grant") or (event.entity == "server" and event.op == "delete"):
            if event.entity != "server":
                self._min_revision = max(self._min_revision, event.revision)
            self._generation += 1
            self.invalidations += len(self._cache)
            self._cache.clear()
            if event.entity == "consumer":
                self._sources = None
