"""The domain routes of the admin API (reference §8): `/v1/domains` and `/v1/domains/{domainId}`."""

from __future__ import annotations

from aiohttp import web

from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.http.paging import page, page_params
from mcpgw_registry.resources.domains import CreateDomain, UpdateDomain, to_resource
from mcpgw_registry.resources.validation import decode_json
from mcpgw_registry.stores.domain_users import DomainUsers

routes = web.RouteTableDef()


def _users(request: web.Request) -> DomainUsers:
    return context.registry(request).hooks.domain_users


@routes.post("/v1/domains")
async def create_domain(request: web.Request) -> web.Response:
    body = decode_json(await request.read(), CreateDomain)
    record = await _users(request).domains.create(body, context.now_ms())
    return ok(request, {"domainId": record.id})


@routes.get("/v1/domains")
async def list_domains(request: web.Request) -> web.Response:
    number, size = page_params(request.query)
    name_like = context.name_like(request.query)
    found = [(r, rev) for r, rev in await _users(request).domains.all() if not name_like or name_like in r.name]
    found.sort(key=lambda item: (-item[0].created_ms, item[0].id))
    return ok(request, page([to_resource(r, rev) for r, rev in found], number, size))


@routes.get("/v1/domains/{domain_id}")
async def get_domain(request: web.Request) -> web.Response:
    users = _users(request)
    record, revision = await users.domains.get(request.match_info["domain_id"])
    user = await users.user(record.id)
    servers = [{"mcpServerId": user.id, "name": user.name}] if user is not None else []
    return ok(request, to_resource(record, revision, servers))


@routes.put("/v1/domains/{domain_id}")
async def update_domain(request: web.Request) -> web.Response:
    domain_id = request.match_info["domain_id"]
    users = _users(request)
    await users.domains.get(domain_id)  # 404 before complaining about the body
    body = decode_json(await request.read(), UpdateDomain)
    record, revision = await users.domains.update(domain_id, body, context.now_ms())
    return ok(request, {"domainId": record.id, "revision": revision})


@routes.delete("/v1/domains/{domain_id}")
async def delete_domain(request: web.Request) -> web.Response:
    await _users(request).delete_domain(request.match_info["domain_id"])
    return ok(request)
