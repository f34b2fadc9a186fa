"""Per-server call statistics (toolexec and hosting): counted in memory, flushed to Redis in one pipeline per interval.

A call never waits on Redis. When Redis is down the counts stay here (merged, so memory grows
with the number of servers and tools, not with calls) and go out with a later flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mcpgw.contracts import RedisKeys

log = logging.getLogger(__name__)

# Caps on what a long Redis outage can pile up; past them new keys are dropped (and counted).
MAX_SERVERS = 10_000
MAX_TOOLS_PER_SERVER = 2_000


@dataclass(slots=True)
class _Counts:
    calls: int = 0
    errors: int = 0
    latency_ms: float = 0.0
    # tool name -> [calls, errors]
    tools: dict[str, list[int]] = field(default_factory=dict)

    def merge(self, other: _Counts) -> None:
        self.calls += other.calls
        self.errors += other.errors
        self.latency_ms += other.latency_ms
        for name, (calls, errors) in other.tools.items():
            mine = self.tools.get(name)
            if mine is None:
                if len(self.tools) >= MAX_TOOLS_PER_SERVER:
                    continue
                mine = self.tools[name] = [0, 0]
            mine[0] += calls
            mine[1] += errors


class Stats:
    def __init__(self, client: aioredis.Redis, keys: RedisKeys, interval: float) -> None:
        self._redis = client
        self._keys = keys
        self._interval = interval
        self._pending: dict[str, _Counts] = {}
        self._lock = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None
        self.dropped = 0
        self._failing = False  # while Redis is down, one warning rather than one per interval

    def record(self, server_id: str, tool: str, is_error: bool, latency_ms: float) -> None:
        counts = self._pending.get(server_id)
        if counts is None:
            if len(self._pending) >= MAX_SERVERS:
                self.dropped += 1
                return
            counts = self._pending[server_id] = _Counts()
        counts.calls += 1
        counts.latency_ms += latency_ms
        per_tool = counts.tools.get(tool)
        if per_tool is None:
            if len(counts.tools) >= MAX_TOOLS_PER_SERVER:
                self.dropped += 1
                per_tool = [0, 0]  # still counted for the server, not per tool
            else:
                per_tool = counts.tools[tool] = [0, 0]
        per_tool[0] += 1
        if is_error:
            counts.errors += 1
            per_tool[1] += 1

    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self) -> bool:
        """Write what was counted since the last flush; True when Redis took it (or nothing was due)."""
        async with self._lock:
            if not self._pending:
                return True
            batch, self._pending = self._pending, {}
            try:
                # MULTI/EXEC: a batch lands whole or not at all, so a retry cannot count twice
                # (except when the connection dies between EXEC and its answer).
                async with self._redis.pipeline(transaction=True) as pipe:
                    for server_id, counts in batch.items():
                        key = self._keys.stats_server(server_id)
                        pipe.hincrby(key, "calls", counts.calls)
                        pipe.hincrby(key, "errors", counts.errors)
                        pipe.hincrbyfloat(key, "latency_ms_sum", round(counts.latency_ms, 3))
                        for name, (calls, errors) in counts.tools.items():
                            pipe.hincrby(key, f"tool:{name}:calls", calls)
                            pipe.hincrby(key, f"tool:{name}:errors", errors)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                log.log(logging.DEBUG if self._failing else logging.WARNING,
                        "statistics not written to Redis (%s: %s); keeping them for the next flush",
                        type(exc).__name__, str(exc)[:200])
                self._failing = True
                self._restore(batch)
                return False
            except asyncio.CancelledError:
                self._restore(batch)  # stop() cancelled a periodic flush: its final flush sends these
                raise
            if self._failing:
                log.info("statistics are reaching Redis again")
                self._failing = False
            return True

    def _restore(self, batch: dict[str, _Counts]) -> None:
        for server_id, counts in batch.items():
            mine = self._pending.get(server_id)
            if mine is None:
                if len(self._pending) >= MAX_SERVERS:
                    self.dropped += counts.calls
                    continue
                mine = self._pending[server_id] = _Counts()
            mine.merge(counts)
