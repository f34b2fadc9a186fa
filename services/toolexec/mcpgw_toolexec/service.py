"""The toolexec worker: answers `toolexec.call.<server_id>` in a queue group shared by all replicas."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import msgspec
import redis.asyncio as aioredis
from opentelemetry import trace
from prometheus_client.core import Metric

from mcpgw.contracts import RedisKeys, Subjects, ToolCallReply, ToolCallRequest
from mcpgw.contracts.errors import McpgwError
from mcpgw.runtime import tracing
from mcpgw.runtime.bus import Bus
from mcpgw.runtime.metrics import Timings, cache_families
from mcpgw.runtime.redis import connect_redis
from mcpgw.runtime.stats import Stats
from mcpgw_toolexec.backend import BackendClient
from mcpgw_toolexec.cache import SnapshotCache
from mcpgw_toolexec.compiled import BrokenTool, CompiledServer, CompiledTool
from mcpgw_toolexec.executor import execute
from mcpgw_toolexec.response import CallToolResult
from mcpgw_toolexec.settings import ToolexecSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mcpgw.toolexec")


class ToolexecService:
    def __init__(self, settings: ToolexecSettings) -> None:
        self.settings = settings
        self._bus: Bus | None = None
        self._redis: aioredis.Redis | None = None
        self._backend = BackendClient(settings)
        self._cache: SnapshotCache | None = None
        self._stats: Stats | None = None
        self.calls_served = 0
        self.calls = Timings("mcpgw_toolexec_call_duration_seconds",
                             "Tool calls toolexec ran, by server, tool and outcome (ok or tool_error)",
                             ("server", "tool", "outcome"))

    @property
    def bus(self) -> Bus:
        assert self._bus is not None, "service not started"
        return self._bus

    @property
    def cache(self) -> SnapshotCache:
        assert self._cache is not None, "service not started"
        return self._cache

    @property
    def stats(self) -> Stats:
        assert self._stats is not None, "service not started"
        return self._stats

    async def start(self) -> None:
        s = self.settings
        self._bus = await Bus.connect(s.nats_url, name="mcpgw-toolexec", root=s.subject_root,
                                      timeout=s.request_timeout)
        # Redis is only for statistics: it is not contacted here, and its absence never fails a call.
        self._redis = connect_redis(s.redis_url, s.request_timeout)
        self._stats = Stats(self._redis, RedisKeys(s.subject_root), s.stats_flush_interval, s.stats_window)
        await self._backend.start()
        self._cache = SnapshotCache(self._bus)
        # Events first: an invalidation must not slip between the first lookup and the subscription.
        await self._cache.start()
        self._stats.start()
        await self._bus.serve(self._bus.subjects.toolexec_call_all, ToolCallRequest, self._call,
                              queue=Subjects.TOOLEXEC_QUEUE, max_inflight=s.max_inflight,
                              span_name="toolexec.call")
        log.info("toolexec serving %s", self._bus.subjects.toolexec_call_all)

    async def stop(self) -> None:
        if self._bus is not None:
            # Drains: stops taking calls and lets those in flight finish before anything below closes.
            await self._bus.close()
        if self._cache is not None:
            await self._cache.stop()
        if self._stats is not None:
            await self._stats.stop()
        await self._backend.close()
        if self._redis is not None:
            await self._redis.aclose()

    async def _call(self, req: ToolCallRequest) -> ToolCallReply:
        server = await self.cache.get(req.server_id, req.revision)
        started = time.perf_counter()
        try:
            tool = server.tool(req.tool)
            if tracing.enabled():
                result = await self._traced(server, tool, req)
            else:
                result = await execute(server, tool, req.arguments, self._backend, self.settings.error_excerpt_bytes,
                                       forward_headers=req.forward_headers, client_credential=req.client_credential,
                                       backend_index=req.backend)
        except McpgwError:
            # Answered as a JSON-RPC error, not a result: a protocol error in the statistics.
            if server.statistics:
                self.stats.record(server.server_id, req.tool, req.consumer_id, "protocol_error",
                                  (time.perf_counter() - started) * 1000, len(req.arguments))
            raise
        elapsed = time.perf_counter() - started
        self.calls_served += 1
        # The (ok, tool_error) series of this tool, kept with the server's snapshot: a dict hit a call.
        pair = server.series.get(tool.name)
        if pair is None:
            pair = server.series[tool.name] = (self.calls.series(server.name, tool.name, "ok"),
                                               self.calls.series(server.name, tool.name, "tool_error"))
        pair[result.isError].observe(elapsed)
        body = result.encode()
        if server.statistics:
            self.stats.record(server.server_id, tool.name, req.consumer_id,
                              "tool_error" if result.isError else "ok", elapsed * 1000,
                              len(req.arguments), len(body))
        return ToolCallReply(result=msgspec.Raw(body), is_error=result.isError)

    async def _traced(self, server: CompiledServer, tool: CompiledTool | BrokenTool,
                      req: ToolCallRequest) -> CallToolResult:
        """The call inside a GenAI `execute_tool` span (the backend's CLIENT span is its child)."""
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": req.tool,
                      "mcpgw.server.name": server.name}
        with tracer.start_as_current_span(f"execute_tool {req.tool}", attributes=attributes) as span:
            result = await execute(server, tool, req.arguments, self._backend,
                                   self.settings.error_excerpt_bytes, forward_headers=req.forward_headers,
                                   client_credential=req.client_credential, backend_index=req.backend)
            if result.isError:
                tracing.failed(span, "tool_error")
            return result

    def metrics(self) -> Iterator[Metric]:
        yield from self.bus.metrics()
        yield self.calls.family()
        yield self._backend.timings.family()
        cache = self.cache
        yield from cache_families([("toolexec.servers", cache.hits, cache.lookups, cache.invalidations)])
