"""The demo REST backend the launcher puts behind the gateway: a tiny pet store plus a few probes.

    python demo/backend.py [--host 127.0.0.1] [--port 0]

Prints `demo-backend ready on http://HOST:PORT` once it accepts connections (port 0 picks a free one).

Endpoints:
  GET  /pets?limit=&tag=   list pets             GET  /echo  what the gateway sent (method, path, query, headers)
  GET  /pets/{id}?details= one pet (404 if none)  GET  /fail  always 500 with a JSON error
  POST /pets (JSON body)   add a pet (201)        GET  /time  the backend's clock
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

SEED: list[dict[str, Any]] = [
    {"id": 1, "name": "Rex", "tag": "dog", "age": 3},
    {"id": 2, "name": "Tom", "tag": "cat", "age": 5},
    {"id": 3, "name": "Nemo", "tag": "fish", "age": 1},
]
MAX_BODY = 64 * 1024


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f'{{"error": "{name} must be an integer"}}',
                                 content_type="application/json") from None


def build_app() -> web.Application:
    pets: dict[int, dict[str, Any]] = {p["id"]: dict(p) for p in SEED}

    async def list_pets(request: web.Request) -> web.Response:
        limit = _int(request.query.get("limit"), "limit", 100)
        tag = request.query.get("tag")
        found = [p for p in pets.values() if not tag or p.get("tag") == tag]
        return web.json_response({"pets": found[:max(0, limit)], "total": len(found)})

    async def get_pet(request: web.Request) -> web.Response:
        pet_id = _int(request.match_info["id"], "id", 0)
        pet = pets.get(pet_id)
        if pet is None:
            return _error(404, f"no pet with id {pet_id}")
        if request.query.get("details") in ("true", "1"):
            return web.json_response({**pet, "owner": "demo", "vaccinated": pet["id"] % 2 == 1})
        return web.json_response(pet)

    async def add_pet(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _error(413, "body too large")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body must be JSON")
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            return _error(400, "name is required")
        pet_id = max(pets, default=0) + 1
        pet = {"id": pet_id, "name": body["name"], "tag": body.get("tag") or ""}
        if isinstance(body.get("age"), int):
            pet["age"] = body["age"]
        pets[pet_id] = pet
        return web.json_response(pet, status=201)

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": dict(request.headers),
            "body": (await request.text())[:MAX_BODY] if request.body_exists else None,
        })

    async def fail(request: web.Request) -> web.Response:
        return _error(500, "the demo backend fails on purpose")

    async def now(request: web.Request) -> web.Response:
        return web.json_response({"utc": datetime.now(UTC).isoformat(timespec="seconds"), "epoch": int(time.time())})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/pets", list_pets)
    app.router.add_post("/pets", add_pet)
    app.router.add_get("/pets/{id}", get_pet)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/fail", fail)
    app.router.add_get("/time", now)
    return app


async def serve(host: str, port: int) -> None:
    runner = web.AppRunner(build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"demo-backend ready on http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mcpgw demo REST backend")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port))
    except OSError as exc:
        print(f"demo-backend: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:  # before the signal handlers were installed
        pass


if __name__ == "__main__":
    main()
