"""The OpenAPI 3.1 document of the admin API, built from `operations` and served at `GET /v1/openapi.json`.

Request bodies are the msgspec Structs the handlers decode into, turned into JSON Schema by
`msgspec.json.schema_components` (the same types that reject a bad body describe a good one);
the answers the handlers build as dicts come from `views`. The document is built once per
process: it depends on the code only, never on what the registry stores.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from typing import Any

import msgspec
from aiohttp import web

from mcpgw.contracts.errors import ErrorCode
from mcpgw_registry.http.admin_auth import CHALLENGE, OPEN_PATHS, SPEC_PATH
from mcpgw_registry.http.apispec import views as v
from mcpgw_registry.http.apispec.operations import OPERATIONS, Operation, Param
from mcpgw_registry.http.envelope import METHOD_NOT_ALLOWED

REF = "#/components/schemas/"
SECURITY_SCHEME = "adminToken"
# aiohttp's path parameter -> the API's name for it (the reference's spelling) and what it is.
PATH_PARAMETERS: dict[str, tuple[str, str]] = {
    "server_id": ("mcpServerId", "an MCP server's id (mcp-...)"),
    "consumer_id": ("consumerId", "a consumer's id (cs-...)"),
    "rule_id": ("consumerAuthorizationRuleId", "an authorization rule's id (car-...)"),
    "service_id": ("serviceId", "a service's id (svc-...)"),
    "domain_id": ("domainId", "a domain's id (d-...)"),
    "name": ("toolName", "a tool's name"),
    "n": ("revision", "a published revision's number (1, 2, ...)"),
}
# msgspec names a schema after its Struct, module-qualified when two Structs share a class name;
# generated clients read better with these.
RENAMED_STRUCTS = {
    "mcpgw_registry.resources.hosted.credentials.CredentialBody": "UpstreamCredential",
    "mcpgw_registry.resources.consumers.model.CredentialBody": "ApikeyCredential",
}
# Views worth a name of their own in generated clients.
NAMED_VIEWS: dict[str, dict[str, Any]] = {
    "McpServer": v.SERVER,
    "McpServerItem": v.SERVER_ITEM,
    "AssembledSourceStatus": v.ASSEMBLED_SOURCE_STATUS,
    "UpstreamCredentialView": v.UPSTREAM_CREDENTIAL_VIEW,
    "ImportReport": v.IMPORT_REPORT,
    "ImportState": v.IMPORT_STATE,
    "Consumer": v.CONSUMER,
    "ConsumerItem": v.CONSUMER_ITEM,
    "ApikeyIdentityView": v.APIKEY_CONFIG,
    "AuthorizationRule": v.RULE,
    "Service": v.SERVICE,
}
# Error answers: status -> (component name, when, the envelope codes it carries).
ERRORS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "400": ("BadRequest", "A parameter or the body is invalid; the message starts with the field's path.",
            (ErrorCode.INVALID_PARAMETER,)),
    "401": ("Unauthorized", "The admin token is missing or wrong.", (ErrorCode.UNAUTHORIZED,)),
    "404": ("NotFound", "A resource the path or the body names does not exist.", (ErrorCode.NOT_FOUND,)),
    "409": ("Conflict", "Another request changed the resource first, a name is taken, or the resource is in use.",
            (ErrorCode.CONFLICT,)),
    "413": ("PayloadTooLarge", "The body is larger than the registry's MAX_BODY_BYTES.",
            (ErrorCode.PAYLOAD_TOO_LARGE,)),
    "415": ("UnsupportedMediaType", "The body's Content-Type is not one the operation reads.",
            (ErrorCode.UNSUPPORTED_MEDIA_TYPE,)),
    "5XX": ("ServerError", "NATS or JetStream is unavailable or slow (503, 504), or an unexpected error, which "
                           "the registry logs with the request id (500).",
            (ErrorCode.NO_RESPONDERS, ErrorCode.TIMEOUT, ErrorCode.INTERNAL)),
}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PARAMETER = re.compile(r"\{([^}]+)\}")


def _walk(node: Any, on_struct: Any) -> Any:
    """`node` with every Struct type replaced by `on_struct(type)`."""
    if isinstance(node, type):
        return on_struct(node)
    if isinstance(node, dict):
        return {key: _walk(value, on_struct) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_walk(item, on_struct) for item in node]
    return node


def _schemas_of(op: Operation) -> list[Any]:
    return [*(op.body or {}).values(), op.data, *(op.raw or {}).values(), *(p.schema for p in op.query)]


class _Components:
    """Struct and view schemas, each once under `components/schemas`, referred to by `$ref`."""

    def __init__(self) -> None:
        found: dict[type, None] = {}

        def collect(struct: type) -> None:
            found.setdefault(struct)

        for op in OPERATIONS:
            _walk(_schemas_of(op), collect)
        _walk(list(NAMED_VIEWS.values()), collect)
        structs = list(found)
        refs, schemas = msgspec.json.schema_components(structs, ref_template=REF + "{name}")
        rename = {REF + old: REF + new for old, new in RENAMED_STRUCTS.items()}

        def renamed(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: (rename.get(x, x) if k == "$ref" else renamed(x)) for k, x in node.items()}
            if isinstance(node, list):
                return [renamed(x) for x in node]
            return node

        self.schemas: dict[str, Any] = {RENAMED_STRUCTS.get(name, name): renamed(schema)
                                        for name, schema in schemas.items()}
        self._struct_refs = {struct: renamed(ref) for struct, ref in zip(structs, refs, strict=True)}
        self._views = {id(schema): name for name, schema in NAMED_VIEWS.items()}
        for name, schema in NAMED_VIEWS.items():
            self.schemas[name] = self.resolve(schema, top=True)
        self.schemas["ErrorEnvelope"] = {
            "type": "object",
            "properties": {"requestId": {"type": "string", "format": "uuid"},
                           "code": {"enum": sorted([*ErrorCode, METHOD_NOT_ALLOWED])},
                           "message": {"type": "string", "description": "starts with the offending field's path"}},
            "required": ["requestId", "code", "message"],
        }

    def resolve(self, node: Any, *, top: bool = False) -> Any:
        """`node` with Structs and named views replaced by references to their components."""
        if isinstance(node, type):
            return self._struct_refs[node]
        if isinstance(node, dict):
            if not top and id(node) in self._views:
                return {"$ref": REF + self._views[id(node)]}
            return {key: self.resolve(value) for key, value in node.items()}
        if isinstance(node, list | tuple):
            return [self.resolve(item) for item in node]
        return node


def _error_response(status: str, name: str, when: str, codes: tuple[str, ...]) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    if status == "401":
        headers["WWW-Authenticate"] = {"schema": {"const": CHALLENGE["WWW-Authenticate"]}, "required": True}
    schema = {"allOf": [{"$ref": REF + "ErrorEnvelope"},
                        {"properties": {"code": {"enum": [str(code) for code in codes]}}}]}
    return {"description": f"{name}: {when}", "headers": headers,
            "content": {"application/json": {"schema": schema}}}


def _success(op: Operation, components: _Components) -> dict[str, Any]:
    headers = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    if op.raw is not None:
        content = {media: {"schema": components.resolve(schema)} for media, schema in op.raw.items()}
        return {"description": op.summary, "headers": headers, "content": content}
    properties: dict[str, Any] = {"requestId": {"type": "string", "format": "uuid"}, "code": {"const": "Ok"},
                                  "message": {"const": "success"}}
    required = ["requestId", "code", "message"]
    if op.data is not None:
        properties["data"] = components.resolve(op.data)
        required.append("data")
    schema = {"type": "object", "properties": properties, "required": required}
    return {"description": op.summary, "headers": headers, "content": {"application/json": {"schema": schema}}}


def _query(param: Param, components: _Components) -> dict[str, Any]:
    # explode=false: a list is one comma-separated value, and nothing is ever spread over several names.
    out: dict[str, Any] = {"name": param.name, "in": "query", "required": param.required, "style": "form",
                           "explode": False, "schema": components.resolve(param.schema)}
    if param.description:
        out["description"] = param.description
    if param.empty:
        out["allowEmptyValue"] = True
    return out


def _statuses(op: Operation, path_parameters: list[str]) -> list[str]:
    implied = {
        "400": bool(op.query or op.body),
        "401": op.path not in OPEN_PATHS,
        "404": bool(path_parameters),
        "409": op.method in WRITES,
        "413": op.body is not None,
    }
    wanted = {status for status, applies in implied.items() if applies} | {str(s) for s in op.errors}
    return [status for status in ERRORS if status in wanted or status == "5XX"]


def api_path(path: str) -> str:
    """aiohttp's path template with the API's parameter names."""
    return _PARAMETER.sub(lambda m: "{" + PATH_PARAMETERS[m.group(1)][0] + "}", path)


def _operation(op: Operation, components: _Components) -> dict[str, Any]:
    names = _PARAMETER.findall(op.path)
    parameters = [{"name": PATH_PARAMETERS[name][0], "in": "path", "required": True,
                   "description": PATH_PARAMETERS[name][1], "schema": {"type": "string", "minLength": 1}}
                  for name in names]
    parameters += [_query(param, components) for param in op.query]
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {media: {"schema": components.resolve(schema)}
                                                            for media, schema in op.body.items()}}
    responses = {"200": _success(op, components)}
    responses.update({status: {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
                      for status in _statuses(op, names)})
    out["responses"] = responses
    if op.path in OPEN_PATHS:
        out["security"] = []
    return out


def _version() -> str:
    try:
        return importlib.metadata.version("mcpgw")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0.0.0"


def build() -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(api_path(op.path), {})[op.method.lower()] = _operation(op, components)
    tags = list(dict.fromkeys(op.tag for op in OPERATIONS))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mcpgw admin API",
            "version": _version(),
            "description": "The registry's management API. Every answer but this document and the tools "
                           "documents is the envelope {requestId, code, message, data?}; an error's message "
                           "starts with the offending field. HEAD is answered wherever GET is.",
        },
        "tags": [{"name": tag} for tag in tags],
        "security": [{SECURITY_SCHEME: []}],
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "responses": {name: _error_response(status, name, when, codes)
                          for status, (name, when, codes) in ERRORS.items()},
            "headers": {"X-Request-Id": {"description": "the request's id, also in the envelope and the logs",
                                         "required": True, "schema": {"type": "string", "format": "uuid"}}},
            "securitySchemes": {SECURITY_SCHEME: {
                "type": "http", "scheme": "bearer",
                "description": "MCPGW_ADMIN_TOKEN (registry setting ADMIN_TOKEN). A registry without a token "
                               "listens on loopback only and accepts every local caller."}},
        },
    }


@functools.cache
def encoded() -> bytes:
    return msgspec.json.encode(build())


routes = web.RouteTableDef()


@routes.get(SPEC_PATH)
async def openapi_document(request: web.Request) -> web.Response:
    return web.Response(body=encoded(), content_type="application/json")
