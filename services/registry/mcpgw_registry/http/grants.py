"""The authorization-rule routes of the admin API (reference §7): batch under `/v1/authorization-rules`,
single rules under `/v1/consumers/{consumerId}/authorization-rules`."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web
from msgspec import UNSET

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.http.paging import page, page_params
from mcpgw_registry.resources.grants import (
    MAX_RULES_PER_REQUEST,
    RESOURCE_TYPE,
    ConsumerRuleBody,
    CreateRules,
    GrantRecord,
    UpdateRuleBody,
    check_expiry,
    check_resource_type,
    draft,
    to_view,
)
from mcpgw_registry.resources.validation import decode_json
from mcpgw_registry.stores.grants import GrantRepository

routes = web.RouteTableDef()


def _grants(request: web.Request) -> GrantRepository:
    return context.registry(request).grants


async def _consumer_of_path(request: web.Request) -> str:
    consumer_id = request.match_info["consumer_id"]
    await _grants(request).consumers.get(consumer_id)  # 404 for an unknown consumer
    return consumer_id


class _Infos:
    """`consumerInfo` / `resourceInfo` of listed rules, each looked up once per request."""

    def __init__(self, grants: GrantRepository) -> None:
        self._grants = grants
        self._consumers: dict[str, dict[str, Any] | None] = {}
        self._servers: dict[str, dict[str, Any] | None] = {}

    async def consumer(self, consumer_id: str) -> dict[str, Any] | None:
        if consumer_id not in self._consumers:
            try:
                record, _ = await self._grants.consumers.get(consumer_id)
                self._consumers[consumer_id] = {"consumerId": record.id, "name": record.name,
                                                "enable": record.enable}
            except McpgwError as exc:
                if exc.code is not ErrorCode.NOT_FOUND:
                    raise
                self._consumers[consumer_id] = None
        return self._consumers[consumer_id]

    async def server(self, server_id: str) -> dict[str, Any] | None:
        if server_id not in self._servers:
            try:
                record, _ = await self._grants.servers.get(server_id)
                self._servers[server_id] = {"mcpServerId": record.id, "mcpServerName": record.name,
                                            "mcpServerPath": f"/mcp-servers/{record.name}"}
            except McpgwError as exc:
                if exc.code is not ErrorCode.NOT_FOUND:
                    raise
                self._servers[server_id] = None
        return self._servers[server_id]

    async def view(self, record: GrantRecord, revision: int, now_ms: int) -> dict[str, Any]:
        return to_view(record, revision, now_ms, await self.consumer(record.consumer_id),
                       await self.server(record.server_id))


async def _listing(request: web.Request, consumer_id: str | None) -> web.Response:
    query = request.query
    number, size = page_params(query)
    grants = _grants(request)
    consumer_id = consumer_id or query.get("consumerId") or None
    resource_id = query.get("resourceId") or None
    resource_type = query.get("resourceType") or None
    name_like = context.name_like(query, "consumerNameLike")
    found = [
        (record, revision) for record, revision in await grants.all()
        if (consumer_id is None or record.consumer_id == consumer_id)
        and (resource_id is None or record.server_id == resource_id)
        and (resource_type is None or resource_type == RESOURCE_TYPE)
    ]
    infos = _Infos(grants)
    if name_like:
        found = [(r, rev) for r, rev in found
                 if (info := await infos.consumer(r.consumer_id)) is not None and name_like in info["name"].lower()]
    found.sort(key=lambda item: (-item[0].created_ms, item[0].id))
    data = page(found, number, size)
    now = context.now_ms()
    data["items"] = [await infos.view(record, revision, now) for record, revision in data["items"]]
    # The reference returns this list's total as a string (unlike the other lists).
    data["totalSize"] = str(data["totalSize"])
    return ok(request, data)


# batch: /v1/authorization-rules


@routes.post("/v1/authorization-rules")
async def create_rules(request: web.Request) -> web.Response:
    body = decode_json(await request.read(), CreateRules)
    if not body.authorization_rules:
        raise invalid("authorizationRules", "at least one rule is required")
    if len(body.authorization_rules) > MAX_RULES_PER_REQUEST:
        raise invalid("authorizationRules", f"at most {MAX_RULES_PER_REQUEST} rules per request")
    now = context.now_ms()
    drafts = []
    for i, rule in enumerate(body.authorization_rules):
        field = f"authorizationRules[{i}]"
        if not rule.consumer_id:
            raise invalid(f"{field}.consumerId", "is required")
        check_resource_type(rule.resource_type, f"{field}.resourceType")
        drafts.append(draft(field, "resourceIdentifier", f"{field}.consumerId", rule.consumer_id,
                            rule.resource_identifier, rule.expire_mode, rule.expire_timestamp, now))
    created = await _grants(request).create(drafts, now)
    return ok(request, {"consumerAuthorizationRuleIds": [record.id for record, _ in created]})


@routes.get("/v1/authorization-rules")
async def query_rules(request: web.Request) -> web.Response:
    return await _listing(request, None)


@routes.delete("/v1/authorization-rules")
async def delete_rules(request: web.Request) -> web.Response:
    raw = request.query.get("consumerAuthorizationRuleIds", "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise invalid("consumerAuthorizationRuleIds", "is required: comma-separated rule ids")
    await _grants(request).delete(ids)
    return ok(request)


@routes.get("/v1/authorization-rules/{rule_id}")
async def get_rule(request: web.Request) -> web.Response:
    grants = _grants(request)
    record, revision = await grants.get(request.match_info["rule_id"])
    return ok(request, await _Infos(grants).view(record, revision, context.now_ms()))


@routes.delete("/v1/authorization-rules/{rule_id}")
async def delete_rule(request: web.Request) -> web.Response:
    await _grants(request).delete([request.match_info["rule_id"]], field="consumerAuthorizationRuleId")
    return ok(request)


# one consumer's rules: /v1/consumers/{consumerId}/authorization-rules


@routes.post("/v1/consumers/{consumer_id}/authorization-rules")
async def create_consumer_rule(request: web.Request) -> web.Response:
    consumer_id = await _consumer_of_path(request)
    body = decode_json(await request.read(), ConsumerRuleBody)
    check_resource_type(body.resource_type, "resourceType")
    infos = body.authorization_resource_infos
    if not infos:
        raise invalid("authorizationResourceInfos", "at least one resource is required")
    if len(infos) > MAX_RULES_PER_REQUEST:
        raise invalid("authorizationResourceInfos", f"at most {MAX_RULES_PER_REQUEST} resources per request")
    now = context.now_ms()
    drafts = [draft("", f"authorizationResourceInfos[{i}]", "consumerId", consumer_id, info, body.expire_mode,
                    body.expire_timestamp, now) for i, info in enumerate(infos)]
    created = await _grants(request).create(drafts, now)
    ids = [record.id for record, _ in created]
    return ok(request, {"consumerAuthorizationRuleId": ids[0], "consumerAuthorizationRuleIds": ids})


@routes.get("/v1/consumers/{consumer_id}/authorization-rules")
async def list_consumer_rules(request: web.Request) -> web.Response:
    return await _listing(request, await _consumer_of_path(request))


@routes.get("/v1/consumers/{consumer_id}/authorization-rules/{rule_id}")
async def get_consumer_rule(request: web.Request) -> web.Response:
    consumer_id = await _consumer_of_path(request)
    grants = _grants(request)
    record, revision = await grants.get(request.match_info["rule_id"], consumer_id)
    return ok(request, await _Infos(grants).view(record, revision, context.now_ms()))


@routes.put("/v1/consumers/{consumer_id}/authorization-rules/{rule_id}")
async def update_consumer_rule(request: web.Request) -> web.Response:
    consumer_id = await _consumer_of_path(request)
    grants = _grants(request)
    record, revision = await grants.get(request.match_info["rule_id"], consumer_id)
    body = decode_json(await request.read(), UpdateRuleBody)
    now = context.now_ms()
    if body.resource_type is not UNSET:
        check_resource_type(body.resource_type, "resourceType")
    mode = record.expire_mode if body.expire_mode is UNSET else body.expire_mode
    if body.expire_timestamp is not UNSET:
        timestamp = body.expire_timestamp
    elif body.expire_mode is UNSET or body.expire_mode == record.expire_mode:
        timestamp = record.expires_at or None
    else:
        timestamp = None
    changes: dict[str, Any] = {"updated_ms": now, "expire_mode": mode}
    if body.expire_mode is not UNSET or body.expire_timestamp is not UNSET:
        changes["expires_at"] = check_expiry(mode, timestamp, now, "")
    if body.authorization_resource_infos is not UNSET:
        infos = body.authorization_resource_infos
        if len(infos) != 1:
            raise invalid("authorizationResourceInfos", "must hold exactly one resource: a rule covers one "
                                                        "MCP server (create more rules for more servers)")
        # The expiry was settled above (an expired rule may still be edited): LongTerm skips its check.
        rule = draft("", "authorizationResourceInfos[0]", "consumerId", consumer_id, infos[0], "LongTerm",
                     None, now)
        await grants.check([rule])
        changes.update(server_id=rule.server_id, tools=rule.tools)
    updated = msgspec.structs.replace(record, **changes)
    new_revision = await grants.replace(updated, revision)
    return ok(request, {"consumerAuthorizationRuleId": record.id, "revision": new_revision})


@routes.delete("/v1/consumers/{consumer_id}/authorization-rules/{rule_id}")
async def delete_consumer_rule(request: web.Request) -> web.Response:
    consumer_id = await _consumer_of_path(request)
    await _grants(request).delete([request.match_info["rule_id"]], consumer_id, field="consumerAuthorizationRuleId")
    return ok(request)
