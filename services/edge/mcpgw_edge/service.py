"""The edge process: its parts (`running_edge`) behind the HTTP server adapter, on its port."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from prometheus_client.core import Metric

from mcpgw.runtime.metrics import cache_families, gauge
from mcpgw_edge.app import EdgeApp, running_edge
from mcpgw_edge.context import Edge
from mcpgw_edge.server.limits import Limits
from mcpgw_edge.server.listener import HttpServer
from mcpgw_edge.settings import EdgeSettings

log = logging.getLogger(__name__)


def limits(settings: EdgeSettings) -> Limits:
    return Limits(max_header_bytes=settings.max_header_bytes, max_body_bytes=settings.max_body_bytes,
                  request_timeout=settings.client_io_timeout, keepalive_timeout=settings.keepalive_timeout,
                  write_timeout=settings.client_io_timeout)


class EdgeService:
    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.port = settings.port
        self._stack: contextlib.AsyncExitStack | None = None
        self._server: HttpServer | None = None
        self._app: EdgeApp | None = None

    @property
    def edge(self) -> Edge:
        assert self._app is not None, "edge not started"
        return self._app.edge

    async def start(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            edge = await stack.enter_async_context(running_edge(self.settings))
            self._app = EdgeApp(edge)
            server = HttpServer(self._app, self.settings.host, self.settings.port, limits(self.settings),
                                reuse_port=self.settings.reuse_port)
            await server.start()  # a port that is taken raises here, and the stack undoes the rest
            self._server, self.port = server, server.port
            self._stack = stack.pop_all()
        log.info("edge listening on http://%s:%d", self.settings.host, self.port)

    def metrics(self) -> Iterator[Metric]:
        edge = self.edge
        yield from edge.bus.metrics()
        yield from edge.dispatcher.metrics.families()
        yield gauge("mcpgw_edge_sessions_open",
                    "Handshake-era sessions this edge holds, confirmed or used within the session TTL",
                    edge.sessions.open_count)
        yield gauge("mcpgw_edge_streams_open", "Event streams this edge holds open (GET streams, legacy SSE, "
                    "subscriptions)", len(edge.hub))
        servers, auth = edge.servers, edge.auth
        yield from cache_families([("edge.servers", servers.hits, servers.misses, servers.invalidations),
                                   ("edge.auth", auth.hits, auth.misses, auth.invalidations)])

    async def stop(self) -> None:
        if self._app is not None:
            # End every SSE stream so that their handlers finish, then the answers still being made.
            self._app.edge.hub.close_all()
        if self._server is not None:
            await self._server.stop()
            self._server = None
        if self._app is not None:
            await self._app.close()
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
