"""The auth worker: answers `auth.verify` and `auth.sources` from an in-memory consumer index."""

from __future__ import annotations

import logging

from nats.aio.subscription import Subscription

from mcpgw.contracts import (
    AuthIndex,
    AuthIndexRequest,
    ConfigChanged,
    ConsumerCredentials,
    SourcesReply,
    SourcesRequest,
    Subjects,
    VerifyReply,
    VerifyRequest,
)
from mcpgw.runtime.bus import Bus
from mcpgw_auth.loader import IndexLoader
from mcpgw_auth.policy import authorize
from mcpgw_auth.settings import AuthSettings

log = logging.getLogger(__name__)


async def sync_subscriptions(bus: Bus) -> None:
    """Return once the server has processed every SUB/UNSUB sent so far.

    nats-py 2.16's `flush()` writes its PING straight to the socket, ahead of commands still queued
    for its flusher task, so one PONG does not prove the queued SUBs arrived. The flusher runs while
    the first round trip is awaited; the second PING therefore follows every queued command.
    """
    timeout = max(1, round(bus.default_timeout))
    await bus.nc.flush(timeout=timeout)
    await bus.nc.flush(timeout=timeout)


class AuthService:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._bus: Bus | None = None
        self._subs: list[Subscription] = []
        self.index = IndexLoader(self._fetch_index, max_age=settings.index_max_age)

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
            await self.bus.serve(subjects.auth_verify, VerifyRequest, self.verify,
                                 queue=Subjects.AUTH_QUEUE, max_inflight=s.max_inflight, span_name="auth.verify"),
            await self.bus.serve(subjects.auth_sources, SourcesRequest, self.sources,
                                 queue=Subjects.AUTH_QUEUE, max_inflight=s.max_inflight, span_name="auth.sources"),
        ]
        # The subscriptions must be registered with the server before we call ourselves ready.
        await sync_subscriptions(self.bus)

    async def stop(self) -> None:
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except Exception as exc:  # the connection may already be gone
                log.debug("unsubscribe failed: %s", exc)
        self._subs = []
        await self.index.close()
        if self._bus is not None:
            await self._bus.close()
            self._bus = None

    async def _fetch_index(self) -> AuthIndex:
        return await self.bus.request(self.bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex,
                                      timeout=self.settings.registry_timeout)

    async def _on_change(self, event: ConfigChanged) -> None:
        log.debug("consumer %s %s: reloading the index", event.id, event.op)
        self.index.invalidate()

    async def verify(self, request: VerifyRequest) -> VerifyReply:
        presented = [c for c in request.credentials if c.value]
        if not presented:
            return VerifyReply(outcome="unauthenticated", reason="missing credential")
        index = await self.index.current()
        disabled: ConsumerCredentials | None = None
        for credential in presented:
            consumer = index.lookup(credential)
            if consumer is None:
                continue
            if consumer.enable:
                reply = authorize(consumer, request)
                log.debug("server %s: consumer %s: %s", request.server_name, consumer.consumer_id, reply.outcome)
                return reply
            disabled = disabled or consumer
        if disabled is not None:
            log.debug("server %s: consumer %s is disabled", request.server_name, disabled.consumer_id)
            return VerifyReply(outcome="unauthenticated", reason="consumer disabled")
        log.debug("server %s: no consumer matches the %d credential(s) presented",
                  request.server_name, len(presented))
        return VerifyReply(outcome="unauthenticated", reason="invalid credential")

    async def sources(self, request: SourcesRequest) -> SourcesReply:
        index = await self.index.current()
        return SourcesReply(headers=index.header_names, query=index.query_names)
