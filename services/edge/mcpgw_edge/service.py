"""The edge process: the aiohttp app on its port, started and stopped by the shared runtime."""

from __future__ import annotations

import logging

from aiohttp import web

from mcpgw.runtime.web import serve_app
from mcpgw_edge.app import create_app
from mcpgw_edge.settings import EdgeSettings

log = logging.getLogger(__name__)


class EdgeService:
    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.port = settings.port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        # handler_cancellation: a client that goes away cancels its handler at once, so an SSE
        # stream (and its legacy session) ends with the connection, not at the next keep-alive.
        self._runner, self.port = await serve_app(create_app(self.settings), self.settings.host, self.settings.port,
                                                  access_log=None, shutdown_timeout=5, handler_cancellation=True)
        log.info("edge listening on http://%s:%d", self.settings.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
