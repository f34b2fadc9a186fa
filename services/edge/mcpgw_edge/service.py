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
        self._runner = web.AppRunner(create_app(self.settings), access_log=None, shutdown_timeout=5)
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
