"""The service routes of the admin API (reference §9): `/v1/services` and `/v1/services/{serviceId}`."""

from __future__ import annotations

from aiohttp import web

from mcpgw.contracts.errors import invalid
from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.http.paging import page, page_params
from mcpgw_registry.resources.services import KNOWN_SOURCES, CreateServices, UpdateService, to_resource
from mcpgw_registry.resources.validation import decode_json
from mcpgw_registry.stores.hooks import LinkedHooks

routes = web.RouteTableDef()


def _hooks(request: web.Request) -> LinkedHooks:
    return context.registry(request).hooks


@routes.post("/v1/services")
async def create_services(request: web.Request) -> web.Response:
    body = decode_json(await request.read(), CreateServices)
    records = await _hooks(request).services.create(body, context.now_ms())
    return ok(request, {"serviceIds": [r.id for r in records]})


@routes.get("/v1/services")
async def list_services(request: web.Request) -> web.Response:
    query = request.query
    number, size = page_params(query)
    name = query.get("name", "")
    source_type = query.get("sourceType", "")
    if source_type and source_type not in KNOWN_SOURCES:
        raise invalid("sourceType", f"unknown value {source_type!r}; expected {', '.join(KNOWN_SOURCES)}")
    found = [(record, revision) for record, revision in await _hooks(request).services.all()
             if (not name or record.name == name) and (not source_type or record.source_type == source_type)]
    found.sort(key=lambda item: (-item[0].created_ms, item[0].id))
    return ok(request, page([to_resource(r, rev) for r, rev in found], number, size))


@routes.get("/v1/services/{service_id}")
async def get_service(request: web.Request) -> web.Response:
    record, revision = await _hooks(request).services.get(request.match_info["service_id"])
    return ok(request, to_resource(record, revision))


@routes.put("/v1/services/{service_id}")
async def update_service(request: web.Request) -> web.Response:
    service_id = request.match_info["service_id"]
    hooks = _hooks(request)
    await hooks.services.get(service_id)  # 404 before complaining about the body
    body = decode_json(await request.read(), UpdateService)
    record, revision = await hooks.update_service(service_id, body, context.now_ms())
    return ok(request, {"serviceId": record.id, "revision": revision})


@routes.delete("/v1/services/{service_id}")
async def delete_service(request: web.Request) -> web.Response:
    await _hooks(request).delete_service(request.match_info["service_id"])
    return ok(request)
