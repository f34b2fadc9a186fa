"""The auth worker: answers `auth.verify` and `auth.sources` from an in-memory consumer index.

A verify identifies the consumer (an API key by its digest, else a JWT by its signature) and then
asks the grants what it may do on the server. Every credential presented gets its chance: the
first that belongs to an enabled consumer with a grant on the server wins.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from nats.aio.subscription import Subscription
from prometheus_client.core import Metric

from mcpgw.contracts import (
    AuthIndex,
    AuthIndexRequest,
    ConfigChanged,
    PresentedCredential,
    SourcesReply,
    SourcesRequest,
    Subjects,
    VerifyReply,
    VerifyRequest,
)
from mcpgw.runtime.bus import Bus
from mcpgw.runtime.metrics import counter
from mcpgw_auth.index import ConsumerIndex
from mcpgw_auth.jwks_remote import JwksCache, JwksPolicy
from mcpgw_auth.jwt_verify import INVALID, Accepted, JwtOutcome, Refused, verify_jwt
from mcpgw_auth.loader import IndexLoader
from mcpgw_auth.policy import authorize
from mcpgw_auth.settings import AuthSettings

log = logging.getLogger(__name__)


class AuthService:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._bus: Bus | None = None
        self._subs: list[Subscription] = []
        self.jwks = JwksCache(JwksPolicy(
            connect_timeout=settings.jwks_connect_timeout,
            total_timeout=settings.jwks_timeout,
            max_bytes=settings.jwks_max_bytes,
            min_refresh_interval=settings.jwks_min_refresh_interval,
            wait=settings.jwks_wait,
        ))
        self.index = IndexLoader(self._fetch_index, max_age=settings.index_max_age, build=self._build_index,
                                 catch_up_wait=settings.registry_timeout)
        self.decisions: dict[str, int] = {}  # verify answers by outcome, for /metrics

    @property
    def bus(self) -> Bus:
        if self._bus is None:
            raise RuntimeError("AuthService is not started")
        return self._bus

    async def start(self) -> None:
        s = self.settings
        self._bus = await Bus.connect(s.nats_url, name="mcpgw-auth", root=s.subject_root,
                                      timeout=s.request_timeout)
        subjects = self.bus.subjects
        # Every replica hears every change (no queue group); requests are spread over the group.
        self._subs = [
            await self.bus.subscribe(subjects.events_consumer_all, ConfigChanged, self._on_change),
            await self.bus.subscribe(subjects.events_grant_all, ConfigChanged, self._on_change),
            await self.bus.serve(subjects.auth_verify, VerifyRequest, self.verify,
                                 queue=Subjects.AUTH_QUEUE, max_inflight=s.max_inflight, span_name="auth.verify"),
            await self.bus.serve(subjects.auth_sources, SourcesRequest, self.sources,
                                 queue=Subjects.AUTH_QUEUE, max_inflight=s.max_inflight, span_name="auth.sources"),
        ]

    async def stop(self) -> None:
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except Exception as exc:  # the connection may already be gone
                log.debug("unsubscribe failed: %s", exc)
        self._subs = []
        await self.index.close()
        await self.jwks.close()
        if self._bus is not None:
            await self._bus.close()
            self._bus = None

    async def _fetch_index(self) -> AuthIndex:
        return await self.bus.request(self.bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex,
                                      timeout=self.settings.registry_timeout)

    def _build_index(self, answer: AuthIndex) -> ConsumerIndex:
        index = ConsumerIndex.build(answer, self.jwks)
        remotes = index.jwt.remotes()
        self.jwks.retain({remote.url for remote in remotes})
        for remote in remotes:
            remote.current()  # fetches a key set we have no copy of yet, before a token needs it
        return index

    async def _on_change(self, event: ConfigChanged) -> None:
        log.debug("%s %s %s at revision %d: reloading the index", event.entity, event.id, event.op, event.revision)
        self.index.invalidate(event.revision)

    async def _identify(self, index: ConsumerIndex, credential: PresentedCredential) -> JwtOutcome:
        consumer = index.lookup(credential)
        if consumer is not None:
            return Accepted(consumer, {}) if consumer.enable else Refused("consumer disabled", 5)
        candidates = index.jwt.candidates(credential)
        if candidates:
            outcome = await verify_jwt(candidates, credential.value)
            if outcome is not None:
                return outcome
        return INVALID

    async def verify(self, request: VerifyRequest) -> VerifyReply:
        reply = await self._verify(request)
        self.decisions[reply.outcome] = self.decisions.get(reply.outcome, 0) + 1
        return reply

    async def _verify(self, request: VerifyRequest) -> VerifyReply:
        presented = [c for c in request.credentials if c.value]
        if not presented:
            return VerifyReply(outcome="unauthenticated", reason="missing credential")
        arrived = self.index.fetches
        index = await self.index.current(request.min_revision)
        reply = await self._decide(index, request, presented)
        if reply.outcome == "forbidden" or reply.reason == INVALID.reason:
            # The key or grant may be milliseconds old, its event not yet here nor at the edge:
            # look once more in an index loaded after this request arrived before refusing
            # (the one in hand, when a load or catch-up made for this request produced it).
            fresh = await self.index.recheck(since=arrived)
            if fresh is not None and fresh is not index:
                reply = await self._decide(fresh, request, presented)
        return reply

    def metrics(self) -> Iterator[Metric]:
        if self._bus is not None:
            yield from self._bus.metrics()
        yield counter("mcpgw_auth_decisions", "Verify answers by outcome (allow, unauthenticated, forbidden)",
                      ("outcome",), [((outcome,), count) for outcome, count in self.decisions.items()])

    async def _decide(self, index: ConsumerIndex, request: VerifyRequest,
                      presented: list[PresentedCredential]) -> VerifyReply:
        forbidden: VerifyReply | None = None
        refused: Refused = INVALID
        for credential in presented:
            outcome = await self._identify(index, credential)
            if isinstance(outcome, Accepted):
                reply = authorize(outcome.consumer, request, index.grants, outcome.forward_headers, outcome.valid_until)
                log.debug("server %s: consumer %s: %s", request.server_name, reply.consumer_id, reply.outcome)
                if reply.outcome == "allow":
                    return reply
                forbidden = forbidden or reply
            elif outcome.rank > refused.rank:
                refused = outcome
        if forbidden is not None:
            return forbidden
        log.debug("server %s: %d credential(s) refused: %s", request.server_name, len(presented), refused.reason)
        # A refusal that may not hold a moment later (keys not fetched yet) is valid until now: the
        # edge keeps it for no time, so the next request is asked again.
        return VerifyReply(outcome="unauthenticated", reason=refused.reason,
                           valid_until=time.time() if refused.transient else 0.0)

    async def sources(self, request: SourcesRequest) -> SourcesReply:
        index = await self.index.current()
        return SourcesReply(headers=index.header_names, query=index.query_names, cookies=index.cookie_names)
