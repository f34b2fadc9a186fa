"""A consumer's own upstream credential for a hosted server:
`/v1/mcp-servers/{mcpServerId}/consumers/{consumerId}/upstream-credential` (PUT, GET, DELETE).

Readers see it masked (`resources.hosted.credentials.view`); only hosting gets the secret, over NATS.
"""

from __future__ import annotations

from aiohttp import web

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw_registry.http import context
from mcpgw_registry.http.context import Registry
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.resources.hosted.credentials import FIELD, CredentialBody, check, view
from mcpgw_registry.resources.servers.kinds import describe
from mcpgw_registry.resources.validation import decode_json

PATH = "/v1/mcp-servers/{server_id}/consumers/{consumer_id}/upstream-credential"

routes = web.RouteTableDef()


async def _ids(request: web.Request) -> tuple[Registry, str, str]:
    """The server (which must be hosted) and the consumer the path names; 404 for either unknown."""
    registry = context.registry(request)
    server, _ = await registry.servers.get(request.match_info["server_id"])
    consumer, _ = await registry.consumers.get(request.match_info["consumer_id"])
    if server.kind != "hosted":
        raise McpgwError(ErrorCode.INVALID_PARAMETER,
                         f"mcpServerId: MCP server {server.name!r} is {describe(server.kind, server.protocol)}; "
                         "upstream credentials are for hosted servers (protocol SSE or StreamableHTTP)")
    return registry, server.id, consumer.id


def _none(server_id: str, consumer_id: str) -> McpgwError:
    return McpgwError(ErrorCode.NOT_FOUND, f"{FIELD}: consumer {consumer_id} has no upstream credential for "
                                           f"MCP server {server_id}")


@routes.put(PATH)
async def put_credential(request: web.Request) -> web.Response:
    registry, server_id, consumer_id = await _ids(request)
    credential = check(decode_json(await request.read(), CredentialBody))
    await registry.hooks.credentials.put(server_id, consumer_id, credential, context.now_ms())
    # The server is written again: hosting caches upstream configs by its revision.
    await registry.hooks.refresh(server_id)
    # A consumer deleted meanwhile has had its credentials swept already; this one goes the same way.
    if await registry.consumers.find(consumer_id) is None:
        await registry.hooks.consumer_deleted(consumer_id)
        raise McpgwError(ErrorCode.NOT_FOUND, f"consumerId: no consumer {consumer_id!r}")
    return ok(request, {"mcpServerId": server_id, "consumerId": consumer_id, FIELD: view(credential)})


@routes.get(PATH)
async def get_credential(request: web.Request) -> web.Response:
    registry, server_id, consumer_id = await _ids(request)
    credential = await registry.hooks.credentials.get(server_id, consumer_id)
    if credential is None:
        raise _none(server_id, consumer_id)
    return ok(request, {"mcpServerId": server_id, "consumerId": consumer_id, FIELD: view(credential)})


@routes.delete(PATH)
async def delete_credential(request: web.Request) -> web.Response:
    registry, server_id, consumer_id = await _ids(request)
    if not await registry.hooks.credentials.delete(server_id, consumer_id):
        raise _none(server_id, consumer_id)
    await registry.hooks.refresh(server_id)
    return ok(request)
