"""Admin API routes of the OpenAPI import workflow.

  POST   /v1/mcp-servers/{id}/tools/import:preview   convert + diff, changes nothing
  POST   /v1/mcp-servers/{id}/tools/import           convert + diff + write (overrides re-applied)
  GET    /v1/mcp-servers/{id}/tools/import           the import's options and the recorded overrides
  DELETE /v1/mcp-servers/{id}/tools/import           detach: tools stay, overrides are dropped
  PATCH  /v1/mcp-servers/{id}/tools/{name}           set or clear one imported tool's overrides
  GET    /v1/mcp-servers/tools/import/example        a commented tools YAML (?kind=openapi: an OpenAPI one)

The import body is the OpenAPI document itself (JSON or YAML, or a multipart upload with a
`file` part); converter options are query parameters (`baseUrl`, `includeDeprecated`, `descriptionLimit`).
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import MAX_BODY, ok
from mcpgw_registry.importing.examples import OPENAPI_YAML, TOOLS_YAML
from mcpgw_registry.importing.operations import ToolOperations
from mcpgw_registry.importing.patching import ToolPatch
from mcpgw_registry.resources.validation import decode_json

SPEC_TYPES = frozenset({
    "application/json",
    "application/yaml",
    "application/x-yaml",
    "application/vnd.oai.openapi",
    "application/vnd.oai.openapi+json",
    "text/yaml",
    "text/x-yaml",
    "text/plain",
})
_CHUNK = 64 * 1024

routes = web.RouteTableDef()


def _ops(request: web.Request) -> ToolOperations:
    return context.registry(request).tool_ops


def _too_large(limit: int) -> McpgwError:
    return McpgwError(ErrorCode.PAYLOAD_TOO_LARGE, f"body: larger than the limit of {limit} bytes")


async def _upload(request: web.Request, limit: int) -> bytes:
    try:
        return await _file_part(request, limit)
    except (ValueError, HttpProcessingError) as exc:
        # aiohttp's multipart parser raises these for a body that is not multipart: no boundary
        # parameter or boundary line (ValueError, saying which), a malformed part header; and
        # _file_part for a body cut inside the file part.
        reason = str(exc)[:200] if isinstance(exc, ValueError) else "a part's headers are malformed"
        raise invalid("body", f"not a valid multipart/form-data body: {reason}") from None


async def _file_part(request: web.Request, limit: int) -> bytes:
    """The `file` part of a multipart upload, read with the same size cap as a plain body."""
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name != "file":
            continue
        data = bytearray()
        while chunk := await part.read_chunk(_CHUNK):
            data += chunk
            if len(data) > limit:
                raise _too_large(limit)
        if not part.at_eof():
            # The body ended before the part's boundary: aiohttp hands over what came, a cut document.
            raise ValueError("it ends inside the `file` part")
        return bytes(data)
    raise invalid("file", "the multipart upload has no `file` part with the OpenAPI document")


async def read_document(request: web.Request) -> bytes:
    """The OpenAPI document of an import request; the converter detects JSON or YAML itself."""
    limit = request.app[MAX_BODY]
    if request.content_type == "multipart/form-data":
        raw = await _upload(request, limit)
    elif request.content_type in SPEC_TYPES:
        raw = await request.read()  # aiohttp enforces client_max_size: 413
    else:
        raise McpgwError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                         f"Content-Type: {request.content_type} is not accepted; send the OpenAPI document as "
                         "application/json, application/yaml (or text/yaml) or as the `file` part of "
                         "multipart/form-data")
    if not raw.strip():
        raise invalid("body", "the OpenAPI document is empty")
    return raw


async def _import(request: web.Request, *, apply: bool) -> web.Response:
    server_id = request.match_info["server_id"]
    await context.registry(request).servers.get(server_id)  # 404 before complaining about the body
    # `deploy=false`: the import is saved as the draft (a preview publishes nothing either way).
    publish = context.deploy_param(request)
    options = {k: v for k, v in request.query.items() if k != "deploy"}
    raw = await read_document(request)
    data = await _ops(request).import_openapi(server_id, raw, options, context.now_ms(), apply=apply,
                                              publish=publish)
    return ok(request, data)


@routes.post("/v1/mcp-servers/{server_id}/tools/import:preview")
async def preview_import(request: web.Request) -> web.Response:
    return await _import(request, apply=False)


@routes.post("/v1/mcp-servers/{server_id}/tools/import")
async def apply_import(request: web.Request) -> web.Response:
    return await _import(request, apply=True)


@routes.get("/v1/mcp-servers/{server_id}/tools/import")
async def get_import(request: web.Request) -> web.Response:
    return ok(request, await _ops(request).import_view(request.match_info["server_id"]))


@routes.delete("/v1/mcp-servers/{server_id}/tools/import")
async def forget_import(request: web.Request) -> web.Response:
    return ok(request, await _ops(request).forget_import(request.match_info["server_id"], context.now_ms()))


@routes.patch("/v1/mcp-servers/{server_id}/tools/{name}")
async def patch_tool(request: web.Request) -> web.Response:
    server_id = request.match_info["server_id"]
    await context.registry(request).servers.get(server_id)
    publish = context.deploy_param(request)
    patch = decode_json(await request.read(), ToolPatch)
    data = await _ops(request).patch_tool(server_id, request.match_info["name"], patch, context.now_ms(),
                                          publish=publish)
    return ok(request, data)


@routes.get("/v1/mcp-servers/tools/import/example")
async def example(request: web.Request) -> web.Response:
    kind = request.query.get("kind", "tools")
    if kind not in ("tools", "openapi"):
        raise invalid("kind", "must be tools (a tools YAML, the default) or openapi (an OpenAPI document)")
    text = TOOLS_YAML if kind == "tools" else OPENAPI_YAML
    return web.Response(body=text.encode(), content_type="application/yaml")
