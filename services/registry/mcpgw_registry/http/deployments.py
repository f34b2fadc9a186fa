"""Deploy and undeploy an MCP server: the second step of the console's "Save and Publish".

Create and update publish what they save unless the body says `"deploy": false` (a draft); deploy
publishes a saved server, undeploy stops serving it (the edge answers 404 for it, its config stays).
Both are synchronous: the draft is compiled before it is published, so a server never shows
`Deploying`, and one that does not compile is refused with a 400 naming the field instead of
ending up `DeployFailed`.
"""

from __future__ import annotations

from aiohttp import web

from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok

routes = web.RouteTableDef()


async def _set(request: web.Request, deployed: bool) -> web.Response:
    servers = context.registry(request).servers
    record, revision = await servers.set_deployed(request.match_info["server_id"], deployed, context.now_ms())
    return ok(request, {"mcpServerId": record.id, "deployStatus": record.deploy_status, "revision": revision})


@routes.post("/v1/mcp-servers/{server_id}/deploy")
async def deploy(request: web.Request) -> web.Response:
    return await _set(request, True)


@routes.post("/v1/mcp-servers/{server_id}/undeploy")
async def undeploy(request: web.Request) -> web.Response:
    return await _set(request, False)
