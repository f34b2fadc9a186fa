"""Keeps the consumer index current: loaded on first need, reloaded after every consumer/grant change.

A change event marks the index stale and starts a reload. Bursts coalesce: at most one reload is
in flight, and events that arrive meanwhile queue a single follow-up reload. A stale index is never
used to answer: callers wait for the reload, and if the registry cannot be reached they get a
`ServiceUnavailable` error, neither allow nor deny on data known to be out of date.

Revisions close the gap events leave: an edge that has seen a change at revision R asks with
`min_revision=R`, possibly before this replica heard of R. Such a caller is not answered from an
index older than R: a reload starting after its arrival is awaited (bounded), and if even that one
is older it gets `ServiceUnavailable` rather than a revoked consumer's "allow".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from mcpgw.contracts import AuthIndex, ErrorCode, McpgwError
from mcpgw_auth.index import ConsumerIndex

log = logging.getLogger(__name__)

UNAVAILABLE = "consumer directory unavailable"
# Loads made to re-check an unknown credential start at most this often (shared by all callers):
# a key created a moment ago works at once, and guessing cannot hammer the registry.
RECHECK_GAP = 0.1

Fetch = Callable[[], Awaitable[AuthIndex]]
Build = Callable[[AuthIndex], ConsumerIndex]


class IndexLoader:
    def __init__(self, fetch: Fetch, *, max_age: float = 300.0, build: Build = ConsumerIndex.build,
                 catch_up_wait: float = 2.0) -> None:
        self._fetch = fetch
        self._build = build
        self._max_age = max_age
        self._catch_up_wait = catch_up_wait
        self._index: ConsumerIndex | None = None
        self._loaded_at = 0.0
        self._refresh_tried_at = 0.0
        # `_wanted` moves on every event; the index is current when `_loaded` has caught up with it.
        self._wanted = 1
        self._loaded = 0
        self._task: asyncio.Task[None] | None = None
        self._recheck: asyncio.Task[ConsumerIndex | None] | None = None
        self._recheck_fetching = False
        self._recheck_at = 0.0
        # Fetches started so far, and which of them produced `_index`: a caller that noted the
        # count on arrival can tell whether the index in hand was read after it arrived.
        self._fetches = 0
        self._index_fetch = 0
        self.reloads = 0  # completed loads, for tests and metrics

    def invalidate(self, revision: int = 0) -> None:
        """A consumer or grant changed: the index is stale from now on; reload it (coalesced).

        An event at a revision the loaded index already includes changes nothing (0: unknown).
        """
        index = self._index
        if revision > 0 and index is not None and index.revision >= revision:
            return
        self._wanted += 1
        self._ensure_reload()

    async def current(self, min_revision: int = 0) -> ConsumerIndex:
        """The up-to-date index, loading it first if needed; `McpgwError` if it cannot be had."""
        index = self._index
        if index is not None and index.revision < min_revision:
            return await self._catch_up(min_revision)
        if index is not None and self._loaded == self._wanted:
            now = time.monotonic()
            if self._max_age and now - self._loaded_at > self._max_age and now - self._refresh_tried_at > 5:
                # A safety net for an event lost in a reconnect: refresh in the background, and keep
                # answering from this index (nothing says it is stale) even if the refresh fails.
                self._refresh_tried_at = now
                self._ensure_reload()
            return index
        task = self._ensure_reload()
        # shield: a caller that gives up must not cancel the reload others wait for.
        await asyncio.shield(task)
        index = self._index
        if index is None or self._loaded != self._wanted:
            raise McpgwError(ErrorCode.NO_RESPONDERS, UNAVAILABLE)
        if index.revision < min_revision:
            return await self._catch_up(min_revision)
        return index

    async def _catch_up(self, min_revision: int) -> ConsumerIndex:
        """An index at `min_revision` or newer, from a fetch that starts after this call."""
        # A reload already in flight may have read the registry before the write the caller saw:
        # moving `_wanted` makes that reload fetch once more when it is done (still one at a time).
        self._wanted += 1
        task = self._ensure_reload()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), self._catch_up_wait)
        index = self._index
        if index is None or index.revision < min_revision:
            current = -1 if index is None else index.revision
            log.warning("consumer index at revision %d, a caller needs %d", current, min_revision)
            raise McpgwError(ErrorCode.NO_RESPONDERS, UNAVAILABLE)
        return index

    @property
    def fetches(self) -> int:
        """A mark to pass to `recheck(since=...)` later: the number of fetches started so far."""
        return self._fetches

    async def recheck(self, since: int) -> ConsumerIndex | None:
        """An index from a fetch started after the mark `since` (see `fetches`), to look again for a
        credential the current one lacks (its consumer may be milliseconds old, its change event
        still on the way); None if none could be had in time."""
        if self._index is not None and self._index_fetch > since:
            return self._index  # already read after the caller's mark: another fetch would tell nothing new
        pending = self._recheck
        if pending is None or pending.done() or self._recheck_fetching:
            pending = self._recheck = asyncio.get_running_loop().create_task(self._recheck_load())
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(asyncio.shield(pending), self._catch_up_wait)
        return None

    async def _recheck_load(self) -> ConsumerIndex | None:
        wait = self._recheck_at + RECHECK_GAP - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # the rate limit: later callers join this load meanwhile
        self._recheck_fetching = True
        self._recheck_at = time.monotonic()
        try:
            self._wanted += 1
            await asyncio.shield(self._ensure_reload())
        finally:
            self._recheck_fetching = False
        return self._index if self._loaded == self._wanted else None

    async def close(self) -> None:
        if self._recheck is not None and not self._recheck.done():
            self._recheck.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recheck
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _ensure_reload(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._reload())
        return self._task

    async def _reload(self) -> None:
        while True:
            target = self._wanted
            self._fetches += 1
            fetch = self._fetches
            try:
                answer = await self._fetch()
            except McpgwError as exc:
                # Leave the index stale; the next caller starts another attempt.
                log.warning("cannot load the consumer index: %s", exc.message)
                return
            except Exception:
                log.exception("cannot load the consumer index")
                return
            self._index = self._build(answer)
            self._index_fetch = fetch
            self._loaded = target
            self._loaded_at = time.monotonic()
            self.reloads += 1
            log.info("consumer index loaded: %d consumers, %d grants, revision %d",
                     len(answer.consumers), len(answer.grants), answer.revision)
            if self._loaded == self._wanted:
                return
