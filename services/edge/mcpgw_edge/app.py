"""The edge: its parts built and torn down in one place, and its one HTTP handler (the router)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import unquote

from opentelemetry import trace

from mcpgw import jsonrpc
from mcpgw.contracts import ConfigChanged, RedisKeys, SessionEnded
from mcpgw.runtime import tracing
from mcpgw.runtime.bus import Bus
from mcpgw.runtime.redis import connect_redis
from mcpgw.runtime.stats import Stats
from mcpgw_edge.authn import AuthGate
from mcpgw_edge.context import Edge
from mcpgw_edge.http import EventStream, Request, Response
from mcpgw_edge.mcp.assembly import Assemblies
from mcpgw_edge.mcp.counting import EdgeCounts
from mcpgw_edge.mcp.dispatch import Dispatcher
from mcpgw_edge.mcp.hosted import HostedRelay
from mcpgw_edge.mcp.resumable import RequestStreams
from mcpgw_edge.mcp.sessions import SessionStore
from mcpgw_edge.mcp.streams import StreamHub
from mcpgw_edge.servers import ServerCache, ServerEntry
from mcpgw_edge.settings import EdgeSettings
from mcpgw_edge.telemetry import tracer
from mcpgw_edge.transports import cors, resource_metadata
from mcpgw_edge.transports.gate import Gate
from mcpgw_edge.transports.legacy_sse import LegacySse
from mcpgw_edge.transports.origin import OriginPolicy
from mcpgw_edge.transports.replies import json_response, rpc_error_response
from mcpgw_edge.transports.streamable import StreamableHttp

log = logging.getLogger(__name__)

SERVERS = "/mcp-servers/"
METADATA = resource_metadata.WELL_KNOWN + SERVERS
HEALTHY = json_response(b'{"status":"ok"}')


@contextlib.asynccontextmanager
async def running_edge(settings: EdgeSettings) -> AsyncIterator[Edge]:
    """NATS, Redis, caches and subscriptions of one edge, set up and torn down in pairs."""
    bus = await Bus.connect(settings.nats_url, name="mcpgw-edge", root=settings.subject_root,
                            timeout=settings.request_timeout)
    redis = connect_redis(settings.redis_url, settings.request_timeout)
    hub = StreamHub()

    def tools_changed(dropped: ServerEntry | None, event: ConfigChanged) -> None:
        # Tell the live streams of that server to list tools again.
        for stream in hub.of_server(event.id):
            if stream.tools_changed is not None:
                stream.send(stream.tools_changed)

    servers = ServerCache(bus, settings.request_timeout, tools_changed)
    # The calls the edge answers itself (refusals, an assembly's), counted like toolexec's.
    stats = Stats(redis, RedisKeys(settings.subject_root), settings.stats_flush_interval, settings.stats_window)
    relay = HostedRelay(bus, settings.upstream_timeout)
    sessions = SessionStore(redis, RedisKeys(settings.subject_root), settings.session_ttl,
                            timeout=settings.request_timeout)
    edge = Edge(
        settings=settings,
        bus=bus,
        redis=redis,
        sessions=sessions,
        servers=servers,
        auth=AuthGate(bus, settings.request_timeout, settings.auth_cache_ttl),
        hub=hub,
        dispatcher=Dispatcher(bus, settings.tool_call_timeout, settings.tools_page_size, relay,
                              Assemblies(servers, relay), EdgeCounts(stats)),
        policy=OriginPolicy(settings.host, settings.allowed_origins, settings.allowed_hosts),
        streams=RequestStreams(redis, RedisKeys(settings.subject_root), bus, settings.resume_ttl,
                               settings.request_timeout),
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
    stats.start()
    keepalive = asyncio.get_running_loop().create_task(hub.keepalive(settings.sse_keepalive, sessions.touch))
    try:
        yield edge
    finally:
        keepalive.cancel()
        hub.close_all()
        for sub in subscriptions:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        await sessions.stop()
        await stats.stop()
        await bus.close()
        await redis.aclose()


class EdgeApp:
    """The edge's HTTP handler: routes each request to the transport that answers it."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.streamable = StreamableHttp(edge)
        self.legacy = LegacySse(edge)
        self._gate = Gate(edge)

    async def __call__(self, request: Request) -> Response | EventStream:
        origin = request.headers.get("origin")
        if origin is not None:  # a browser's request: CORS for the origins the policy admits
            return await self._from_browser(request, origin)
        return await self._handle(request)

    async def _handle(self, request: Request) -> Response | EventStream:
        if tracing.enabled():
            return await self._traced(request)
        try:
            return await self._route(request)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return rpc_error_response(500, jsonrpc.INTERNAL_ERROR, "internal error")

    async def _from_browser(self, request: Request, origin: str) -> Response | EventStream:
        admitted = self.edge.policy.origin_ok(origin, request.headers.get("host"))
        if request.method == "OPTIONS" and request.path.startswith((SERVERS, METADATA)):
            if not admitted:
                return rpc_error_response(403, jsonrpc.INVALID_REQUEST, "Forbidden: invalid Origin header")
            return cors.preflight(origin.strip(), request.headers.get("access-control-request-headers"))
        result = await self._handle(request)
        return cors.allow(result, origin.strip()) if admitted else result

    async def _traced(self, request: Request) -> Response | EventStream:
        """The request inside an HTTP SERVER span (semantic conventions' `http.*` and `url.*`),
        continuing the caller's trace when its headers carry one. An event stream's span ends
        when its headers are ready, not when the stream does."""
        route = _route_of(request.path)
        attributes: dict[str, str | int] = {
            "http.request.method": request.method, "url.path": request.path, "url.scheme": request.scheme,
            "network.protocol.name": "http", "network.protocol.version": "1.1"}
        if route:
            attributes["http.route"] = route
        agent = request.header("user-agent")
        if agent:
            attributes["user_agent.original"] = agent
        traceparent = request.header("traceparent")
        parent = None
        if traceparent:
            parent = {"traceparent": traceparent, "tracestate": request.header("tracestate") or ""}
        opened = tracing.start(tracer, f"{request.method} {route}" if route else request.method,
                               trace.SpanKind.SERVER, attributes, parent)
        status = 500
        try:
            result = await self._route(request)
            status = result.status if isinstance(result, Response) else 200
            return result
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return rpc_error_response(500, jsonrpc.INTERNAL_ERROR, "internal error")
        finally:
            opened.span.set_attribute("http.response.status_code", status)
            tracing.end(opened, str(status) if status >= 500 else None)

    async def _route(self, request: Request) -> Response | EventStream:
        path, method = request.path, request.method
        if path.startswith(SERVERS):
            name, sep, tail = path[len(SERVERS):].partition("/")
            if "%" in name:  # rare: decoding only then keeps it off the usual call
                name = unquote(name)
            if name:
                if not sep:
                    if method == "POST":
                        return await self.streamable.post(request, name)
                    if method == "GET":
                        return await self.streamable.get(request, name)
                    if method == "DELETE":
                        return await self.streamable.delete(request, name)
                    return _not_allowed(method, "GET, POST, DELETE")
                if tail == "sse":
                    if method == "GET":
                        return await self.legacy.stream(request, name)
                    return _not_allowed(method, "GET")
                if tail == "message":
                    if method == "POST":
                        return await self.legacy.message(request, name)
                    return _not_allowed(method, "POST")
        elif path == "/healthz":
            return HEALTHY if method == "GET" else _not_allowed(method, "GET")
        elif path.startswith(METADATA):
            name = path[len(METADATA):]
            if name and "/" not in name:
                if method != "GET":
                    return _not_allowed(method, "GET")
                return await self._metadata(request, unquote(name))
        return rpc_error_response(404, jsonrpc.INVALID_REQUEST, "Not Found")

    async def _metadata(self, request: Request, name: str) -> Response:
        entry = await self._gate.routed(request, name)
        if isinstance(entry, Response):
            return entry
        # Browser-based clients fetch this cross-origin before they have any credential.
        return json_response(resource_metadata.document(request, self.edge.settings.public_url, entry),
                             headers=[("Access-Control-Allow-Origin", "*")])

    async def close(self) -> None:
        await self.legacy.close()
        await self.streamable.close()


def _route_of(path: str) -> str:
    """The route template of a path (`/mcp-servers/{name}`): low-cardinality, for span names."""
    if path.startswith(SERVERS):
        tail = path[len(SERVERS):].partition("/")[2]
        return SERVERS + "{name}" + (f"/{tail}" if tail in ("sse", "message") else "")
    if path.startswith(METADATA):
        return METADATA + "{name}"
    return path if path == "/healthz" else ""


def _not_allowed(method: str, allow: str) -> Response:
    return rpc_error_response(405, jsonrpc.INVALID_REQUEST, f"Method Not Allowed: {method}",
                              headers=[("Allow", allow)])
