"""Serving an aiohttp app factory's application on a host and port (0: any free port)."""

from __future__ import annotations

from typing import Any

from aiohttp import web


async def serve_app(app: web.Application, host: str, port: int, **runner_options: Any) -> tuple[web.AppRunner, int]:
    """Start `app` (its cleanup contexts run here) and return the runner and the bound port."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        # A port that is taken must not leave NATS connections and the like behind.
        await runner.cleanup()
        raise
    return runner, int(runner.addresses[0][1])
