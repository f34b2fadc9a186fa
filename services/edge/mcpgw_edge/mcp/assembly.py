"""Assembled servers: tools drawn from other servers (REST-converted or hosted) behind one name.

The edge lists each source's tools (a REST source from its snapshot, a hosted one through its
upstream session of this client session), keeps those the assembly picks, renames the aliased
ones, and routes a call to the source that owns the name. The first source wins a name two
sources share (the registry refuses such an assembly unless aliased, but an upstream may add a
tool later). What a session sees is kept for a few seconds, so a `tools/call` right after a
`tools/list` costs no listing.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import msgspec

from mcpgw.assembly_names import exposed
from mcpgw.contracts import AssemblySource, McpgwError
from mcpgw.jsonrpc import Message
from mcpgw_edge.mcp.caller import Caller
from mcpgw_edge.mcp.hosted import HostedRelay, name_of, renamed, result_of
from mcpgw_edge.mcp.sessions import Session
from mcpgw_edge.servers import ServerCache, ServerEntry

log = logging.getLogger(__name__)

MEMBERS_TTL = 5.0
MAX_CACHED = 10_000
MAX_PAGES = 100


@dataclass(slots=True)
class Member:
    """One tool of an assembly: the name it is exposed as, where it comes from, its listing entry."""

    exposed: str
    original: str
    source: ServerEntry
    entry: bytes


class _Page(msgspec.Struct):
    tools: list[msgspec.Raw] = []
    nextCursor: str | None = None


_page = msgspec.json.Decoder(_Page)

# How the edge lists a hosted source for a 2026-07-28 client of the assembly.
LISTING_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "mcpgw", "version": "0.1.0"}}
LISTING_HEADERS = {"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list"}


class _Ignored:
    def event(self, payload: bytes) -> None:
        return None

    def pause(self, retry_ms: int) -> None:
        return None


IGNORED = _Ignored()


class Assemblies:
    def __init__(self, servers: ServerCache, relay: HostedRelay) -> None:
        self._servers = servers
        self._relay = relay
        self._members: OrderedDict[tuple[str, str, int], tuple[float, dict[str, Member]]] = OrderedDict()

    async def source(self, server_id: str) -> ServerEntry | None:
        try:
            return await self._servers.by_id(server_id)
        except McpgwError:
            return None

    async def members(self, session: Session | None, entry: ServerEntry, caller: Caller,
                      fresh: bool = False) -> dict[str, Member]:
        """The assembly's tools as this session sees them (`None`: a 2026-07-28 client, which has
        none; its hosted sources are listed in that revision), by exposed name, in listing order."""
        key = (session.id if session is not None else "modern:" + caller.consumer_id, entry.snapshot.server_id,
               entry.snapshot.revision)
        cached = self._members.get(key)
        if cached is not None and not fresh and cached[0] > time.monotonic():
            return cached[1]
        members: dict[str, Member] = {}
        for source in entry.snapshot.sources:
            for member in await self._source_members(session, source, caller):
                if member.exposed in members:
                    log.warning("assembly %s: tool %s of %s hidden by an earlier source with that name",
                                entry.snapshot.name, member.original, member.source.snapshot.name)
                    continue
                members[member.exposed] = member
        self._members[key] = (time.monotonic() + MEMBERS_TTL, members)
        self._members.move_to_end(key)
        while len(self._members) > MAX_CACHED:
            self._members.popitem(last=False)
        return members

    async def _source_members(self, session: Session | None, source: AssemblySource,
                              caller: Caller) -> list[Member]:
        try:
            server = await self._servers.by_id(source.server_id)
        except McpgwError as exc:
            log.warning("assembly source %s unavailable: %s", source.server_id, exc.message)
            return []
        if server is None:
            return []  # deleted: the registry reports it on the assembly
        wanted = set(source.tools)
        listed: list[tuple[str, bytes]] = []
        if server.kind == "rest":
            listed = [(t.name, bytes(t.entry)) for t in server.listing]
        elif server.kind == "hosted":
            listed = await self._hosted_tools(session, server, caller)
        entries = dict(listed)
        return [Member(name, original, server, entries[original] if name == original else
                       renamed(entries[original], name))
                for name, original in exposed(entries, wanted, source.aliases)]

    async def _hosted_tools(self, session: Session | None, server: ServerEntry,
                            caller: Caller) -> list[tuple[str, bytes]]:
        tools: list[tuple[str, bytes]] = []
        cursor: str | None = None
        for page in range(MAX_PAGES):
            fields: dict[str, Any] = {} if cursor is None else {"cursor": cursor}
            if session is None:
                fields["_meta"] = LISTING_META
            params = msgspec.json.encode(fields)
            message = Message(jsonrpc="2.0", id=f"mcpgw~tools-{page}", method="tools/list",
                              params=msgspec.Raw(params))
            if session is None:
                _, answer = await self._relay.modern(server.snapshot.server_id, caller, msgspec.json.encode(message),
                                                     LISTING_HEADERS, IGNORED)
            else:
                answer = await self._relay.request(server.snapshot.server_id, session, caller, message, None)
            result = result_of(answer)
            if result is None:
                log.warning("assembly source %s: tools/list failed: %s", server.snapshot.name, answer[:300])
                break
            try:
                decoded = _page.decode(result)
            except msgspec.DecodeError:
                break
            tools.extend((name_of(raw), bytes(raw)) for raw in decoded.tools)
            cursor = decoded.nextCursor
            if not cursor:
                break
        return tools
