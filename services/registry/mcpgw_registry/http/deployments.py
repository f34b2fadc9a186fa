"""Deploy and undeploy an MCP server: the second step of the console's "Save and Publish".

Create and update publish what they save unless the body says `"deploy": false` (a draft); deploy
publishes the draft, undeploy stops serving the server (the edge answers 404 for it, its config
stays). Both are synchronous, so a server never shows `Deploying`; a deploy that cannot publish is
a 400 naming the field and leaves the server `DeployFailed` with that reason (see stores.publishing).
"""

from __future__ import annotations

from aiohttp import web

from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.stores import publishing

routes = web.RouteTableDef()


async def _set(request: web.Request, deployed: bool) -> web.Response:
    servers = context.registry(request).servers
    server_id, now_ms = request.match_info["server_id"], context.now_ms()
    if deployed:
        record, revision = await publishing.deploy(servers, server_id, now_ms)
    else:
        record, revision = await publishing.undeploy(servers, server_id, now_ms)
    return ok(request, {"mcpServerId": record.id, "deployStatus": record.deploy_status, "revision": revision})


@routes.post("/v1/mcp-servers/{server_id}/deploy")
async def deploy(request: web.Request) -> web.Response:
    return await _set(request, True)


@routes.post("/v1/mcp-servers/{server_id}/undeploy")
async def undeploy(request: web.Request) -> web.Response:
    return await _set(request, False)
