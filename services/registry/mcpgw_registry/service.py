"""The registry process: the admin API on its own port, plus NATS lookups and change events."""

from __future__ import annotations

import logging

from aiohttp import web

from mcpgw_registry.admin_auth import check_settings
from mcpgw_registry.app import create_app
from mcpgw_registry.settings import RegistrySettings

log = logging.getLogger(__name__)


class RegistryService:
    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings
        # The bound port once started (settings.port may be 0: any free port).
        self.port = settings.port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        check_settings(self.settings.admin_token, self.settings.host)
        runner = web.AppRunner(create_app(self.settings))
        # Runs the app's cleanup context: NATS connect, KV bucket, NATS handlers.
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.host, self.settings.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        log.info("registry admin API on http://%s:%d", self.settings.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
