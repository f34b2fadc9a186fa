"""A real aiohttp JWKS endpoint on loopback, as an identity provider publishes its keys."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PATH = "/.well-known/jwks.json"


@dataclass
class JwksServer:
    url: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    cache_control: str | None = None
    body: bytes | None = None
    delay: float = 0.0
    hits: int = 0
    # Requests being answered now, and the most there ever were at once.
    in_flight: int = 0
    most_in_flight: int = 0


def jwks_url(port: int) -> str:
    return f"http://127.0.0.1:{port}{PATH}"


@asynccontextmanager
async def running_idp(server: JwksServer | None = None, port: int = 0) -> AsyncIterator[JwksServer]:
    """Serve `server` (a new one by default) on `port` (a free one by default) until the block ends."""
    state = server or JwksServer()

    async def serve(request: web.Request) -> web.Response:
        state.hits += 1
        state.in_flight += 1
        state.most_in_flight = max(state.most_in_flight, state.in_flight)
        try:
            if state.delay:
                await asyncio.sleep(state.delay)  # a slow IdP, not a wait for an event
            headers = {"Cache-Control": state.cache_control} if state.cache_control else {}
            body = state.body if state.body is not None else json.dumps({"keys": state.keys}).encode()
            return web.Response(body=body, status=state.status, headers=headers, content_type="application/json")
        finally:
            state.in_flight -= 1

    app = web.Application()
    app.router.add_get(PATH, serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    state.url = jwks_url(runner.addresses[0][1])
    try:
        yield state
    finally:
        await runner.cleanup()
