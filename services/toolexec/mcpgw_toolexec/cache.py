"""Server snapshots by id, fetched from the registry on a miss and dropped on change events.

The warm path is a dict lookup. A call carrying a newer revision than the cached one refetches
(that also heals a missed event), and concurrent misses for one server share a single lookup.
"""

from __future__ import annotations

import asyncio
import logging

from nats.aio.subscription import Subscription

from mcpgw.contracts import ConfigChanged, ErrorCode, McpgwError, ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from mcpgw_toolexec.compiled import CompiledServer

log = logging.getLogger(__name__)


class SnapshotCache:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._servers: dict[str, CompiledServer] = {}
        # In-flight lookups. An invalidation removes the entry, so a lookup answered before the
        # change (and possibly stale) is still returned to its waiters but never stored.
        self._fetches: dict[str, asyncio.Task[CompiledServer]] = {}
        self._subscription: Subscription | None = None
        # Counted for tests and /metrics: served from memory, registry round trips, snapshots dropped.
        self.hits = 0
        self.lookups = 0
        self.invalidations = 0

    async def start(self) -> None:
        self._subscription = await self._bus.subscribe(
            self._bus.subjects.events_server_all, ConfigChanged, self._on_changed)

    async def stop(self) -> None:
        subscription, self._subscription = self._subscription, None
        # After the bus was drained the subscription is already gone with the connection.
        if subscription is not None and not self._bus.nc.is_closed:
            await subscription.unsubscribe()
        for task in self._fetches.values():
            task.cancel()

    async def get(self, server_id: str, revision: int) -> CompiledServer:
        cached = self._servers.get(server_id)
        if cached is not None and cached.revision >= revision:
            self.hits += 1
            return cached
        server: CompiledServer | None = None
        for _ in range(2):
            task = self._fetches.get(server_id)
            joined = task is not None
            if task is None:
                task = self._start_fetch(server_id)
            try:
                # shield: one caller giving up must not cancel the lookup others wait for.
                server = await asyncio.shield(task)
            except McpgwError as exc:
                if cached is None or exc.code not in (ErrorCode.NO_RESPONDERS, ErrorCode.TIMEOUT):
                    raise
                # The registry is unreachable: an older revision serves better than no answer.
                log.warning("server %s: cannot refresh revision %d to %d (%s); using the cached one",
                            server_id, cached.revision, revision, exc.message)
                return cached
            # A shared lookup may have started before the revision this call needs existed.
            if server.revision >= revision or not joined:
                break
        assert server is not None
        return server

    def cached_revision(self, server_id: str) -> int | None:
        cached = self._servers.get(server_id)
        return cached.revision if cached is not None else None

    def invalidate(self, server_id: str) -> None:
        if self._servers.pop(server_id, None) is not None:
            self.invalidations += 1
        self._fetches.pop(server_id, None)

    def _start_fetch(self, server_id: str) -> asyncio.Task[CompiledServer]:
        task = asyncio.get_running_loop().create_task(self._fetch(server_id))
        self._fetches[server_id] = task

        def done(finished: asyncio.Task[CompiledServer]) -> None:
            if self._fetches.get(server_id) is finished:
                del self._fetches[server_id]
            if not finished.cancelled():
                finished.exception()  # retrieved here so an unawaited failure is not logged as lost

        task.add_done_callback(done)
        return task

    async def _fetch(self, server_id: str) -> CompiledServer:
        self.lookups += 1
        reply = await self._bus.request(self._bus.subjects.registry_server_lookup,
                                        ServerLookup(server_id=server_id), ServerLookupReply)
        if reply.server is None:
            raise McpgwError(ErrorCode.NOT_FOUND, f"unknown server: {server_id}")
        server = CompiledServer(reply.server)
        current = self._servers.get(server_id)
        if self._fetches.get(server_id) is asyncio.current_task() and (
                current is None or current.revision <= server.revision):
            self._servers[server_id] = server
        return server

    async def _on_changed(self, event: ConfigChanged) -> None:
        if event.entity != "server":
            return
        cached = self._servers.get(event.id)
        if event.op == "put" and cached is not None and 0 < event.revision <= cached.revision:
            return  # we already hold this revision or a newer one
        log.debug("server %s changed (%s, revision %d): dropping its snapshot", event.id, event.op,
                  event.revision)
        self.invalidate(event.id)
