"""The consumer routes of the admin API: `/v1/consumers` (API keys, JWT settings)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.http.paging import choices, page, page_params
from mcpgw_registry.resources.consumers.model import CreateConsumer, UpdateConsumer, apikey_view, to_item, to_resource
from mcpgw_registry.resources.validation import decode_json

routes = web.RouteTableDef()


@routes.post("/v1/consumers")
async def create_consumer(request: web.Request) -> web.Response:
    body = decode_json(await request.read(), CreateConsumer)
    record, _, new_keys = await context.registry(request).consumers.create(body, context.now_ms())
    data: dict[str, Any] = {"consumerId": record.id, "name": record.name}
    if record.apikey_configured:
        data["apikeyIdentityConfig"] = apikey_view(record, new_keys)
    return ok(request, data)


@routes.get("/v1/consumers")
async def list_consumers(request: web.Request) -> web.Response:
    query = request.query
    number, size = page_params(query)
    name_like = context.name_like(query)
    gateway_types = choices(query, "gatewayType", ("API", "AI"))
    found = [
        (record, revision) for record, revision in await context.registry(request).consumers.all()
        if (not name_like or name_like in record.name.lower())
        and (gateway_types is None or record.gateway_type in gateway_types)
    ]
    found.sort(key=lambda item: (-item[0].created_ms, item[0].id))
    return ok(request, page([to_item(r, rev) for r, rev in found], number, size))


@routes.get("/v1/consumers/{consumer_id}")
async def get_consumer(request: web.Request) -> web.Response:
    record, revision = await context.registry(request).consumers.get(request.match_info["consumer_id"])
    return ok(request, to_resource(record, revision))


@routes.put("/v1/consumers/{consumer_id}")
async def update_consumer(request: web.Request) -> web.Response:
    consumer_id = request.match_info["consumer_id"]
    consumers = context.registry(request).consumers
    await consumers.get(consumer_id)
    body = decode_json(await request.read(), UpdateConsumer)
    record, revision, new_keys = await consumers.update(consumer_id, body, context.now_ms())
    data: dict[str, Any] = {"consumerId": record.id, "revision": revision}
    if record.apikey_configured:
        # Keys created by this request appear in plaintext here, once; kept keys stay masked.
        data["apikeyIdentityConfig"] = apikey_view(record, new_keys)
    return ok(request, data)


@routes.delete("/v1/consumers/{consumer_id}")
async def delete_consumer(request: web.Request) -> web.Response:
    consumer_id = request.match_info["consumer_id"]
    # Its rules and upstream credentials go with it (see stores.consumers).
    await context.registry(request).consumers.delete(consumer_id)
    return ok(request)
