"""The hosting worker: the MCP client side of hosted servers.

Answers `hosting.call.<server_id>` (a client session's messages), `hosting.describe` and
`hosting.tools` in a queue group shared by all replicas; ends upstream sessions when client
sessions end.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import redis.asyncio as aioredis
from nats.aio.subscription import Subscription
from prometheus_client.core import Metric

from mcpgw.balancing import Health
from mcpgw.contracts import (
    ConfigChanged,
    RedisKeys,
    SessionEnded,
    Subjects,
    UpstreamCall,
    UpstreamCancel,
    UpstreamDescribe,
    UpstreamReply,
    UpstreamTools,
)
from mcpgw.runtime.bus import Bus
from mcpgw.runtime.redis import connect_redis
from mcpgw.runtime.stats import Stats
from mcpgw_hosting.bridge import Bridge
from mcpgw_hosting.bridge_listen import BridgedSubscriptions
from mcpgw_hosting.configs import UpstreamConfigs
from mcpgw_hosting.describe import Describer
from mcpgw_hosting.holders import Holders
from mcpgw_hosting.modern import ModernPassThrough
from mcpgw_hosting.relay import Relay
from mcpgw_hosting.reverse_bridge import ReverseBridge
from mcpgw_hosting.sealing import Sealer, key_from
from mcpgw_hosting.sessions import SessionPool
from mcpgw_hosting.settings import HostingSettings
from mcpgw_hosting.upstream.http import UpstreamHttp

log = logging.getLogger(__name__)


class HostingService:
    def __init__(self, settings: HostingSettings) -> None:
        self.settings = settings
        self._bus: Bus | None = None
        self._redis: aioredis.Redis | None = None
        self._http = UpstreamHttp(settings.upstream_connect_timeout, settings.upstream_timeout,
                                  settings.max_connections_per_host,
                                  Health(settings.upstream_eject_after, settings.upstream_eject_seconds))
        self._relay: Relay | None = None
        self._stats: Stats | None = None
        self._subscriptions: list[Subscription] = []

    @property
    def relay(self) -> Relay:
        assert self._relay is not None, "service not started"
        return self._relay

    @property
    def stats(self) -> Stats:
        assert self._stats is not None, "service not started"
        return self._stats

    def metrics(self) -> Iterator[Metric]:
        """Hosted requests answered (`hosting.call` and the rest), by operation and outcome, and the
        HTTP requests made upstream, by upstream address and outcome."""
        if self._bus is not None:
            yield from self._bus.metrics()
        yield self._http.telemetry.timings.family()

    async def start(self) -> None:
        s = self.settings
        bus = self._bus = await Bus.connect(s.nats_url, name="mcpgw-hosting", root=s.subject_root,
                                            timeout=s.request_timeout)
        self._redis = connect_redis(s.redis_url, s.request_timeout)
        keys = RedisKeys(s.subject_root)
        self._stats = Stats(self._redis, keys, s.stats_flush_interval, s.stats_window)
        configs = UpstreamConfigs(bus)
        relay: Relay | None = None

        async def unrelated(session_id: str, server_id: str, raw: bytes) -> None:
            assert relay is not None
            await relay.unrelated(session_id, server_id, raw)

        pool = SessionPool(self._http, self._redis, keys, s, unrelated)
        holders = Holders(bus, self._redis, keys, pool, s.upstream_timeout + s.request_timeout)
        modern = ModernPassThrough(bus, self._http, s)
        describer = Describer(self._http, configs, s, modern)
        subscriptions = BridgedSubscriptions(bus, pool, describer.describe)
        bridge = Bridge(bus, pool, Sealer(key_from(s.state_key), s.held_call_timeout), holders.worker_id,
                        s.held_call_timeout, subscriptions, describer.describe)
        reverse = ReverseBridge(bus, modern, holders.worker_id, s.held_call_timeout, self._redis, keys)
        relay = self._relay = Relay(bus, configs, pool, holders, modern, bridge, reverse, self._stats)

        async def on_session_ended(event: SessionEnded) -> None:
            reverse.stop_listening(event.session_id)
            for session in await pool.end_local(event.session_id):
                await holders.release(session.key)

        async def end_stored(event: SessionEnded) -> UpstreamReply:
            await pool.end_stored(event.session_id, configs.get)
            return UpstreamReply()  # an event: nobody reads it

        subjects = bus.subjects
        # Change events first: an invalidation must not slip between a lookup and the subscription.
        self._subscriptions = [
            await bus.subscribe(subjects.events_server_all, ConfigChanged, configs.on_event),
            # Every worker drops what it holds of an ended session; one of them ends it upstream.
            await bus.subscribe(subjects.events_session_all, SessionEnded, on_session_ended),
            await bus.subscribe(subjects.hosting_cancel, UpstreamCancel, relay.cancel),
        ]
        self._stats.start()
        self._subscriptions += [
            await bus.serve(subjects.events_session_all, SessionEnded, end_stored,
                            queue=Subjects.HOSTING_QUEUE, span_name="hosting.session.end"),
            await bus.serve_raw(subjects.hosting_call_all, UpstreamCall, relay.handle,
                                queue=Subjects.HOSTING_QUEUE, max_inflight=s.max_inflight, span_name="hosting.call"),
            # Retries of the bridged calls this worker holds.
            await bus.serve_raw(subjects.hosting_bridge(holders.worker_id), UpstreamCall, relay.handle_bridged,
                                span_name="hosting.bridge"),
            await bus.serve(subjects.hosting_describe, UpstreamDescribe, describer.describe,
                            queue=Subjects.HOSTING_QUEUE, span_name="hosting.describe"),
            await bus.serve(subjects.hosting_tools, UpstreamTools, describer.tools,
                            queue=Subjects.HOSTING_QUEUE, span_name="hosting.tools"),
        ]
        log.info("hosting serving %s", subjects.hosting_call_all)

    async def stop(self) -> None:
        if self._relay is not None:
            await self._relay.close()
        if self._bus is not None:
            await self._bus.close()
        if self._relay is not None:
            await self._relay.pool.close()
        if self._stats is not None:
            await self._stats.stop()
        await self._http.close()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()

