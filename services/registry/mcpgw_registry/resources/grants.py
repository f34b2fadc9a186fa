"""Authorization rules (`car-…`): request bodies, the stored record, checks that need no store, API views.

A rule lets one consumer use one MCP server: all of it, or only the tools named in `resources`.
Only `resourceType: MCP` exists here; the reference's other resource types (REST operations, HTTP
API routes) belong to products mcpgw does not have, so they are refused rather than stored unused.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.registry import Grant
from mcpgw_registry.resources.validation import Body, join

RESOURCE_TYPE = "MCP"
MAX_RULES_PER_REQUEST = 100
MAX_TOOLS_PER_RULE = 1000
# MCP (2025-11-25) tool names: 1-128 characters, case-sensitive, letters, digits, `_`, `-`, `.`;
# a little wider here (any visible ASCII) so names other servers already use can be granted.
_TOOL_NAME = re.compile(r"^[\x21-\x7e]{1,128}$")

ExpireMode = Literal["LongTerm", "ShortTerm"]


class ResourceIdentifier(Body):
    resource_id: str = ""
    resources: list[str] | None = None
    # Accepted for compatibility with the reference API; mcpgw has one environment and no parents.
    environment_id: str | None = None
    parent_resource_id: str | None = None


class RuleBody(Body):
    """One item of `POST /v1/authorization-rules`."""

    consumer_id: str = ""
    principal_type: Literal["Consumer"] = "Consumer"
    resource_type: str = ""
    resource_identifier: ResourceIdentifier | None = None
    expire_mode: ExpireMode = "LongTerm"
    expire_timestamp: int | None = None


class CreateRules(Body):
    authorization_rules: list[RuleBody]


class ConsumerRuleBody(Body):
    """`POST /v1/consumers/{consumerId}/authorization-rules`: one rule per resource listed."""

    resource_type: str = ""
    parent_resource_type: str | None = None
    authorization_resource_infos: list[ResourceIdentifier] = []
    expire_mode: ExpireMode = "LongTerm"
    expire_timestamp: int | None = None


class UpdateRuleBody(Body):
    """`PUT /v1/consumers/{consumerId}/authorization-rules/{ruleId}`: present fields replace."""

    resource_type: str | UnsetType = UNSET
    parent_resource_type: str | UnsetType | None = UNSET
    authorization_resource_infos: list[ResourceIdentifier] | UnsetType = UNSET
    expire_mode: ExpireMode | UnsetType = UNSET
    expire_timestamp: int | UnsetType | None = UNSET


class GrantRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What `grants.<id>` holds."""

    v: int = 1
    id: str
    consumer_id: str
    server_id: str
    # None: the whole server; a list: only these tools.
    tools: list[str] | None = None
    expire_mode: str = "LongTerm"
    # Unix ms; 0 for LongTerm.
    expires_at: int = 0
    created_ms: int = 0
    updated_ms: int = 0


class RuleDraft(msgspec.Struct, kw_only=True):
    """A rule that passed the checks needing no store; `field` is where it came from in the body."""

    field: str
    consumer_field: str
    consumer_id: str
    server_id: str
    tools: list[str] | None
    expire_mode: str
    expires_at: int


def check_resource_type(value: str, field: str) -> None:
    if value != RESOURCE_TYPE:
        shown = repr(value) if value else "missing"
        raise invalid(field, f"{shown}: only {RESOURCE_TYPE!r} (an MCP server, or some of its tools) is supported")


def check_expiry(mode: str, timestamp: int | None, now_ms: int, field: str) -> int:
    """The expiry as stored (0 = never); a ShortTerm rule must end in the future."""
    if mode == "LongTerm":
        if timestamp:
            raise invalid(join(field, "expireTimestamp"), "is only allowed with expireMode ShortTerm")
        return 0
    if timestamp is None:
        raise invalid(join(field, "expireTimestamp"), "is required when expireMode is ShortTerm")
    if timestamp <= now_ms:
        raise invalid(join(field, "expireTimestamp"), "must be in the future (Unix time in milliseconds)")
    return timestamp


def check_tools(resources: list[str] | None, field: str) -> list[str] | None:
    """The tool names of a tool-level rule, duplicates dropped; None for a server-level rule."""
    if resources is None:
        return None
    if not resources:
        raise invalid(field, "must name at least one tool; leave it out to grant the whole MCP server")
    if len(resources) > MAX_TOOLS_PER_RULE:
        raise invalid(field, f"at most {MAX_TOOLS_PER_RULE} tools per rule")
    seen: dict[str, None] = {}
    for i, name in enumerate(resources):
        if not _TOOL_NAME.match(name):
            raise invalid(f"{field}[{i}]", "must be a tool name (1 to 128 visible ASCII characters)")
        seen.setdefault(name)
    return list(seen)


def draft(field: str, resource_field: str, consumer_field: str, consumer_id: str,
          resource: ResourceIdentifier | None, expire_mode: str, expire_timestamp: int | None,
          now_ms: int) -> RuleDraft:
    """`resource_field` is where the resource sits under `field` (`resourceIdentifier`, or an item
    of `authorizationResourceInfos`) and `consumer_field` names the consumer id's place, so
    errors name the field the caller wrote."""
    where = join(field, resource_field)
    if resource is None or not resource.resource_id:
        raise invalid(join(where, "resourceId"), "is required: the mcpServerId of the MCP server")
    return RuleDraft(field=where, consumer_field=consumer_field, consumer_id=consumer_id,
                     server_id=resource.resource_id, tools=check_tools(resource.resources, join(where, "resources")),
                     expire_mode=expire_mode,
                     expires_at=check_expiry(expire_mode, expire_timestamp, now_ms, field))


def to_grant(record: GrantRecord) -> Grant:
    return Grant(rule_id=record.id, consumer_id=record.consumer_id, server_id=record.server_id,
                 tools=record.tools, expires_at=record.expires_at)


def to_view(record: GrantRecord, revision: int, now_ms: int, consumer: dict[str, Any] | None,
            server: dict[str, Any] | None) -> dict[str, Any]:
    """The rule as `QueryConsumerAuthorizationRules` lists it; `consumer`/`server` are the infos, if known."""
    identifier: dict[str, Any] = {"resourceId": record.server_id}
    if record.tools is not None:
        identifier["resources"] = record.tools
    expired = bool(record.expires_at) and record.expires_at <= now_ms
    view: dict[str, Any] = {
        "consumerAuthorizationRuleId": record.id,
        "consumerId": record.consumer_id,
        "principalType": "Consumer",
        "resourceType": RESOURCE_TYPE,
        "resourceId": record.server_id,
        "resourceIdentifier": identifier,
        "expireMode": record.expire_mode,
        "expireStatus": "Expired" if expired else "InEffect",
        "deployStatus": "Deployed",
        "createTimestamp": record.created_ms,
        "updateTimestamp": record.updated_ms,
        "revision": revision,
    }
    if record.expires_at:
        view["expireTimestamp"] = record.expires_at
    if consumer is not None:
        view["consumerInfo"] = consumer
    if server is not None:
        view["resourceInfo"] = server
    return view
