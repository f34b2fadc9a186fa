"""The registry process: the admin API on its own port, plus NATS lookups and change events."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from aiohttp import web
from prometheus_client.core import Metric

from mcpgw.runtime.web import serve_app
from mcpgw_registry.app import create_app
from mcpgw_registry.http.admin_auth import check_settings
from mcpgw_registry.http.context import REGISTRY
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
        # Runs the app's cleanup context: NATS connect, KV bucket, NATS handlers.
        self._runner, self.port = await serve_app(create_app(self.settings), self.settings.host, self.settings.port)
        log.info("registry admin API on http://%s:%d", self.settings.host, self.port)

    def metrics(self) -> Iterator[Metric]:
        """The NATS lookups it answered and made (the admin API's own requests are not counted yet)."""
        if self._runner is not None:
            yield from self._runner.app[REGISTRY].bus.metrics()

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
