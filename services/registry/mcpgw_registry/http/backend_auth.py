"""`GET|PUT /v1/mcp-servers/{id}/backend-auth`: how a REST-converted server's tools authenticate to
its backend (see `resources.tools.backend_auth`); credentials are write-only."""

from __future__ import annotations

import msgspec
from aiohttp import web

from mcpgw.contracts.errors import invalid
from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.importing.yaml_emit import dump
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.tools import backend_auth
from mcpgw_registry.resources.tools.document import ToolsFormat, minimal_document, parse_tools
from mcpgw_registry.resources.validation import decode_json
from mcpgw_registry.stores import server_edits

routes = web.RouteTableDef()


def _rest_only(record: ServerRecord) -> None:
    if record.kind != "rest":
        raise invalid("mcpServerId", "backend authentication belongs to REST-converted servers; a hosted "
                                     "server presents upstreamCredential, an assembly its sources' own")


@routes.get("/v1/mcp-servers/{server_id}/backend-auth")
async def get_backend_auth(request: web.Request) -> web.Response:
    # What the operator edits: the draft when there is one (like GET of the server and its tools).
    servers = context.registry(request).servers
    editing = await servers.editing(request.match_info["server_id"])
    _rest_only(editing.record)
    doc = await servers.tools_document(editing.record)
    return ok(request, {"mcpServerId": editing.record.id, "revision": editing.revision, **backend_auth.view(doc)})


@routes.put("/v1/mcp-servers/{server_id}/backend-auth")
async def put_backend_auth(request: web.Request) -> web.Response:
    servers = context.registry(request).servers
    server_id = request.match_info["server_id"]
    publish = context.deploy_param(request)
    record = (await servers.editing(server_id)).record
    _rest_only(record)
    body = decode_json(await request.read(), backend_auth.BackendAuthBody)
    doc = await servers.tools_document(record) or parse_tools(minimal_document(record.name))
    plain = msgspec.to_builtins(backend_auth.apply(doc, body))
    fmt: ToolsFormat = "json" if record.tools_format == "json" else "yaml"
    text = msgspec.json.encode(plain).decode() if fmt == "json" else dump(plain)
    updated, revision, _, _ = await server_edits.put_tools(servers, server_id, text, fmt, context.now_ms(),
                                                           publish=publish)
    stored = await servers.tools_document(updated)
    return ok(request, {"mcpServerId": server_id, "revision": revision, "published": publish,
                        **backend_auth.view(stored)})
