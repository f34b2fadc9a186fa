"""Real aiohttp backends for tests: they record exactly what the gateway sent them."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Backend:
    url: str
    received: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def last(self) -> Received:
        return self.received[-1]


def _app(backend: Backend) -> web.Application:
    async def record(request: web.Request) -> None:
        backend.received.append(Received(
            method=request.method,
            path=request.path,
            raw_path=request.raw_path,
            query=list(request.query.items()),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.read(),
        ))

    async def get_pet(request: web.Request) -> web.Response:
        await record(request)
        pet_id = request.match_info["id"]
        return web.json_response({"id": pet_id, "name": f"pet-{pet_id}", "tag": request.query.get("tag")})

    async def add_pet(request: web.Request) -> web.Response:
        await record(request)
        data: Any = await request.json() if request.body_exists else {}
        return web.json_response({"id": 7, **data}, status=201)

    async def echo(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"method": request.method, "path": request.path})

    async def fail(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"error": "database on fire"}, status=500)

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        await backend.release.wait()
        return web.json_response({"slow": True})

    app = web.Application()
    app.router.add_get("/pets/{id}", get_pet)
    app.router.add_post("/pets", add_pet)
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/echo/{tail:.*}", echo)  # any path below: for tools whose paths vary
    app.router.add_route("*", "/fail", fail)
    app.router.add_get("/slow", slow)
    return app


@asynccontextmanager
async def serving(app: web.Application, ssl_context: ssl.SSLContext | None = None,
                  shutdown_timeout: float = 0.1, handler_cancellation: bool = False) -> AsyncIterator[str]:
    """`app` on a free loopback port, until the block exits: its origin (`http(s)://127.0.0.1:N`).

    A short shutdown grace: test servers' streams never end on their own. With
    `handler_cancellation`, a client that goes away cancels its handler (what a test of
    cancellation watches for)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=shutdown_timeout,
                           handler_cancellation=handler_cancellation)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def run_backend() -> AsyncIterator[Backend]:
    backend = Backend(url="")
    runner = web.AppRunner(_app(backend), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    backend.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield backend
    finally:
        backend.release.set()
        await runner.cleanup()


PETSTORE_YAML = """\
server:
  name: petstore
  config:
    baseUrl: {base}
tools:
- name: get_pet
  description: Find a pet by id
  args:
  - name: id
    type: integer
    required: true
    position: path
    description: the pet's id
  - name: tag
    type: string
    position: query
  - name: X-Request-Tag
    type: string
    position: header
    x-mcp-header: X-Request-Tag
  requestTemplate:
    url: "{{{{.config.baseUrl}}}}/pets/{{id}}"
    method: GET
- name: add_pet
  description: Add a pet
  args:
  - name: name
    type: string
    required: true
    position: body
  - name: tag
    type: string
    position: body
  requestTemplate:
    url: "{{{{.config.baseUrl}}}}/pets"
    method: POST
  outputSchema:
    type: object
    properties:
      id: {{type: integer}}
      name: {{type: string}}
- name: broken
  description: Always fails
  requestTemplate:
    url: "{{{{.config.baseUrl}}}}/fail"
- name: slow
  description: Waits until the test releases it
  requestTemplate:
    url: "{{{{.config.baseUrl}}}}/slow"
"""


def petstore_yaml(base: str) -> str:
    return PETSTORE_YAML.format(base=base)
