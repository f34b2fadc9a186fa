"""The MCP server resource: request bodies, the stored record, validation and the API view.

Request Structs forbid unknown fields so a misspelt field is a 400 naming it, not silently
ignored. Update bodies use `UNSET` defaults: a field present replaces, a field absent is kept.
"""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.hosting import UpstreamCredential, UpstreamTarget
from mcpgw.contracts.registry import ServerKind
from mcpgw.http_names import is_token
from mcpgw_registry.importing.overrides import ImportState
from mcpgw_registry.resources.hosted.credentials import CredentialBody
from mcpgw_registry.resources.hosted.credentials import check as check_credential
from mcpgw_registry.resources.servers.kind_fields import check_kind_fields
from mcpgw_registry.resources.servers.kinds import HOSTED_PROTOCOLS, default_from_type, kind_of
from mcpgw_registry.resources.tools.document import ToolsFormat
from mcpgw_registry.resources.validation import CONTROL, Body, join

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_PATH = 1024

ServerType = Literal["RealMCP", "AssemblyMCP"]
Protocol = Literal["HTTP", "HTTPS", "SSE", "StreamableHTTP"]
CreateFromType = Literal[
    "ApiGatewayHttpToMCP",
    "ApiGatewayMcpHosting",
    # The reference docs spell the direct-proxy value both ways; both are accepted.
    "ApiGatewayProxyMcpHosting",
    "ApiGatewayAssembly",
    "NacosHttpToMCP",
    "NacosMcpHosting",
]
SERVER_TYPES: tuple[str, ...] = ("RealMCP", "AssemblyMCP")
CREATE_FROM_TYPES: tuple[str, ...] = typing.get_args(CreateFromType)
# What `deployStatus` may say (see stores.drafts); `Deploying` never: a deploy is synchronous.
DEPLOY_STATUSES: tuple[str, ...] = ("Deployed", "NotDeployed", "Deploying", "DeployFailed")
MatchType = Literal["Exact", "Prefix", "Regex"]
# "OPTION" is how the reference docs spell it; "OPTIONS" is what HTTP says.
RouteMethod = Literal["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTION", "OPTIONS", "TRACE", "PATCH"]



class PathMatch(Body):
    type: MatchType
    value: str


class ValueMatch(Body):
    name: str
    type: MatchType = "Exact"
    value: str = ""


class HttpRouteMatch(Body):
    path: PathMatch | None = None
    headers: list[ValueMatch] = []
    query_params: list[ValueMatch] = []
    methods: list[RouteMethod] = []
    ignore_uri_case: bool = False


class BackendService(Body):
    service_id: str
    name: str | None = None
    port: Annotated[int, Meta(ge=0, le=65535)] | None = None
    protocol: str | None = None
    version: str | None = None
    weight: Annotated[int, Meta(ge=0, le=100)] | None = None


class BackendConfig(Body):
    """The services calls go to: one (`SingleService`) or several split by weight (`MultiServiceByRatio`)."""

    scene: str = "SingleService"
    services: list[BackendService] = []


class AssembledSource(Body):
    mcp_server_id: str = ""
    mcp_server_name: str = ""
    # Empty: every tool of the source.
    tools: list[str] = []
    # Source tool name -> the name the assembly exposes it as (to keep two sources' tools apart).
    tool_aliases: dict[str, str] = {}


class GrayConfig(Body):
    """A canary route: requests `match` admits (the first gray config that does) have their calls go
    to this `backendConfig`; a header rule on `x-mcpgw-consumer` tests the verified consumer's name."""

    route_id: str = ""
    match: HttpRouteMatch | None = None
    backend_config: BackendConfig | None = None


class McpServerConfig(Body):
    mcp_server_spec: str | None = None
    swagger_config: str | None = None


class ConsumerAuthInfo(Body):
    enable: bool = False


class CreateServer(Body):
    name: str
    description: str = ""
    type: ServerType = "RealMCP"
    protocol: Protocol = "HTTP"
    exposed_uri_path: str = ""
    domain_ids: list[str] = []
    match: HttpRouteMatch | None = None
    backend_config: BackendConfig | None = None
    # None: the default of the server's kind (see kinds).
    create_from_type: CreateFromType | None = None
    mcp_server_config: McpServerConfig | None = None
    mcp_statistics_enable: bool = False
    # 2026-07-28 list results' `ttlMs` for this server (how long a client may cache its tools list);
    # absent: the edge's default.
    list_ttl_ms: Annotated[int, Meta(ge=0, le=86_400_000)] | None = None
    assembled_sources: list[AssembledSource] = []
    gray_mcp_server_configs: list[GrayConfig] = []
    gateway_id: str = ""
    consumer_auth_info: ConsumerAuthInfo | None = None
    upstream_credential: CredentialBody | None = None
    # Save and publish in one step (today's behaviour); false saves a draft the edge does not serve
    # until `POST …/deploy`.
    deploy: bool = True


class UpdateServer(Body):
    # Immutable, but accepted when unchanged so a client may send back what it read.
    name: str | UnsetType = UNSET
    gateway_id: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    type: ServerType | UnsetType = UNSET
    protocol: Protocol | UnsetType = UNSET
    exposed_uri_path: str | UnsetType = UNSET
    domain_ids: list[str] | UnsetType = UNSET
    match: HttpRouteMatch | UnsetType | None = UNSET
    backend_config: BackendConfig | UnsetType | None = UNSET
    create_from_type: CreateFromType | UnsetType = UNSET
    mcp_server_config: McpServerConfig | UnsetType | None = UNSET
    mcp_statistics_enable: bool | UnsetType = UNSET
    list_ttl_ms: Annotated[int, Meta(ge=0, le=86_400_000)] | UnsetType | None = UNSET
    assembled_sources: list[AssembledSource] | UnsetType = UNSET
    gray_mcp_server_configs: list[GrayConfig] | UnsetType = UNSET
    consumer_auth_info: ConsumerAuthInfo | UnsetType = UNSET
    # null removes it.
    upstream_credential: CredentialBody | UnsetType | None = UNSET
    # Absent or true: the draft with this edit is published (one step, "Save and Publish"). False:
    # saved as the draft only; the published record keeps serving until `POST …/deploy`.
    deploy: bool | UnsetType = UNSET


class BlobRef(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A part of a record kept in the object store (see `stores.servers.ServerRepository`)."""

    name: str
    sha256: str
    size: int  # bytes before compression


class ServerRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What `servers.<id>` holds.

    `tools_text` is the operator's document, kept verbatim: inline while the record stays small,
    otherwise a `BlobRef` to it. Read it only through the accessors of `ServerRepository`
    (`tools()`, `readable_tools_text()`...); in a record being written it is the new text (a `str`)
    or the ref that was read.
    """

    v: int = 1
    id: str
    name: str
    description: str = ""
    type: str = "RealMCP"
    protocol: str = "HTTP"
    exposed_uri_path: str = ""
    domain_ids: list[str] = []
    match: HttpRouteMatch | None = None
    backend_config: BackendConfig | None = None
    create_from_type: str = "ApiGatewayHttpToMCP"
    tools_text: str | BlobRef = ""
    tools_format: ToolsFormat = "yaml"
    # Whether the tools document holds a secret (a credential, a secret config value), i.e. whether
    # reads must mask it: set by every write, so reads of the many documents without one cost
    # nothing. None: a record written before this was kept, whose text must be looked at.
    tools_secrets: bool | None = None
    statistics: bool = False
    list_ttl_ms: int | None = None
    assembled_sources: list[AssembledSource] = []
    gray_configs: list[GrayConfig] = []
    gateway_id: str = ""
    consumer_auth: bool = False
    deploy_status: str = "Deployed"
    created_ms: int = 0
    updated_ms: int = 0
    # Set while the tools come from an OpenAPI import: overrides and where the generated tools are.
    imported: ImportState | None = None
    # Set only in the KV value of a record too large even without its tools text: every other field
    # is then in this object (the value keeps id and name). A loaded record keeps it as a marker of
    # where it came from, so a write knows which object it replaces.
    overflow: BlobRef | None = None
    # Hosted servers: what the gateway presents upstream (write-only, see resources.hosted.credentials), and
    # the addresses of the services backendConfig names, resolved when written (a service change
    # rewrites the servers using it, so the revision a snapshot is cached at says it all).
    upstream_credential: UpstreamCredential | None = None
    targets: list[UpstreamTarget] = []
    # The same for each gray config's backendConfig, in order (REST and hosted servers alike).
    gray_targets: list[list[UpstreamTarget]] = []
    # The names of the domains `domain_ids` names, resolved when written (a domain's name cannot
    # change), so the snapshot at this revision carries what the edge routes by.
    hosts: list[str] = []

    @property
    def kind(self) -> ServerKind:
        return kind_of(self.type, self.protocol)


def check_name(name: str) -> None:
    if not name:
        raise invalid("name", "is required")
    if len(name) > MAX_NAME:
        raise invalid("name", f"must be at most {MAX_NAME} characters")
    if not NAME_RE.match(name):
        raise invalid("name", "must be lowercase letters, digits, '-' and '.', start and end with a letter "
                              "or digit (a DNS-1123 subdomain)")


def spec_of(config: McpServerConfig) -> str | None:
    """The tools YAML of an `mcpServerConfig` (None: not given, "" : no tools); swaggerConfig is separate."""
    if config.swagger_config is not None and config.mcp_server_spec is not None:
        raise invalid("mcpServerConfig", "swaggerConfig and mcpServerSpec are mutually exclusive")
    return config.mcp_server_spec


def record_from_create(body: CreateServer, server_id: str, now_ms: int) -> ServerRecord:
    credential = body.upstream_credential
    return ServerRecord(
        id=server_id,
        name=body.name,
        description=body.description,
        type=body.type,
        protocol=body.protocol,
        exposed_uri_path=body.exposed_uri_path,
        domain_ids=body.domain_ids,
        match=body.match,
        backend_config=body.backend_config,
        create_from_type=body.create_from_type or default_from_type(kind_of(body.type, body.protocol)),
        statistics=body.mcp_statistics_enable,
        list_ttl_ms=body.list_ttl_ms,
        assembled_sources=body.assembled_sources,
        gray_configs=body.gray_mcp_server_configs,
        gateway_id=body.gateway_id,
        consumer_auth=body.consumer_auth_info.enable if body.consumer_auth_info else False,
        upstream_credential=check_credential(credential) if credential is not None else None,
        deploy_status="Deployed" if body.deploy else "NotDeployed",
        created_ms=now_ms,
        updated_ms=now_ms,
    )


def apply_update(record: ServerRecord, body: UpdateServer, now_ms: int) -> ServerRecord:
    """The record with the present fields of `body` replaced (tools are handled by the caller)."""
    if body.name is not UNSET and body.name != record.name:
        raise invalid("name", "cannot be changed")
    if body.gateway_id is not UNSET and body.gateway_id != record.gateway_id:
        raise invalid("gatewayId", "cannot be changed")
    changes: dict[str, Any] = {"updated_ms": now_ms}
    simple = {
        "description": body.description,
        "type": body.type,
        "protocol": body.protocol,
        "exposed_uri_path": body.exposed_uri_path,
        "domain_ids": body.domain_ids,
        "match": body.match,
        "backend_config": body.backend_config,
        "create_from_type": body.create_from_type,
        "statistics": body.mcp_statistics_enable,
        "assembled_sources": body.assembled_sources,
        "gray_configs": body.gray_mcp_server_configs,
    }
    changes.update({k: v for k, v in simple.items() if v is not UNSET})
    if not isinstance(body.list_ttl_ms, UnsetType):
        changes["list_ttl_ms"] = body.list_ttl_ms  # null: back to the edge's default
    if not isinstance(body.consumer_auth_info, UnsetType):
        changes["consumer_auth"] = body.consumer_auth_info.enable
    if body.upstream_credential is None:
        changes["upstream_credential"] = None
    elif not isinstance(body.upstream_credential, UnsetType):
        changes["upstream_credential"] = check_credential(body.upstream_credential)
    updated = msgspec.structs.replace(record, **changes)
    if body.create_from_type is UNSET and updated.kind != record.kind:
        # A server that becomes another kind gets that kind's default, as on create.
        updated.create_from_type = default_from_type(kind_of(updated.type, updated.protocol))
    return updated


def _check_text(value: str, field: str, limit: int) -> None:
    if len(value) > limit:
        raise invalid(field, f"must be at most {limit} characters")


def _check_path(value: str, field: str) -> None:
    if not value.startswith("/"):
        raise invalid(field, "must start with '/'")
    if CONTROL.search(value) or " " in value:
        raise invalid(field, "must not contain spaces or control characters")
    _check_text(value, field, MAX_PATH)


def _check_regex(value: str, field: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise invalid(field, f"is not a valid regular expression: {exc}") from None


def _check_match(match: HttpRouteMatch, field: str) -> None:
    if match.path is not None:
        pfield = join(field, "path.value")
        if match.path.type == "Regex":
            _check_regex(match.path.value, pfield)
        else:
            _check_path(match.path.value, pfield)
    for kind, items in (("headers", match.headers), ("queryParams", match.query_params)):
        for i, item in enumerate(items):
            ifield = join(field, f"{kind}[{i}]")
            if not item.name:
                raise invalid(join(ifield, "name"), "is required")
            if kind == "headers" and not is_token(item.name):
                raise invalid(join(ifield, "name"), "must be a valid HTTP header name")
            if item.type == "Regex":
                _check_regex(item.value, join(ifield, "value"))
    if len(set(match.methods)) != len(match.methods):
        raise invalid(join(field, "methods"), "lists a method twice")


def _check_backend(backend: BackendConfig, field: str) -> None:
    if not backend.scene:
        raise invalid(join(field, "scene"), "must not be empty")
    for i, service in enumerate(backend.services):
        if not service.service_id:
            raise invalid(join(field, f"services[{i}].serviceId"), "is required")


def validate_record(record: ServerRecord) -> None:
    """Checks that span fields; the field types were checked while decoding."""
    _check_text(record.description, "description", MAX_DESCRIPTION)
    if record.exposed_uri_path:
        _check_path(record.exposed_uri_path, "exposedUriPath")
    elif record.type == "RealMCP" and record.protocol in HOSTED_PROTOCOLS:
        raise invalid("exposedUriPath", f"is required when protocol is {record.protocol}: it is the backend "
                                        "MCP server's path, e.g. /mcp or /sse")
    for i, domain in enumerate(record.domain_ids):
        if not domain or CONTROL.search(domain):
            raise invalid(f"domainIds[{i}]", "must be a non-empty domain id")
    if len(set(record.domain_ids)) != len(record.domain_ids):
        raise invalid("domainIds", "lists a domain twice")
    if record.match is not None:
        _check_match(record.match, "match")
    if record.backend_config is not None:
        _check_backend(record.backend_config, "backendConfig")
    check_kind_fields(record)
    for i, source in enumerate(record.assembled_sources):
        if not source.mcp_server_id and not source.mcp_server_name:
            raise invalid(f"assembledSources[{i}]", "needs mcpServerId or mcpServerName")
    if record.gray_configs and record.kind == "assembly":
        raise invalid("grayMcpServerConfigs", "is not supported for assembly servers (their sources' "
                                              "backends serve their calls); set it on the source servers")
    for i, gray in enumerate(record.gray_configs):
        gfield = f"grayMcpServerConfigs[{i}]"
        # A gray config with either part missing would take nothing or everything: refused.
        if gray.match is None or _empty(gray.match):
            raise invalid(join(gfield, "match"), "is required: at least one condition (path, headers, queryParams "
                                                 "or methods) that selects the requests for this backend")
        _check_match(gray.match, join(gfield, "match"))
        if gray.backend_config is None:
            raise invalid(join(gfield, "backendConfig"), "is required: the backend the matching requests go to")
        _check_backend(gray.backend_config, join(gfield, "backendConfig"))
    if record.gray_configs and record.backend_config is None:
        raise invalid("backendConfig", "is required when grayMcpServerConfigs is set: the backend every other "
                                       "request goes to")


def _empty(match: HttpRouteMatch) -> bool:
    return match.path is None and not match.headers and not match.query_params and not match.methods
