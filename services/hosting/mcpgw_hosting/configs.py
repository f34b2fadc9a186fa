"""Hosted servers' upstream configuration (with credentials) by server and consumer, from the registry.

Cached until a change event for the server arrives; concurrent misses share one lookup.
"""

from __future__ import annotations

import asyncio

from mcpgw.contracts import ConfigChanged, ErrorCode, McpgwError, UpstreamConfig, UpstreamLookup, UpstreamLookupReply
from mcpgw.runtime.bus import Bus

Key = tuple[str, str]


class UpstreamConfigs:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._cache: dict[Key, UpstreamConfig] = {}
        self._fetches: dict[Key, asyncio.Task[UpstreamConfig]] = {}

    async def get(self, server_id: str, consumer_id: str) -> UpstreamConfig:
        key = (server_id, consumer_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        task = self._fetches.get(key)
        if task is None:
            task = self._fetches[key] = asyncio.get_running_loop().create_task(self._fetch(key))
            task.add_done_callback(lambda done: self._fetches.pop(key) if self._fetches.get(key) is done else None)
        return await asyncio.shield(task)

    async def _fetch(self, key: Key) -> UpstreamConfig:
        server_id, consumer_id = key
        reply = await self._bus.request(self._bus.subjects.registry_upstream_lookup,
                                        UpstreamLookup(server_id=server_id, consumer_id=consumer_id),
                                        UpstreamLookupReply)
        if reply.upstream is None:
            raise McpgwError(ErrorCode.NOT_FOUND, f"server {server_id} is not a hosted MCP server")
        if key in self._fetches:  # not invalidated while the lookup was out
            self._cache[key] = reply.upstream
        return reply.upstream

    async def on_event(self, event: ConfigChanged) -> None:
        if event.entity != "server":
            return
        for key in [k for k in self._cache if k[0] == event.id]:
            del self._cache[key]
        for key in [k for k in self._fetches if k[0] == event.id]:
            del self._fetches[key]
