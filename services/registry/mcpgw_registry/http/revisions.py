"""A server's published revisions: list, read one (with a diff against the one before), roll back.

Every publish keeps a revision (see stores.revisions); a rollback publishes an earlier one again as
a new revision, and the change event it sends reaches open sessions as
`notifications/tools/list_changed`.
"""

from __future__ import annotations

import difflib
from typing import Any

from aiohttp import web

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.resources.servers import secret_refs
from mcpgw_registry.resources.servers.view import to_resource
from mcpgw_registry.stores.revisions import Revision, RevisionEntry
from mcpgw_registry.stores.rollback import rollback
from mcpgw_registry.stores.servers import ServerRepository

routes = web.RouteTableDef()

# View fields that differ between any two revisions, or are shown as the tools diff instead.
_NOT_COMPARED = frozenset({"mcpServerConfig", "updateTimestamp", "revision", "deployStatus"})


def _entry(entry: RevisionEntry) -> dict[str, Any]:
    view: dict[str, Any] = {"revision": entry.n, "createTimestamp": entry.created_ms}
    if entry.rollback_of is not None:
        view["rollbackOf"] = entry.rollback_of
    return view


def _number(request: web.Request) -> int:
    raw = request.match_info["n"]
    if not raw.isdigit() or len(raw) > 9:
        raise McpgwError(ErrorCode.INVALID_PARAMETER, f"revision: {raw!r} is not a revision number")
    return int(raw)


async def _view(servers: ServerRepository, kept: Revision) -> tuple[dict[str, Any], str]:
    # Credentials masked as on any read of the server (a revision holds only `******` and references;
    # one kept before that holds them inline, masked here).
    text = await servers.readable_tools_text(kept.record)
    return to_resource(kept.record, 0, text), text


async def _diff(servers: ServerRepository, kept: Revision, previous: Revision | None) -> dict[str, Any]:
    view, text = await _view(servers, kept)
    if previous is None:
        return {"against": None, "fields": {}, "tools": "", "secrets": []}
    before, before_text = await _view(servers, previous)
    fields = {name: {"from": before.get(name), "to": view.get(name)}
              for name in sorted(set(view) | set(before))
              if name not in _NOT_COMPARED and before.get(name) != view.get(name)}
    tools = "".join(difflib.unified_diff(before_text.splitlines(keepends=True), text.splitlines(keepends=True),
                                         f"revision {previous.entry.n}", f"revision {kept.entry.n}"))
    # Both texts show `******` for secrets: which ones changed comes from their references.
    return {"against": previous.entry.n, "fields": fields, "tools": tools,
            "secrets": secret_refs.changed(previous.secrets, kept.secrets)}


@routes.get("/v1/mcp-servers/{server_id}/revisions")
async def list_revisions(request: web.Request) -> web.Response:
    servers = context.registry(request).servers
    record, _ = await servers.get(request.match_info["server_id"])
    entries = await servers.revisions.list(record.id)
    status = "DeployFailed" if await servers.drafts.failure(record.id) is not None else record.deploy_status
    return ok(request, {"mcpServerId": record.id, "deployStatus": status,
                        "items": [_entry(e) for e in entries]})


@routes.get("/v1/mcp-servers/{server_id}/revisions/{n}")
async def get_revision(request: web.Request) -> web.Response:
    servers = context.registry(request).servers
    record, _ = await servers.get(request.match_info["server_id"])
    n = _number(request)
    kept = await servers.revisions.get(record.id, n)
    if kept is None:
        raise McpgwError(ErrorCode.NOT_FOUND, f"revision: MCP server {record.name!r} keeps no revision {n}")
    older = [e.n for e in await servers.revisions.list(record.id) if e.n < n]
    previous = await servers.revisions.get(record.id, older[0]) if older else None
    view, _ = await _view(servers, kept)
    view.pop("revision", None)
    return ok(request, {**_entry(kept.entry), "mcpServer": view, "diff": await _diff(servers, kept, previous)})


@routes.post("/v1/mcp-servers/{server_id}/revisions/{n}:rollback")
async def rollback_to(request: web.Request) -> web.Response:
    servers = context.registry(request).servers
    server_id = request.match_info["server_id"]
    await servers.get(server_id)  # 404 for the server before complaining about the number
    record, revision, published = await rollback(servers, server_id, _number(request), context.now_ms())
    return ok(request, {"mcpServerId": record.id, "revision": revision, "published": published})
