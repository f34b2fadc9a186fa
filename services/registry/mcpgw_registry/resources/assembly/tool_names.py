"""The tool names of a server an assembly draws from, looked up at most once per request.

A REST-converted server's tools are the registry's own data. A hosted server's live upstream, so
hosting is asked (`UpstreamTools`), briefly: when it does not answer (no worker, upstream down,
too slow) the names are unknown and callers accept or report "unchecked" rather than fail.
"""

from __future__ import annotations

import logging

from mcpgw import assembly_names
from mcpgw.contracts.errors import McpgwError
from mcpgw.contracts.hosting import UpstreamTools, UpstreamToolsReply
from mcpgw.runtime.bus import Bus
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.stores.servers import ServerRepository

log = logging.getLogger(__name__)

# Writes wait this long for hosting; reads (a list of many assemblies) less.
CHECK_TIMEOUT = 3.0
REPORT_TIMEOUT = 1.0


class ToolNames:
    def __init__(self, servers: ServerRepository, bus: Bus, timeout: float) -> None:
        self._servers = servers
        self._bus = bus
        self._timeout = timeout
        self._known: dict[tuple[str, int], set[str] | None] = {}

    async def of(self, record: ServerRecord, revision: int) -> set[str] | None:
        """The server's tool names; None when they cannot be known now."""
        key = (record.id, revision)
        if key not in self._known:
            self._known[key] = await self._lookup(record, revision)
        return self._known[key]

    async def exposed(self, record: ServerRecord, revision: int) -> list[str] | None:
        """The names a server offers its clients, in order; an assembly's from its sources (None when
        one of them cannot be known now)."""
        if record.kind != "assembly":
            known = await self.of(record, revision)
            return sorted(known) if known is not None else None
        picked: list[list[tuple[str, str]]] = []
        for source in record.assembled_sources:
            found = await self._servers.find(source.mcp_server_id)
            if found is None or found[0].kind == "assembly":
                continue  # gone: the assembly's status reports it
            names = await self.of(*found)
            if names is None:
                return None
            picked.append(list(assembly_names.exposed(sorted(names), source.tools, source.tool_aliases)))
        return assembly_names.merged(picked)

    async def _lookup(self, record: ServerRecord, revision: int) -> set[str] | None:
        if record.kind == "hosted":
            try:
                reply = await self._bus.request(self._bus.subjects.hosting_tools, UpstreamTools(server_id=record.id),
                                                UpstreamToolsReply, timeout=self._timeout)
            except McpgwError as exc:
                log.info("tools of hosted server %s unknown: %s", record.id, exc.message)
                return None
            return set(reply.names)
        if record.kind == "assembly":
            return None
        if not record.tools_text:
            return set()
        snapshot = await self._servers.snapshot(record, revision)
        return {t.name for t in snapshot.listing}
