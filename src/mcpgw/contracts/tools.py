"""The tool model: the Higress REST-to-MCP YAML schema as Structs.

The registry parses an operator's YAML into `ToolsDocument` (so a wrong field is reported with its
path), and ships the parsed tools to the data plane inside `ServerSnapshot`. Field names on the wire
are the YAML's own camelCase names.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

ArgPosition = Literal["path", "query", "header", "cookie", "body"]
ArgType = Literal["string", "number", "integer", "boolean", "array", "object"]


class _Spec(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True, rename="camel"):
    pass


ArgStyle = Literal["form", "spaceDelimited", "pipeDelimited", "deepObject", "simple", "label", "matrix"]


class ToolArg(_Spec):
    name: str
    description: str = ""
    type: ArgType = "string"
    required: bool = False
    default: Any = msgspec.UNSET
    enum: list[Any] | None = None
    items: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    position: ArgPosition | None = None
    # mcpgw extensions (OpenAPI import): the parameter map beside each tool.
    # The name on the wire when it differs from the argument's (`id__query` -> `id`).
    wire_name: str | None = None
    # OpenAPI serialisation of arrays/objects in query, path, header and cookie.
    style: ArgStyle | None = None
    explode: bool | None = None
    # `binary`: a base64 argument sent as a file part of a multipart body (or as the raw body).
    format: str | None = None
    # MCP 2026-07-28 (SEP-2243): clients mirror this argument into the header `Mcp-Param-<name>`.
    x_mcp_header: str = msgspec.field(default="", name="x-mcp-header")


class HeaderTemplate(_Spec):
    key: str
    value: str


class SecurityRef(_Spec):
    """Which `server.securitySchemes` entry a request uses, and optionally its credential."""

    id: str
    credential: str | None = None
    passthrough: bool = False


class RequestTemplate(_Spec):
    url: str = ""
    method: str = "GET"
    headers: list[HeaderTemplate] = []
    body: str | None = None
    args_to_json_body: bool = False
    args_to_url_param: bool = False
    args_to_form_body: bool = False
    security: SecurityRef | None = None
    # mcpgw extension: how `body` arguments are encoded: application/json (and +json),
    # application/x-www-form-urlencoded (nested values in bracket form), multipart/form-data
    # (binary arguments as file parts), text/plain or application/octet-stream (one raw argument).
    body_media_type: str | None = None
    # mcpgw extension: OpenAPI `security` of the operation, OR of ANDs of scheme ids.
    security_requirements: list[list[str]] | None = None


class ToolSource(_Spec):
    """Where an imported tool came from: the key incremental re-imports match tools on."""

    method: str
    path: str
    operation_id: str | None = None


class ResponseTemplate(_Spec):
    body: str | None = None
    prepend_body: str | None = None
    append_body: str | None = None


class ToolSpec(_Spec):
    name: str
    description: str = ""
    title: str | None = None
    args: list[ToolArg] = []
    # An explicit JSON Schema wins over the one derived from `args` (OpenAPI import uses it).
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None
    request_template: RequestTemplate = msgspec.field(default_factory=RequestTemplate)
    response_template: ResponseTemplate | None = None
    error_response_template: str | None = None
    security: SecurityRef | None = None
    disabled: bool = False
    # Set by OpenAPI import; absent on hand-written tools.
    source: ToolSource | None = None
    # Accepted for compatibility with Higress configs; mcpgw validates arguments the same way always.
    legacy_only: bool = False


class SecurityScheme(_Spec):
    id: str
    type: Literal["http", "apiKey"]
    scheme: Literal["basic", "bearer"] | None = None
    in_: Literal["header", "query", "cookie"] | None = msgspec.field(default=None, name="in")
    name: str | None = None
    default_credential: str | None = None


class ServerBlock(_Spec):
    name: str
    type: str = "rest"
    version: str = "1.0.0"
    config: dict[str, Any] = {}
    # mcpgw extension: paths into `config` (dotted: `oauth.clientId`) whose values are secret besides
    # those named like one (see the registry's `config_secrets`); the registry never shows them.
    secret_config: list[str] = []
    security_schemes: list[SecurityScheme] = []
    default_upstream_security: SecurityRef | None = None
    default_downstream_security: SecurityRef | None = None
    passthrough_auth_header: bool = False


class ToolsDocument(_Spec):
    server: ServerBlock
    tools: list[ToolSpec] = []
    allow_tools: list[str] | None = None
