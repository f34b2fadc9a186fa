"""The edge's aiohttp application: factory, routes and cleanup contexts."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.typedefs import Handler

from mcpgw.contracts import ConfigChanged, RedisKeys, SessionEnded
from mcpgw.runtime.bus import Bus
from mcpgw_edge import jsonrpc, resource_metadata
from mcpgw_edge.authn import AuthGate
from mcpgw_edge.context import Edge
from mcpgw_edge.origin import OriginPolicy
from mcpgw_edge.protocol import Dispatcher
from mcpgw_edge.servers import ServerCache, ServerEntry
from mcpgw_edge.sessions import SessionStore
from mcpgw_edge.settings import EdgeSettings
from mcpgw_edge.sse import LegacySse
from mcpgw_edge.streamable import StreamableHttp
from mcpgw_edge.streams import StreamHub

log = logging.getLogger(__name__)

EDGE_KEY = web.AppKey("edge", Edge)
LIST_CHANGED = jsonrpc.notification("notifications/tools/list_changed")


async def _edge_context(app: web.Application) -> AsyncIterator[None]:
    settings: EdgeSettings = app[SETTINGS_KEY]
    bus = await Bus.connect(settings.nats_url, name="mcpgw-edge", root=settings.subject_root,
                            timeout=settings.request_timeout)
    redis = aioredis.from_url(settings.redis_url, socket_timeout=settings.request_timeout,
                              socket_connect_timeout=settings.request_timeout)
    hub = StreamHub()

    def tools_changed(dropped: ServerEntry | None, event: ConfigChanged) -> None:
        # Tell the live streams of that server to list tools again.
        for stream in hub.of_server(event.id):
            stream.send(LIST_CHANGED)

    sessions = SessionStore(redis, RedisKeys(settings.subject_root), settings.session_ttl,
                            timeout=settings.request_timeout)
    edge = Edge(
        settings=settings,
        bus=bus,
        redis=redis,
        sessions=sessions,
        servers=ServerCache(bus, settings.request_timeout, tools_changed),
        auth=AuthGate(bus, settings.request_timeout, settings.auth_cache_ttl),
        hub=hub,
        dispatcher=Dispatcher(bus, settings.tool_call_timeout, settings.tools_page_size),
        policy=OriginPolicy(settings.host, settings.allowed_origins, settings.allowed_hosts),
    )

    async def on_config(event: ConfigChanged) -> None:
        await edge.servers.on_event(event)
        await edge.auth.on_event(event)

    async def on_session_ended(event: SessionEnded) -> None:
        sessions.forget(event.session_id)
        hub.close(event.session_id)

    subscriptions = [
        await bus.subscribe(bus.subjects.events_server_all, ConfigChanged, on_config),
        await bus.subscribe(bus.subjects.events_consumer_all, ConfigChanged, on_config),
        await bus.subscribe(bus.subjects.events_grant_all, ConfigChanged, on_config),
        await bus.subscribe(bus.subjects.events_session_all, SessionEnded, on_session_ended),
    ]
    sessions.start()
    app[EDGE_KEY] = edge
    streamable = StreamableHttp(edge)
    legacy = LegacySse(edge)
    app[HANDLERS_KEY] = (streamable, legacy)
    yield
    hub.close_all()
    await legacy.close()
    for sub in subscriptions:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    await sessions.stop()
    await bus.close()
    await redis.aclose()


SETTINGS_KEY = web.AppKey("settings", EdgeSettings)
HANDLERS_KEY = web.AppKey("handlers", tuple)


def _streamable(app: web.Application) -> StreamableHttp:
    return app[HANDLERS_KEY][0]  # type: ignore[no-any-return]


def _delegate(transport: int, method: str) -> Handler:
    """A route handler calling `method` of the transport object the cleanup context built."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return await getattr(request.app[HANDLERS_KEY][transport], method)(request)  # type: ignore[no-any-return]

    return handler


async def _resource_metadata(request: web.Request) -> web.StreamResponse:
    edge = request.app[EDGE_KEY]
    gate = _streamable(request.app).gate
    entry = await gate.server(request)
    if isinstance(entry, web.Response):
        return entry
    # Browser-based clients fetch this cross-origin before they have any credential.
    return web.Response(body=resource_metadata.document(request, edge.settings.public_url, entry),
                        content_type="application/json", headers={"Access-Control-Allow-Origin": "*"})


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@web.middleware
async def _no_tracebacks(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return web.Response(status=exc.status, content_type="application/json", headers=_allow(exc),
                                body=jsonrpc.error(None, jsonrpc.INVALID_REQUEST, exc.reason))
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.Response(status=500, content_type="application/json",
                            body=jsonrpc.error(None, jsonrpc.INTERNAL_ERROR, "internal error"))


def _allow(exc: web.HTTPException) -> dict[str, str]:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else {}


async def _end_streams(app: web.Application) -> None:
    """on_shutdown: end every SSE stream so the server does not wait out its shutdown timeout."""
    if EDGE_KEY in app:
        app[EDGE_KEY].hub.close_all()


def create_app(settings: EdgeSettings) -> web.Application:
    app = web.Application(middlewares=[_no_tracebacks], client_max_size=settings.max_body_bytes)
    app[SETTINGS_KEY] = settings
    app.cleanup_ctx.append(_edge_context)
    app.on_shutdown.append(_end_streams)
    app.router.add_get("/healthz", _healthz)
    base = "/mcp-servers/{name}"
    app.router.add_post(base, _delegate(0, "post"))
    app.router.add_get(base, _delegate(0, "get"), allow_head=False)
    app.router.add_delete(base, _delegate(0, "delete"))
    app.router.add_route("*", base, _delegate(0, "not_allowed"))
    app.router.add_get(base + "/sse", _delegate(1, "stream"), allow_head=False)
    app.router.add_post(base + "/message", _delegate(1, "message"))
    app.router.add_get(resource_metadata.WELL_KNOWN + base, _resource_metadata)
    return app
