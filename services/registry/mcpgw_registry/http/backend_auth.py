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
from mcpgw_registry.resources.tools.document import minimal_document, parse_tools
from mcpgw_registry.resources.validation import decode_json

routes = web.RouteTableDef()


def _rest_only(record: ServerRecord) -> None:
    if record.kind != "rest":
        raise invalid("mcpServerId", "backend authentication belongs to REST-converted servers; a hosted "
                                     "server presents upstreamCredential, an assembly its sources' own")


@routes.get("/v1/mcp-servers/{server_id}/backend-auth")
async def get_backend_auth(request: web.Request) -> web.Response:
    servers = context.registry(request).servers
    record, revision = await servers.get(request.match_info["server_id"])
    _rest_only(record)
    doc = await servers.tools_document(record)
    return ok(request, {"mcpServerId": record.id, "revision": revision, **backend_auth.view(doc)})


@routes.put("/v1/mcp-servers/{server_id}/backend-auth")
async def put_backend_auth(request: web.Request) -> web.Response:
    servers = context.registry(request).servers
    server_id = request.match_info["server_id"]
    record, _ = await servers.get(server_id)
    _rest_only(record)
    body = decode_json(await request.read(), backend_auth.BackendAuthBody)
    doc = await servers.tools_document(record) or parse_tools(minimal_document(record.name))
    changed = backend_auth.apply(doc, body)
    plain = msgspec.to_builtins(changed)
    if record.tools_format == "json":
        text, fmt = msgspec.json.encode(plain).decode(), record.tools_format
    else:
        text, fmt = dump(plain), "yaml"
    updated, revision, _, _ = await servers.put_tools(server_id, text, fmt, context.now_ms())
    stored = await servers.tools_document(updated)
    return ok(request, {"mcpServerId": server_id, "revision": revision, **backend_auth.view(stored)})
