"""Every route of the admin API, as the OpenAPI document describes it.

An entry names the route exactly as aiohttp routes it (method and path template), so a test can
hold the table and the router side by side (tests/registry/http/apispec/test_document.py). Request bodies
are the Structs the handlers decode into; `data` is what the envelope carries (a Struct, a schema
from `views`, or None for answers without data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry.http.admin_auth import SPEC_PATH
from mcpgw_registry.http.apispec import views as v
from mcpgw_registry.http.imports import SPEC_TYPES
from mcpgw_registry.http.paging import MAX_PAGE_SIZE
from mcpgw_registry.http.servers import TOOLS_TYPES
from mcpgw_registry.http.statistics import GROUP_BY, MAX_MS
from mcpgw_registry.http.upstream_credentials import PATH as CREDENTIAL_PATH
from mcpgw_registry.importing.patching import ToolPatch
from mcpgw_registry.importing.plan import MAX_DESCRIPTION_LIMIT
from mcpgw_registry.resources.consumers.model import CreateConsumer, UpdateConsumer
from mcpgw_registry.resources.domains import CreateDomain, UpdateDomain
from mcpgw_registry.resources.grants import ConsumerRuleBody, CreateRules, UpdateRuleBody
from mcpgw_registry.resources.hosted.credentials import CredentialBody
from mcpgw_registry.resources.servers.model import (
    CREATE_FROM_TYPES,
    DEPLOY_STATUSES,
    SERVER_TYPES,
    CreateServer,
    UpdateServer,
)
from mcpgw_registry.resources.services import KNOWN_SOURCES, CreateServices, UpdateService
from mcpgw_registry.resources.tools.backend_auth import BackendAuthBody


@dataclass(frozen=True, slots=True)
class Param:
    """A query parameter. The registry reads one value per name; a list is comma-separated (`a,b`).

    `empty`: an empty value counts as leaving the parameter out (`?pageSize=` is the default size).
    """

    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False
    empty: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # aiohttp's template: {server_id}, renamed in the document (see document.PATH_PARAMETERS)
    operation_id: str
    summary: str
    tag: str
    query: tuple[Param, ...] = ()
    # Media type -> schema of the request body; None: the route reads no body.
    body: dict[str, Any] | None = None
    # The envelope's `data`: a schema or a Struct type; None: an envelope without data.
    data: Any = None
    # An answer outside the envelope: media type -> schema.
    raw: dict[str, Any] | None = None
    # Error statuses besides those implied (400 with input, 401, 404 with path parameters, 409 on
    # writes, 413 with a body, 5XX always).
    errors: tuple[int, ...] = ()


def _page(*extra: Param) -> tuple[Param, ...]:
    return (Param("pageNumber", {"type": "integer", "minimum": 1, "default": 1}, "page to return, from 1",
                  empty=True),
            Param("pageSize", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 10},
                  "items per page", empty=True),
            *extra)


def _choices(name: str, values: tuple[str, ...], description: str) -> Param:
    return Param(name, {"type": "array", "items": {"enum": list(values)}}, description, empty=True)


DEPLOY = Param("deploy", {"type": "boolean"}, "false: save as the draft only; absent or true: publish the draft "
                                              "with this change")
NAME_LIKE = Param("nameLike", {"type": "string"}, "only names containing this text (case-insensitive)")


def _json(struct: type) -> dict[str, Any]:
    return {"application/json": struct}


# The tools document travels as YAML or as JSON; both have the shape of `ToolsDocument`.
TOOLS_BODY = {media: ToolsDocument for media in TOOLS_TYPES}
# What an import reads: an OpenAPI 3.x or Swagger 2.0 document, JSON or YAML, or a multipart upload.
_OPENAPI_DOCUMENT = {"type": "object", "description": "an OpenAPI 3.0/3.1 or Swagger 2.0 document"}
_OPENAPI_TEXT = {"type": "string", "description": "an OpenAPI 3.0/3.1 or Swagger 2.0 document, JSON or YAML"}
IMPORT_BODY: dict[str, Any] = {
    **{media: (_OPENAPI_TEXT if media == "text/plain" else _OPENAPI_DOCUMENT) for media in sorted(SPEC_TYPES)},
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream",
                                "description": "the OpenAPI document (JSON or YAML)"}},
        "required": ["file"],
    },
}
IMPORT_QUERY = (
    Param("baseUrl", {"type": "string"}, "the backend's base URL, instead of the document's `servers` "
                                         "(empty: back to the document's); kept for later imports"),
    Param("includeDeprecated", {"type": "boolean"}, "turn deprecated operations into tools too", empty=True),
    Param("descriptionLimit", {"type": "integer", "minimum": 1, "maximum": MAX_DESCRIPTION_LIMIT},
          "longest tool description, in characters", empty=True),
)
_YAML_DOCUMENT = {"type": "object", "description": "a YAML document"}

S, T, C, R, SV, U, M = ("MCP servers", "Tools", "Consumers", "Authorization rules", "Services",
                        "Upstream credentials", "Meta")
D = "Domains"

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/healthz", "health", "200 while the registry is connected to NATS", M, data=v.HEALTH),
    Operation("GET", SPEC_PATH, "openApiDocument", "this document", M, raw={"application/json": {"type": "object"}}),
    # MCP servers
    Operation("POST", "/v1/mcp-servers", "createMcpServer", "create an MCP server", S,
              body=_json(CreateServer), data=v.SERVER_CREATED),
    Operation("GET", "/v1/mcp-servers", "listMcpServers", "list MCP servers, newest first", S,
              query=_page(NAME_LIKE, _choices("type", SERVER_TYPES, "only these types"),
                          _choices("createFromTypes", CREATE_FROM_TYPES, "only these origins"),
                          _choices("deployStatuses", DEPLOY_STATUSES, "only these deploy statuses")),
              data=v.page_of(v.SERVER_ITEM)),
    Operation("GET", "/v1/mcp-servers/{server_id}", "getMcpServer", "read an MCP server", S, data=v.SERVER),
    Operation("PUT", "/v1/mcp-servers/{server_id}", "updateMcpServer",
              "update an MCP server (its draft, if any): present fields replace, absent ones are kept; "
              "published at once unless deploy is false", S,
              body=_json(UpdateServer), data=v.SERVER_UPDATED),
    Operation("DELETE", "/v1/mcp-servers/{server_id}", "deleteMcpServer",
              "delete an MCP server and its authorization rules", S),
    Operation("GET", "/v1/mcp-servers/{server_id}/statistics", "getMcpServerStatistics",
              "call statistics of a server with mcpStatisticsEnable (kept for the statistics window)", S,
              query=(Param("from", {"type": "integer", "minimum": 0, "maximum": MAX_MS},
                           "Unix ms, default: an hour before `to`", empty=True),
                     Param("to", {"type": "integer", "minimum": 0, "maximum": MAX_MS}, "Unix ms, default: now",
                           empty=True),
                     Param("groupBy", {"enum": list(GROUP_BY)}, "one group per tool, consumer or minute")),
              data=v.STATISTICS),
    Operation("POST", "/v1/mcp-servers/{server_id}/deploy", "deployMcpServer",
              "publish the draft (or an undeployed server) as a new revision: the edge serves it; a 400 "
              "(naming the field) leaves deployStatus DeployFailed with deployError", S, data=v.DEPLOYED,
              errors=(400,)),
    Operation("POST", "/v1/mcp-servers/{server_id}/undeploy", "undeployMcpServer",
              "stop serving the server (the edge answers 404); its config and draft stay", S, data=v.DEPLOYED),
    Operation("GET", "/v1/mcp-servers/{server_id}/revisions", "listRevisions",
              "the published revisions kept of a server, newest first", S, data=v.REVISIONS),
    Operation("GET", "/v1/mcp-servers/{server_id}/revisions/{n}", "getRevision",
              "one published revision, with a diff against the one before", S, data=v.REVISION_DETAIL,
              errors=(400,)),
    Operation("POST", "/v1/mcp-servers/{server_id}/revisions/{n}:rollback", "rollbackRevision",
              "publish an earlier revision again (as a new revision, its secrets restored); the draft is "
              "dropped", S, data=v.ROLLED_BACK,
              errors=(400,)),
    # Tools
    Operation("GET", "/v1/mcp-servers/{server_id}/tools", "getTools",
              "the tools document as stored (backend credentials shown as ******)", T,
              raw={"application/yaml": ToolsDocument}),
    Operation("GET", "/v1/mcp-servers/{server_id}/tool-names", "getToolNames",
              "the names of the tools the server offers (null: unknown now)", T,
              data=v.TOOL_NAMES),
    Operation("GET", "/v1/mcp-servers/{server_id}/backend-auth", "getBackendAuth",
              "how a REST-converted server's tools authenticate to its backend (credentials as ******)", T,
              data=v.BACKEND_AUTH, errors=(400,)),
    Operation("PUT", "/v1/mcp-servers/{server_id}/backend-auth", "putBackendAuth",
              "set the security schemes and the default one; ****** or no credential keeps the stored one; "
              "the tools document is rewritten in canonical form", T,
              query=(DEPLOY,), body=_json(BackendAuthBody), data=v.BACKEND_AUTH),
    Operation("PUT", "/v1/mcp-servers/{server_id}/tools", "putTools",
              "replace the tools (of the draft, if any); ****** keeps a stored credential", T,
              query=(DEPLOY,),
              body=TOOLS_BODY, data=v.TOOLS_PUT, errors=(415,)),
    Operation("POST", "/v1/mcp-servers/{server_id}/tools/import:preview", "previewImport",
              "convert an OpenAPI document and show what an import would change; changes nothing", T,
              query=IMPORT_QUERY, body=IMPORT_BODY, data=v.IMPORT_REPORT, errors=(415,)),
    Operation("POST", "/v1/mcp-servers/{server_id}/tools/import", "applyImport",
              "import an OpenAPI document: tools replaced, operator edits re-applied", T,
              query=(*IMPORT_QUERY, DEPLOY), body=IMPORT_BODY, data=v.IMPORT_REPORT, errors=(415,)),
    Operation("GET", "/v1/mcp-servers/{server_id}/tools/import", "getImport",
              "the import's options and the recorded edits", T, data=v.IMPORT_STATE),
    Operation("DELETE", "/v1/mcp-servers/{server_id}/tools/import", "forgetImport",
              "detach the tools from their OpenAPI document: they stay, the recorded edits go", T,
              data=v.ids("mcpServerId"), errors=(400,)),
    Operation("PATCH", "/v1/mcp-servers/{server_id}/tools/{name}", "patchTool",
              "set (a value) or clear (null) one imported tool's edits", T,
              query=(DEPLOY,), body=_json(ToolPatch), data=v.TOOL_PATCHED),
    Operation("GET", "/v1/mcp-servers/tools/import/example", "toolsExample",
              "a commented example: a tools YAML, or an OpenAPI document", T,
              query=(Param("kind", {"enum": ["tools", "openapi"], "default": "tools"}),),
              raw={"application/yaml": _YAML_DOCUMENT}),
    # Consumers
    Operation("POST", "/v1/consumers", "createConsumer",
              "create a consumer; new API keys are shown in plaintext in this answer only", C,
              body=_json(CreateConsumer), data=v.CONSUMER_CREATED),
    Operation("GET", "/v1/consumers", "listConsumers", "list consumers, newest first", C,
              query=_page(NAME_LIKE, _choices("gatewayType", ("API", "AI"), "only these gateway types")),
              data=v.page_of(v.CONSUMER_ITEM)),
    Operation("GET", "/v1/consumers/{consumer_id}", "getConsumer", "read a consumer (secrets masked)", C,
              data=v.CONSUMER),
    Operation("PUT", "/v1/consumers/{consumer_id}", "updateConsumer",
              "update a consumer: keys named by credentialId stay, others are added, the rest dropped", C,
              body=_json(UpdateConsumer), data=v.CONSUMER_UPDATED),
    Operation("DELETE", "/v1/consumers/{consumer_id}", "deleteConsumer",
              "delete a consumer, its authorization rules and its upstream credentials", C),
    # Authorization rules
    Operation("POST", "/v1/authorization-rules", "createAuthorizationRules",
              "create authorization rules, all or nothing", R, body=_json(CreateRules), data=v.RULES_CREATED),
    Operation("GET", "/v1/authorization-rules", "queryAuthorizationRules", "list authorization rules", R,
              query=_page(Param("consumerId", {"type": "string"}), Param("resourceId", {"type": "string"}),
                          Param("resourceType", {"type": "string"}),
                          Param("consumerNameLike", {"type": "string"},
                                "only consumers whose name contains this text")),
              data=v.RULE_PAGE),
    Operation("DELETE", "/v1/authorization-rules", "deleteAuthorizationRules",
              "delete authorization rules, all or nothing", R,
              query=(Param("consumerAuthorizationRuleIds", {"type": "array", "items": {"type": "string"},
                                                           "minItems": 1},
                           "the rules to delete", required=True),), errors=(404,)),
    Operation("GET", "/v1/authorization-rules/{rule_id}", "getAuthorizationRule", "read an authorization rule",
              R, data=v.RULE),
    Operation("DELETE", "/v1/authorization-rules/{rule_id}", "deleteAuthorizationRule",
              "delete an authorization rule", R),
    Operation("POST", "/v1/consumers/{consumer_id}/authorization-rules", "createConsumerAuthorizationRules",
              "grant a consumer MCP servers (one rule per resource listed)", R,
              body=_json(ConsumerRuleBody), data=v.CONSUMER_RULES_CREATED),
    Operation("GET", "/v1/consumers/{consumer_id}/authorization-rules", "listConsumerAuthorizationRules",
              "one consumer's authorization rules", R,
              query=_page(Param("resourceId", {"type": "string"}), Param("resourceType", {"type": "string"}),
                          Param("consumerNameLike", {"type": "string"})),
              data=v.RULE_PAGE),
    Operation("GET", "/v1/consumers/{consumer_id}/authorization-rules/{rule_id}", "getConsumerAuthorizationRule",
              "read one of a consumer's authorization rules", R, data=v.RULE),
    Operation("PUT", "/v1/consumers/{consumer_id}/authorization-rules/{rule_id}",
              "updateConsumerAuthorizationRule", "update one of a consumer's rules: present fields replace", R,
              body=_json(UpdateRuleBody), data=v.obj({"consumerAuthorizationRuleId": v.STRING,
                                                      "revision": v.REVISION})),
    Operation("DELETE", "/v1/consumers/{consumer_id}/authorization-rules/{rule_id}",
              "deleteConsumerAuthorizationRule", "delete one of a consumer's rules", R),
    # Services
    Operation("POST", "/v1/services", "createServices", "create services (upstream addresses)", SV,
              body=_json(CreateServices), data=v.SERVICES_CREATED),
    Operation("GET", "/v1/services", "listServices", "list services, newest first", SV,
              query=_page(Param("name", {"type": "string"}, "only the service of this name"),
                          Param("sourceType", {"enum": list(KNOWN_SOURCES)}, "only services of this source",
                                empty=True)),
              data=v.page_of(v.SERVICE)),
    Operation("GET", "/v1/services/{service_id}", "getService", "read a service", SV, data=v.SERVICE),
    Operation("PUT", "/v1/services/{service_id}", "updateService",
              "update a service; the hosted servers using it follow", SV,
              body=_json(UpdateService), data=v.ids("serviceId")),
    Operation("DELETE", "/v1/services/{service_id}", "deleteService", "delete a service no server uses", SV,
              errors=(400,)),
    # Domains
    Operation("POST", "/v1/domains", "createDomain", "create a domain (a host name servers answer on)", D,
              body=_json(CreateDomain), data=v.obj({"domainId": v.STRING})),
    Operation("GET", "/v1/domains", "listDomains", "list domains, newest first", D, query=_page(NAME_LIKE),
              data=v.page_of(v.DOMAIN_ITEM)),
    Operation("GET", "/v1/domains/{domain_id}", "getDomain", "read a domain and the server using it", D,
              data=v.DOMAIN),
    Operation("PUT", "/v1/domains/{domain_id}", "updateDomain", "update a domain (its name cannot change)", D,
              body=_json(UpdateDomain), data=v.ids("domainId")),
    Operation("DELETE", "/v1/domains/{domain_id}", "deleteDomain", "delete a domain no server uses", D,
              errors=(400,)),
    # A consumer's own upstream credential for a hosted server
    Operation("PUT", CREDENTIAL_PATH, "putUpstreamCredential",
              "set a consumer's own credential for a hosted server (write-only)", U,
              body=_json(CredentialBody), data=v.CREDENTIAL),
    Operation("GET", CREDENTIAL_PATH, "getUpstreamCredential", "how a consumer's own credential is set (masked)",
              U, data=v.CREDENTIAL, errors=(400,)),
    Operation("DELETE", CREDENTIAL_PATH, "deleteUpstreamCredential", "remove a consumer's own credential", U,
              errors=(400,)),
)
