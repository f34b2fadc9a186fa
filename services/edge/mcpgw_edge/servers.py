"""The edge's cache of servers (`EdgeServer`: listings and flags, never tool specs or credentials),
by name, dropped by `ConfigChanged` events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from mcpgw.contracts import ConfigChanged, EdgeServer, EdgeServerLookup, EdgeServerLookupReply
from mcpgw.runtime.bus import Bus
from mcpgw_edge.routing import Gray, Route, gray_of, route_of

if TYPE_CHECKING:
    from mcpgw_edge.mcp.param_headers import ParamHeader
    from mcpgw_edge.telemetry import ToolSeries

# How long "no such server" is remembered; a create event clears it sooner.
NEGATIVE_TTL = 2.0


class ServerEntry:
    """A server's view plus what the edge derives from it once: the tool index and listing bytes."""

    __slots__ = ("_pages", "call_subject", "gray", "kind", "listing", "param_headers", "passthrough", "route",
                 "series", "snapshot", "tools")

    def __init__(self, snapshot: EdgeServer, call_subject: str) -> None:
        self.snapshot = snapshot
        self.kind = snapshot.kind
        self.call_subject = call_subject
        self.tools = {t.name: t for t in snapshot.listing}
        # Per tool, its metrics series (`telemetry.EdgeMetrics.tool`): found once per revision.
        self.series: dict[str, ToolSeries] = {}
        self.listing = snapshot.listing
        self._pages: dict[tuple[int, int, frozenset[str] | None], bytes] = {}
        # Tool name -> its `x-mcp-header` parameters (tools that have any), built on first use
        # (`mcp/param_headers.py`).
        self.param_headers: dict[str, tuple[ParamHeader, ...]] | None = None
        # Only a server whose YAML asks for it ever gets the client's own credential forwarded.
        self.passthrough = snapshot.passthrough
        # Its hosts and match, compiled (None: it answers every request).
        self.route: Route | None = route_of(snapshot)
        # Its gray configs' matches, compiled (None: every call goes to the main backend).
        self.gray: Gray | None = gray_of(snapshot)

    def tools_page(self, offset: int, size: int, allowed: frozenset[str] | None) -> bytes:
        """`tools/list` result bytes for one page (cached per page and per allowed-tool set)."""
        key = (offset, size, allowed)
        page = self._pages.get(key)
        if page is None:
            visible = [t for t in self.listing if allowed is None or t.name in allowed]
            chunk = visible[offset:offset + size]
            body = b'{"tools":[' + b",".join(bytes(t.entry) for t in chunk) + b"]"
            if offset + size < len(visible):
                body += b',"nextCursor":' + msgspec.json.encode(str(offset + size))
            page = body + b"}"
            if len(self._pages) < 256:
                self._pages[key] = page
        return page


class ServerCache:
    def __init__(self, bus: Bus, timeout: float,
                 on_change: Callable[[ServerEntry | None, ConfigChanged], None] | None = None) -> None:
        self._bus = bus
        self._timeout = timeout
        self._by_name: dict[str, ServerEntry] = {}
        # Assemblies find their sources by id.
        self._by_id: dict[str, ServerEntry] = {}
        self._missing: dict[str, float] = {}
        self._inflight: dict[str, asyncio.Future[ServerEntry | None]] = {}
        self._on_change = on_change
        # For /metrics: lookups answered from memory, registry round trips, entries dropped by events.
        self.hits = 0
        self.misses = 0
        self.invalidations = 0

    def cached(self, name: str) -> ServerEntry | None:
        """The entry if it is in memory (the hot path's lookup: no coroutine)."""
        entry = self._by_name.get(name)
        if entry is not None:
            self.hits += 1
        return entry

    async def get(self, name: str) -> ServerEntry | None:
        entry = self._by_name.get(name)
        if entry is not None:
            self.hits += 1
            return entry
        miss = self._missing.get(name)
        if miss is not None and time.monotonic() - miss < NEGATIVE_TTL:
            return None
        pending = self._inflight.get(name)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[ServerEntry | None] = asyncio.get_running_loop().create_future()
        self._inflight[name] = fut
        self.misses += 1
        try:
            reply = await self._bus.request(self._bus.subjects.registry_edge_lookup, EdgeServerLookup(name=name),
                                            EdgeServerLookupReply, timeout=self._timeout)
            entry = self._store(reply.server) if reply.server else None
            if entry is None:
                self._missing[name] = time.monotonic()
            fut.set_result(entry)
            return entry
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters re-raise it, nobody logs "never retrieved"
            raise
        finally:
            del self._inflight[name]

    async def by_id(self, server_id: str) -> ServerEntry | None:
        entry = self._by_id.get(server_id)
        if entry is not None:
            return entry
        reply = await self._bus.request(self._bus.subjects.registry_edge_lookup,
                                        EdgeServerLookup(server_id=server_id), EdgeServerLookupReply,
                                        timeout=self._timeout)
        return self._store(reply.server) if reply.server else None

    def _store(self, snapshot: EdgeServer) -> ServerEntry:
        current = self._by_name.get(snapshot.name)
        if current is not None and current.snapshot.revision >= snapshot.revision:
            return current
        entry = ServerEntry(snapshot, self._bus.subjects.toolexec_call(snapshot.server_id))
        self._by_name[snapshot.name] = entry
        self._by_id[snapshot.server_id] = entry
        self._missing.pop(snapshot.name, None)
        return entry

    async def on_event(self, event: ConfigChanged) -> None:
        if event.entity != "server":
            return
        dropped = None
        self._by_id.pop(event.id, None)
        for name, entry in list(self._by_name.items()):
            if entry.snapshot.server_id == event.id or name == event.name:
                dropped = self._by_name.pop(name)
                self._by_id.pop(dropped.snapshot.server_id, None)
                self.invalidations += 1
        if event.name:
            self._missing.pop(event.name, None)
        else:
            self._missing.clear()
        if self._on_change is not None:
            self._on_change(dropped, event)
