"""The benchmark's backend: a trivial JSON endpoint, the same one called directly and via the gateway."""

from __future__ import annotations

import sys

import uvloop
from aiohttp import web

BODY = b'{"id": 1, "name": "widget", "price": 9.99, "tags": ["a", "b"]}'


async def item(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


def main() -> None:
    port = int(sys.argv[1])
    app = web.Application()
    app.router.add_get("/items/{id}", item)
    print("bench-backend ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
