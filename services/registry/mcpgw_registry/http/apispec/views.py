"""Schemas of the `data` the handlers build as dicts (server, consumer, rule and service views, reports).

The handlers assemble these answers field by field, so there is no Struct to generate them from;
they are written here and kept honest by the Schemathesis run (tests/registry/http/apispec), which
validates every answer against them. A Struct type in place of a schema stands for that Struct's
generated schema (the document turns it into a `$ref`): where a view shows a stored Struct as is,
its schema comes from the code.
"""

from __future__ import annotations

from typing import Any

from mcpgw_registry.importing.openapi.model import Skipped
from mcpgw_registry.importing.overrides import ToolOverride
from mcpgw_registry.resources.servers.model import BackendConfig, GrayConfig, HttpRouteMatch

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
STRINGS: Schema = {"type": "array", "items": STRING}
# Unix time in milliseconds.
TIMESTAMP: Schema = {"type": "integer", "description": "Unix time in milliseconds"}
REVISION: Schema = {"type": "integer", "description": "the stored record's revision (JetStream KV sequence)"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None, description: str = "") -> Schema:
    """An object with these properties; further properties may appear (clients ignore them)."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}, "required": list(required)}
    if description:
        schema["description"] = description
    return schema


def page_of(item: Schema, *, total: Schema = INTEGER) -> Schema:
    return obj({"pageNumber": INTEGER, "pageSize": INTEGER, "totalSize": total,
                "items": {"type": "array", "items": item}})


def ids(name: str) -> Schema:
    return obj({name: STRING, "revision": REVISION})


UPSTREAM_CREDENTIAL_VIEW = obj(
    {"type": {"enum": ["Bearer", "ApiKey", "Basic"]}, "configured": {"const": True}},
    {"name": STRING, "location": {"enum": ["header", "query"]}, "username": STRING},
    "write-only: the value and the password are never shown",
)

ASSEMBLED_SOURCE_STATUS = obj(
    {"mcpServerId": STRING, "mcpServerName": STRING, "tools": STRINGS,
     "toolAliases": {"type": "object", "additionalProperties": STRING},
     "status": {"enum": ["Ok", "SourceMissing", "ToolsMissing", "Unchecked"]}, "missingTools": STRINGS},
    description="a source of an assembly and how it stands now",
)

DEPLOY_STATUS: Schema = {
    "enum": ["Deployed", "NotDeployed", "Deploying", "DeployFailed"],
    "description": "what the data plane serves: Deployed (the published record), NotDeployed (nothing), "
                   "DeployFailed (the last deploy could not publish; the published record, if deployed before, "
                   "keeps serving). Deploying is never returned: a deploy completes within its request",
}

_SERVER_FIELDS: dict[str, Any] = {
    "mcpServerId": STRING,
    "name": STRING,
    "description": STRING,
    "type": {"enum": ["RealMCP", "AssemblyMCP"]},
    "createFromType": STRING,
    "protocol": STRING,
    "mcpServerPath": STRING,
    "exposedUriPath": STRING,
    "deployStatus": DEPLOY_STATUS,
    "publishedRevision": {"type": ["integer", "null"],
                          "description": "the number of the last publish (see /revisions); null: never published"},
    "hasUnpublishedChanges": {"type": "boolean",
                              "description": "what this view shows (the draft) is not what was last published: "
                                             "POST …/deploy publishes it"},
    "mcpServerConfig": {"type": "string", "contentEncoding": "base64",
                        "description": "the tools document, base64 (credentials shown as ******); empty: none"},
    "mcpStatisticsEnable": BOOLEAN,
    "gatewayId": STRING,
    "domainIds": STRINGS,
    "domainInfos": {"type": "array", "items": obj({"domainId": STRING, "name": STRING,
                                                   "protocol": {"enum": ["HTTP", "HTTPS"]}})},
    "assembledSources": {"type": "array", "items": ASSEMBLED_SOURCE_STATUS},
    "consumerAuthInfo": obj({"enable": BOOLEAN}),
    "createTimestamp": TIMESTAMP,
    "updateTimestamp": TIMESTAMP,
    "revision": REVISION,
}
_SERVER_OPTIONAL: dict[str, Any] = {
    "deployError": obj({"field": STRING, "message": STRING},
                       description="why the last deploy or rollback could not publish (deployStatus DeployFailed)"),
    "listTtlMs": INTEGER,
    "match": HttpRouteMatch,
    "backend": BackendConfig,
    "upstreamCredential": UPSTREAM_CREDENTIAL_VIEW,
}
SERVER_ITEM = obj(_SERVER_FIELDS, _SERVER_OPTIONAL)
SERVER = obj({**_SERVER_FIELDS, "grayMcpServerConfigs": {"type": "array", "items": GrayConfig}}, _SERVER_OPTIONAL)

IMPORT_SUMMARY = obj({"tools": STRINGS, "skipped": {"type": "array", "items": Skipped},
                      "degraded": {"type": "array", "items": Skipped}, "operations": INTEGER, "warnings": STRINGS})
SERVER_CREATED = obj({"mcpServerId": STRING, "name": STRING},
                     {"import": IMPORT_SUMMARY})
_PUBLISHED = {"type": "boolean", "description": "false: saved as the draft only (deploy=false); the revision is "
                                               "then the published record's, unchanged"}
SERVER_UPDATED = obj({"mcpServerId": STRING, "revision": REVISION, "published": _PUBLISHED})
TOOLS_PUT = obj({"mcpServerId": STRING, "revision": REVISION, "tools": STRINGS, "published": _PUBLISHED},
                {"notKept": {"type": "array", "items": obj({"tool": STRING, "fields": STRINGS})}})

IMPORT_REPORT = obj(
    {"mcpServerId": STRING, "tools": STRINGS,
     "descriptions": {"type": "object", "additionalProperties": STRING, "description": "each tool's description"},
     "added": STRINGS,
     "changed": {"type": "array", "items": {"type": "object"}}, "removed": STRINGS, "unchanged": INTEGER,
     "server": STRINGS, "skipped": {"type": "array", "items": Skipped},
     "degraded": {"type": "array", "items": Skipped}, "operations": INTEGER, "warnings": STRINGS,
     "yaml": {"type": "string", "description": "the resulting tools document (credentials shown as ******)"},
     "applied": BOOLEAN, "revision": REVISION},
    {"ignored": {"type": "array", "items": Skipped},
     "published": {"type": "boolean", "description": "an applied import: false when saved as the draft only"}},
)
_NULLABLE_STRING: Schema = {"type": ["string", "null"]}
BACKEND_AUTH = obj({"mcpServerId": STRING, "revision": REVISION, "default": _NULLABLE_STRING,
                    "schemes": {"type": "array", "items": obj({
                        "id": STRING, "type": {"enum": ["http", "apiKey"]}, "scheme": _NULLABLE_STRING,
                        "in": _NULLABLE_STRING, "name": _NULLABLE_STRING,
                        "credential": {"type": ["string", "null"], "description": "****** when one is set"}})}},
                   {"published": BOOLEAN})
TOOL_NAMES = obj({"mcpServerId": STRING, "tools": {"type": ["array", "null"], "items": STRING}})
IMPORT_STATE = obj(
    {"mcpServerId": STRING, "imported": BOOLEAN, "revision": REVISION},
    {"importTimestamp": TIMESTAMP, "operations": INTEGER,
     "options": obj({"baseUrl": {"type": ["string", "null"]}, "includeDeprecated": BOOLEAN,
                     "descriptionLimit": INTEGER}),
     "overrides": {"type": "object", "additionalProperties": ToolOverride},
     "serverOverrides": {"type": "object", "description": "edits of the server block (credentials as ******)"}},
)
TOOL_PATCHED = obj({"mcpServerId": STRING, "revision": REVISION, "tool": STRING, "source": STRING,
                    "override": ToolOverride})

APIKEY_CONFIG = obj({
    "type": {"const": "Apikey"},
    "apikeySource": obj({"source": {"enum": ["Default", "Header", "QueryString"]}}, {"value": STRING}),
    "credentials": {"type": "array", "items": obj(
        {"credentialId": STRING, "apikey": {"type": "string", "description": "masked, except in the answer that "
                                                                              "created the key"},
         "generateMode": {"enum": ["System", "Custom"]}, "createTimestamp": TIMESTAMP})},
})
CONSUMER_CREATED = obj({"consumerId": STRING, "name": STRING}, {"apikeyIdentityConfig": APIKEY_CONFIG})
CONSUMER_UPDATED = obj({"consumerId": STRING, "revision": REVISION}, {"apikeyIdentityConfig": APIKEY_CONFIG})
_CONSUMER_FIELDS: dict[str, Any] = {
    "consumerId": STRING, "name": STRING, "description": STRING, "enable": BOOLEAN,
    "deployStatus": {"const": "Deployed"}, "createTimestamp": TIMESTAMP, "updateTimestamp": TIMESTAMP,
    "revision": REVISION,
}
_GATEWAY_TYPE = {"gatewayType": {"enum": ["API", "AI"]}}
CONSUMER_ITEM = obj(_CONSUMER_FIELDS, _GATEWAY_TYPE)
CONSUMER = obj(
    {**_CONSUMER_FIELDS, "consumerGroups": {"type": "array", "maxItems": 0}},
    {**_GATEWAY_TYPE,
     # GetConsumer spells it with a capital K (the request uses `apikeyIdentityConfig`).
     "apiKeyIdentityConfig": APIKEY_CONFIG,
     "jwtIdentityConfig": {"type": "object", "description": "as written, shared secrets and private JWK members "
                                                            "shown as ******"},
     "akSkIdentityConfigs": {"type": "array", "items": {"type": "object"},
                             "description": "as written, secret keys masked"}},
)

RULE = obj(
    {"consumerAuthorizationRuleId": STRING, "consumerId": STRING, "principalType": {"const": "Consumer"},
     "resourceType": {"const": "MCP"}, "resourceId": STRING,
     "resourceIdentifier": obj({"resourceId": STRING}, {"resources": STRINGS}),
     "expireMode": {"enum": ["LongTerm", "ShortTerm"]}, "expireStatus": {"enum": ["InEffect", "Expired"]},
     "deployStatus": {"const": "Deployed"}, "createTimestamp": TIMESTAMP, "updateTimestamp": TIMESTAMP,
     "revision": REVISION},
    {"expireTimestamp": TIMESTAMP,
     "consumerInfo": obj({"consumerId": STRING, "name": STRING, "enable": BOOLEAN}),
     "resourceInfo": obj({"mcpServerId": STRING, "mcpServerName": STRING, "mcpServerPath": STRING})},
)
# The reference returns the total of rule lists as a string (unlike the other lists).
RULE_PAGE = page_of(RULE, total={"type": "string", "pattern": "^[0-9]+$"})
RULES_CREATED = obj({"consumerAuthorizationRuleIds": STRINGS})
CONSUMER_RULES_CREATED = obj({"consumerAuthorizationRuleId": STRING, "consumerAuthorizationRuleIds": STRINGS})

SERVICE = obj({
    "serviceId": STRING, "name": STRING, "gatewayId": STRING, "sourceType": STRING,
    "protocol": {"enum": ["HTTP", "HTTPS"]}, "addresses": STRINGS,
    "ports": {"type": "array", "items": obj({"port": INTEGER, "protocol": STRING})},
    "caBundle": STRING, "resourceGroupId": STRING, "createTimestamp": TIMESTAMP, "updateTimestamp": TIMESTAMP,
    "revision": REVISION,
})
SERVICES_CREATED = obj({"serviceIds": STRINGS})

_DOMAIN_FIELDS: dict[str, Any] = {
    "domainId": STRING, "name": STRING, "protocol": {"enum": ["HTTP", "HTTPS"]}, "forceHttps": BOOLEAN,
    "certIdentifier": STRING, "gatewayId": STRING, "status": {"const": "Published"}, "createFrom": STRING,
    "createTimestamp": TIMESTAMP, "updateTimestamp": TIMESTAMP, "revision": REVISION,
}
_DOMAIN_OPTIONAL: dict[str, Any] = {"gatewayType": {"enum": ["API", "AI"]}}
DOMAIN_ITEM = obj(_DOMAIN_FIELDS, _DOMAIN_OPTIONAL)
# One domain serves at most one MCP server (reference §5.1): a list of none or one.
DOMAIN = obj({**_DOMAIN_FIELDS, "mcpServers": {"type": "array", "maxItems": 1,
                                               "items": obj({"mcpServerId": STRING, "name": STRING})}},
             _DOMAIN_OPTIONAL)

CREDENTIAL = obj({"mcpServerId": STRING, "consumerId": STRING, "upstreamCredential": UPSTREAM_CREDENTIAL_VIEW})

DEPLOYED = obj({"mcpServerId": STRING, "deployStatus": DEPLOY_STATUS, "revision": REVISION})
_REVISION_ENTRY = {"revision": INTEGER, "createTimestamp": TIMESTAMP}
_ROLLBACK_OF = {"rollbackOf": INTEGER}
REVISIONS = obj({"mcpServerId": STRING, "deployStatus": DEPLOY_STATUS,
                 "items": {"type": "array", "items": obj(_REVISION_ENTRY, _ROLLBACK_OF)}})
REVISION_DETAIL = obj({**_REVISION_ENTRY, "mcpServer": {"type": "object"},
                       "diff": obj({"against": {"type": ["integer", "null"]}, "fields": {"type": "object"},
                                    "tools": {"type": "string", "description": "unified diff of the tools"},
                                    "secrets": {"type": "array", "description": "the secrets that changed, by place "
                                                "(never their values: a revision holds only references)",
                                                "items": obj({"place": STRING,
                                                              "change": {"enum": ["added", "removed", "changed"]}})}})},
                      _ROLLBACK_OF)
ROLLED_BACK = obj({"mcpServerId": STRING, "revision": REVISION, "published": INTEGER})
HEALTH = obj({"status": {"const": "ok"}})


_LATENCY = obj({"avg": {"type": ["number", "null"]}, "p50": {"type": ["number", "null"]},
                "p95": {"type": ["number", "null"]}, "p99": {"type": ["number", "null"]},
                "buckets": {"type": "array", "items": obj({"le": {"type": ["number", "null"]}, "count": INTEGER})}},
               description="milliseconds; percentiles from a fixed-bucket histogram, null without calls")
_CELL: dict[str, Any] = {"calls": INTEGER, "toolErrors": INTEGER, "protocolErrors": INTEGER, "bytesIn": INTEGER,
                         "bytesOut": INTEGER, "latencyMs": _LATENCY}
STATISTICS = obj(
    {"mcpServerId": STRING, "statisticsEnabled": BOOLEAN, "from": TIMESTAMP, "to": TIMESTAMP, "totals": obj(_CELL)},
    {"groupBy": {"enum": ["tool", "consumer", "minute"]},
     "groups": {"type": "array", "items": obj({"key": STRING, **_CELL})}},
    "a tool, a consumer id (empty: anonymous) or a minute (Unix ms) per group",
)
