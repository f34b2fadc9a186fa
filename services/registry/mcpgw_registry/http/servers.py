"""The MCP server routes of the admin API: `/v1/mcp-servers`, a server's tools document, and `/healthz`."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid
from mcpgw_registry.http import context
from mcpgw_registry.http.envelope import ok
from mcpgw_registry.http.paging import choices, page, page_params
from mcpgw_registry.resources.assembly import status
from mcpgw_registry.resources.assembly.tool_names import REPORT_TIMEOUT, ToolNames
from mcpgw_registry.resources.domains import DomainRecord
from mcpgw_registry.resources.domains import info as domain_info
from mcpgw_registry.resources.servers.model import (
    CREATE_FROM_TYPES,
    DEPLOY_STATUSES,
    SERVER_TYPES,
    CreateServer,
    McpServerConfig,
    ServerRecord,
    UpdateServer,
)
from mcpgw_registry.resources.servers.view import Publication, to_resource
from mcpgw_registry.resources.tools.document import ToolsFormat, minimal_document
from mcpgw_registry.resources.tools.secrets import restore
from mcpgw_registry.resources.validation import decode_json
from mcpgw_registry.stores import drafts as drafts_store
from mcpgw_registry.stores import server_edits
from mcpgw_registry.stores.servers import SPEC_FIELD, ServerRepository

TOOLS_TYPES: dict[str, ToolsFormat] = {
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "application/json": "json",
}

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


async def _domains(request: web.Request, records: list[ServerRecord]) -> dict[str, DomainRecord]:
    """The domains these servers name, by id (one list read for a listing)."""
    wanted = {d for record in records for d in record.domain_ids}
    if not wanted:
        return {}
    domains = context.registry(request).hooks.domain_users.domains
    if len(wanted) == 1:
        found = await domains.find(next(iter(wanted)))
        return {found[0].id: found[0]} if found is not None else {}
    return {record.id: record for record, _ in await domains.all() if record.id in wanted}


async def _server_view(servers: ServerRepository, record: ServerRecord, revision: int, names: ToolNames,
                       domains: dict[str, DomainRecord], publication: Publication, *,
                       listing: bool = False) -> dict[str, Any]:
    try:
        # Backend credentials are write-only: readers get them masked (see resources.tools.secrets).
        text = await servers.readable_tools_text(record)
    except McpgwError as exc:
        if not listing or exc.code is not ErrorCode.INTERNAL:
            raise
        # One server whose stored tools went missing must not hide all the others; reading it
        # alone still says what is wrong.
        log.error("listing MCP server %s without its tools: %s", record.id, exc.message)
        text = ""
    view = to_resource(record, revision, text, listing=listing, publication=publication)
    view["domainInfos"] = [domain_info(domains[d]) for d in record.domain_ids if d in domains]
    if record.kind == "assembly":
        # How each source stands now: sources may change or go after the assembly was written.
        view["assembledSources"] = await status.report(record, servers, names)
    return view


def _tool_names(request: web.Request) -> ToolNames:
    """Source tool names, each looked up once for the whole request."""
    registry = context.registry(request)
    return ToolNames(registry.servers, registry.bus, REPORT_TIMEOUT)


# health


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    if not context.registry(request).bus.nc.is_connected:
        raise McpgwError(ErrorCode.NO_RESPONDERS, "nats: not connected")
    return ok(request, {"status": "ok"})


# MCP servers


@routes.post("/v1/mcp-servers")
async def create_server(request: web.Request) -> web.Response:
    body = decode_json(await request.read(), CreateServer)
    config = body.mcp_server_config
    if config is not None and config.mcp_server_spec:
        # A "******" here has nothing stored behind it: restore() answers 400 naming the field.
        config.mcp_server_spec = restore(config.mcp_server_spec, "yaml", "", "yaml", SPEC_FIELD)
    record, _, plan = await context.registry(request).servers.create(body, context.now_ms())
    data: dict[str, Any] = {"mcpServerId": record.id, "name": record.name}
    if plan is not None:  # created from mcpServerConfig.swaggerConfig
        report = plan.report()
        data["import"] = {k: report[k] for k in ("tools", "skipped", "degraded", "operations", "warnings")}
    return ok(request, data)


@routes.get("/v1/mcp-servers")
async def list_servers(request: web.Request) -> web.Response:
    query = request.query
    number, size = page_params(query)
    name_like = context.name_like(query)
    types = choices(query, "type", SERVER_TYPES)
    sources = choices(query, "createFromTypes", CREATE_FROM_TYPES)
    statuses = choices(query, "deployStatuses", DEPLOY_STATUSES)
    servers = context.registry(request).servers
    # What the operator edits (the draft, if any) beside how its published record stands.
    drafts, failures = await servers.drafts.all(), await servers.drafts.failures()
    lasts = await servers.revisions.lasts()
    shown = []
    for live, revision in await servers.all():
        draft = drafts.get(live.id)
        record = draft[0] if draft is not None else live
        publication = drafts_store.publication(live, draft is not None, failures.get(live.id), lasts.get(live.id))
        if ((not name_like or name_like in record.name)
                and (types is None or record.type in types)
                and (sources is None or record.create_from_type in sources)
                and (statuses is None or publication.status in statuses)):
            shown.append((record, revision, publication))
    # Newest first, like the console; the id breaks ties so pages are stable.
    shown.sort(key=lambda item: (-item[0].created_ms, item[0].id))
    names = _tool_names(request)
    domains = await _domains(request, [record for record, _, _ in shown])
    items = [await _server_view(servers, record, revision, names, domains, publication, listing=True)
             for record, revision, publication in shown]
    return ok(request, page(items, number, size))


@routes.get("/v1/mcp-servers/{server_id}")
async def get_server(request: web.Request) -> web.Response:
    servers = context.registry(request).servers
    server_id = request.match_info["server_id"]
    editing = await servers.editing(server_id)
    publication = drafts_store.publication(editing.live, editing.draft_revision is not None,
                                           await servers.drafts.failure(server_id),
                                           await servers.revisions.last(server_id))
    return ok(request, await _server_view(servers, editing.record, editing.revision, _tool_names(request),
                                          await _domains(request, [editing.record]), publication))


@routes.put("/v1/mcp-servers/{server_id}")
async def update_server(request: web.Request) -> web.Response:
    server_id = request.match_info["server_id"]
    servers = context.registry(request).servers
    # 404 before complaining about the body; a `******` stands for what the operator read (the draft).
    stored = (await servers.editing(server_id)).record
    body = decode_json(await request.read(), UpdateServer)
    config = body.mcp_server_config
    if isinstance(config, McpServerConfig) and config.mcp_server_spec:
        config.mcp_server_spec = await servers.restore_credentials(stored, config.mcp_server_spec, "yaml",
                                                                   SPEC_FIELD)
    record, revision = await server_edits.update(servers, server_id, body, context.now_ms())
    return ok(request, {"mcpServerId": record.id, "revision": revision, "published": body.deploy is not False})


@routes.delete("/v1/mcp-servers/{server_id}")
async def delete_server(request: web.Request) -> web.Response:
    server_id = request.match_info["server_id"]
    # Its grants, links and credentials go with it (see stores.servers).
    await context.registry(request).servers.delete(server_id)
    return ok(request)


@routes.get("/v1/mcp-servers/{server_id}/tools")
async def get_tools(request: web.Request) -> web.Response:
    servers = context.registry(request).servers
    record = (await servers.editing(request.match_info["server_id"])).record
    text = await servers.readable_tools_text(record) or minimal_document(record.name)
    return web.Response(body=text.encode(), content_type="application/yaml")


@routes.put("/v1/mcp-servers/{server_id}/tools")
async def put_tools(request: web.Request) -> web.Response:
    server_id = request.match_info["server_id"]
    servers = context.registry(request).servers
    stored = (await servers.editing(server_id)).record
    publish = context.deploy_param(request)
    fmt = TOOLS_TYPES.get(request.content_type)
    if fmt is None:
        raise McpgwError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                         f"Content-Type: {request.content_type} is not accepted; send the tools document as "
                         "application/yaml (or application/x-yaml, text/yaml, application/json)")
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("body", "must be UTF-8 text") from None
    text = await servers.restore_credentials(stored, text, fmt)
    record, revision, names, not_kept = await server_edits.put_tools(servers, server_id, text, fmt, context.now_ms(),
                                                                     publish=publish)
    data: dict[str, Any] = {"mcpServerId": record.id, "revision": revision, "tools": names, "published": publish}
    if record.imported is not None:
        # Edits a re-import will replace (only name, description, disabled and argument defaults/hidden stay).
        data["notKept"] = not_kept
    return ok(request, data)


@routes.get("/v1/mcp-servers/{server_id}/tool-names")
async def get_tool_names(request: web.Request) -> web.Response:
    """The names of the tools a server offers, whatever its kind: what per-tool grants pick from.

    A hosted server's come from its upstream (hosting is asked briefly), an assembly's from its
    sources; `tools` is null when they cannot be known now (no hosting worker, upstream down).
    """
    registry = context.registry(request)
    record, revision = await registry.servers.get(request.match_info["server_id"])
    names = await ToolNames(registry.servers, registry.bus, REPORT_TIMEOUT).exposed(record, revision)
    return ok(request, {"mcpServerId": record.id, "tools": names})
