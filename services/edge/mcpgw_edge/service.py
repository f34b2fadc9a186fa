"""The edge process: the aiohttp app on its port, started and stopped by the shared runtime."""

from __future__ import annotations

import logging

from aiohttp import web

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
        self._runner = web.AppRunner(create_app(self.settings), access_log=None, shutdown_timeout=5,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port, reuse_address=True)
        await site.start()
        if self._runner.addresses:  # port 0: learn the one the OS chose
            self.port = int(self._runner.addresses[0][1])
        log.info("edge listening on http://%s:%d", self.settings.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
