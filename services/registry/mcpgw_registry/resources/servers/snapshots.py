"""Compiled server snapshots for the data plane, cached per server at its KV revision.

A revision never changes content, so a cached snapshot is valid for as long as it is kept. toolexec
gets the whole snapshot; the edge gets `edge_view` of it, without tool specs, config or credentials.
"""

from __future__ import annotations

from collections import OrderedDict

from mcpgw.contracts.hosting import AssemblySource, HostedBackend
from mcpgw.contracts.registry import EdgeServer, RouteMatch, ServerSnapshot, ValueRule
from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry.importing.overrides import enforce_hidden, tool_key
from mcpgw_registry.resources.servers.model import HttpRouteMatch, ServerRecord
from mcpgw_registry.resources.tools.document import effective_tools, listing_entry, parse_tools


def route_match(match: HttpRouteMatch | None) -> RouteMatch | None:
    """The edge's form of a server's `match`; None when it admits every request."""
    if match is None:
        return None
    rule = RouteMatch(
        path=ValueRule(type=match.path.type, value=match.path.value) if match.path is not None else None,
        headers=[ValueRule(name=h.name.lower(), type=h.type, value=h.value) for h in match.headers],
        query_params=[ValueRule(name=q.name, type=q.type, value=q.value) for q in match.query_params],
        # The reference docs spell it OPTION; requests say OPTIONS.
        methods=["OPTIONS" if m == "OPTION" else m for m in match.methods],
        ignore_uri_case=match.ignore_uri_case)
    if rule.path is None and not rule.headers and not rule.query_params and not rule.methods:
        return None
    return rule


def build_snapshot(record: ServerRecord, revision: int, doc: ToolsDocument | None = None) -> ServerSnapshot:
    """The data plane's view of `record`; `doc` is its tools document, parsed here only when inline."""
    snapshot = ServerSnapshot(
        server_id=record.id,
        name=record.name,
        revision=revision,
        description=record.description,
        protocol=record.protocol,
        consumer_auth=record.consumer_auth,
        statistics=record.statistics,
        list_ttl_ms=record.list_ttl_ms,
        kind=record.kind,
        hosts=record.hosts,
        match=route_match(record.match),
        # None keeps the indexes aligned for a record stored before a gray config needed a match.
        gray=[route_match(g.match) for g in record.gray_configs],
    )
    if snapshot.kind == "hosted" and record.protocol in ("SSE", "StreamableHTTP"):
        # Addresses only: the upstream credential travels to hosting alone (UpstreamLookup).
        snapshot.hosted = HostedBackend(transport="SSE" if record.protocol == "SSE" else "StreamableHTTP",
                                        path=record.exposed_uri_path, targets=record.targets,
                                        gray_targets=record.gray_targets)
    elif snapshot.kind == "rest" and record.backend_config is not None:
        snapshot.backends = [record.targets, *record.gray_targets]
    elif snapshot.kind == "assembly":
        snapshot.sources = [AssemblySource(server_id=s.mcp_server_id, name=s.mcp_server_name, tools=s.tools,
                                           aliases=s.tool_aliases) for s in record.assembled_sources]
    if doc is None and record.tools_text:
        if not isinstance(record.tools_text, str):
            raise TypeError("the tools of this record are in the object store; pass their document")
        doc = parse_tools(record.tools_text, record.tools_format, root="mcpServerConfig")
    if doc is not None:
        tools = effective_tools(doc)
        snapshot.server = doc.server
        # Clients are shown the tools as written; toolexec gets hidden arguments pinned to their defaults.
        snapshot.listing = [listing_entry(tool) for tool in tools]
        overrides = record.imported.tools if record.imported is not None else {}
        if overrides:
            tools = [enforce_hidden(t, overrides.get(k)) if (k := tool_key(t)) is not None else t for t in tools]
        snapshot.tools = tools
    return snapshot


def edge_view(snapshot: ServerSnapshot) -> EdgeServer:
    """What the edge serves `snapshot` from: its listing shared (not copied), and the flags it reads.

    Built per lookup, which the edge makes only after a change (it caches the view): a pass over
    the tools for `passthrough`, against encoding the listing that follows.
    """
    block = snapshot.server
    passthrough = block is not None and (
        block.passthrough_auth_header
        or (block.default_downstream_security is not None and block.default_downstream_security.passthrough)
        or any(t.security is not None and t.security.passthrough for t in snapshot.tools)
        or any(t.request_template.security is not None and t.request_template.security.passthrough
               for t in snapshot.tools))
    return EdgeServer(server_id=snapshot.server_id, name=snapshot.name, revision=snapshot.revision,
                      description=snapshot.description, version=block.version if block is not None else "",
                      consumer_auth=snapshot.consumer_auth, authorization_servers=snapshot.authorization_servers,
                      list_ttl_ms=snapshot.list_ttl_ms, listing=snapshot.listing, passthrough=passthrough,
                      statistics=snapshot.statistics,
                      kind=snapshot.kind, sources=snapshot.sources, hosts=snapshot.hosts, match=snapshot.match,
                      gray=snapshot.gray)


class SnapshotCache:
    """The newest compiled revision of each server (a lookup only ever asks for the current one).

    Bounded by count to cap memory: one server of a few hundred imported tools compiles to tens
    of megabytes of objects, so older revisions are dropped as soon as a newer one is cached.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, ServerSnapshot] = OrderedDict()

    def find(self, server_id: str, revision: int) -> ServerSnapshot | None:
        snapshot = self._items.get(server_id)
        if snapshot is None or snapshot.revision != revision:
            return None
        self._items.move_to_end(server_id)
        return snapshot

    def put(self, snapshot: ServerSnapshot) -> None:
        held = self._items.get(snapshot.server_id)
        if held is not None and held.revision > snapshot.revision:
            return  # a slow reader of an older revision must not evict the newer one
        self._items[snapshot.server_id] = snapshot
        self._items.move_to_end(snapshot.server_id)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def drop(self, server_id: str) -> None:
        self._items.pop(server_id, None)
