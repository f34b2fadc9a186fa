"""The edge behind other HTTP servers, for the comparison in bench/servers.py (not shipped).

    python bench/edge_servers.py mcpgw-http1|aiohttp-app|aiohttp-lowlevel|uvicorn|granian-asgi|granian-rsgi

Each runs the edge's own parts and handler (`running_edge`, `EdgeApp`) behind a thin adapter onto
the transport seam, so the HTTP server is the only thing that differs. mcpgw-http1 is the
edge's own server (mcpgw_edge.server), the one it ships. The others live here, not in the edge,
because they lost (bench/README.md) and every line of HTTP handling in the product is a line to
secure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterable
from typing import Any

from granian_rsgi import GranianServer
from mcpgw_edge.app import EdgeApp, running_edge
from mcpgw_edge.http import BodyTooLarge, ClientGone, EventStream, Request, Response
from mcpgw_edge.server.listener import HttpServer
from mcpgw_edge.settings import load

from mcpgw.runtime.service import READY_LINE, configure_logging, tune_gc

# ---- aiohttp -------------------------------------------------------------------------------


def _aiohttp_handler(app: EdgeApp) -> Any:
    from aiohttp import web

    async def handle(req: web.BaseRequest) -> web.StreamResponse:
        async def read(limit: int) -> bytes:
            body = await req.content.read(limit + 1)
            if len(body) > limit:
                raise BodyTooLarge
            return body

        request = Request(req.method, req.raw_path.partition("?")[0], req.query_string,
                          _LowerHeaders(req.headers), read, req.scheme)
        result = await app(request)
        if isinstance(result, Response):
            return web.Response(status=result.status, body=result.body, headers=result.headers)
        response = web.StreamResponse(headers=result.headers)
        response.enable_chunked_encoding()
        await response.prepare(req)

        class Sink:
            def offer(self, chunk: bytes) -> bool:
                return False  # no cheap non-blocking write here: the pump writes pings

            async def send(self, chunk: bytes) -> None:
                try:
                    await response.write(chunk)
                except ConnectionError as exc:
                    raise ClientGone(str(exc)) from None

        await result.run(Sink())
        return response

    return handle


class _LowerHeaders:
    """aiohttp's CIMultiDict already matches names case-insensitively."""

    def __init__(self, headers: Any) -> None:
        self._headers = headers

    def get(self, name: str, default: None = None, /) -> str | None:
        value: str | None = self._headers.get(name)
        return value

    def items(self) -> Iterable[tuple[str, str]]:
        return [(name.lower(), value) for name, value in self._headers.items()]


async def _serve_aiohttp(app: EdgeApp, host: str, port: int, lowlevel: bool) -> AsyncIterator[None]:
    from aiohttp import web

    handle = _aiohttp_handler(app)
    if lowlevel:
        server = web.Server(handle, access_log=None, handler_cancellation=True)
        listener = await asyncio.get_running_loop().create_server(server, host, port)
        yield
        listener.close()
        await server.shutdown(1)
        return
    application = web.Application()
    application.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(application, access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    yield
    await runner.cleanup()


# ---- ASGI (uvicorn, Granian's ASGI interface) ------------------------------------------------


class AsgiApp:
    def __init__(self, app: EdgeApp) -> None:
        self._app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}

        async def read(limit: int) -> bytes:
            chunks, size = [], 0
            while True:
                message = await receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge
                chunks.append(chunk)
                if not message.get("more_body"):
                    return b"".join(chunks)

        request = Request(scope["method"], scope.get("raw_path", b"").decode("latin-1") or scope["path"],
                          scope["query_string"].decode("latin-1"), headers, read, scope["scheme"])
        result = await self._app(request)
        if isinstance(result, Response):
            await send({"type": "http.response.start", "status": result.status,
                        "headers": [(k.encode(), v.encode()) for k, v in result.headers]})
            await send({"type": "http.response.body", "body": result.body})
            return
        await self._stream(result, receive, send)

    @staticmethod
    async def _stream(result: EventStream, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(k.encode(), v.encode()) for k, v in result.headers]})

        class Sink:
            def offer(self, chunk: bytes) -> bool:
                return False  # no cheap non-blocking write here: the pump writes pings

            async def send(self, chunk: bytes) -> None:
                try:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except OSError as exc:
                    raise ClientGone(str(exc)) from None

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        run = asyncio.ensure_future(result.run(Sink()))
        gone = asyncio.ensure_future(disconnected())
        await asyncio.wait((run, gone), return_when=asyncio.FIRST_COMPLETED)
        for task in (gone, run):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b""})


async def _serve_uvicorn(app: EdgeApp, host: str, port: int) -> AsyncIterator[None]:
    import uvicorn

    config = uvicorn.Config(AsgiApp(app), host=host, port=port, http="httptools", loop="none", lifespan="off",
                            access_log=False, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, no event
        await asyncio.sleep(0.05)
    yield
    server.should_exit = True
    await task


async def _serve_granian_asgi(app: EdgeApp, host: str, port: int) -> AsyncIterator[None]:
    from granian.constants import Interfaces
    from granian.server.embed import Server

    server = Server(AsgiApp(app), address=host, port=port, interface=Interfaces.ASGINL, log_enabled=False,
                    backpressure=1 << 20)
    task = asyncio.get_running_loop().create_task(server.serve())
    await asyncio.sleep(0.5)  # the embedded server has no readiness hook; the bench retries anyway
    yield
    server.signal_handler_interrupt()  # type: ignore[no-untyped-call]
    await task


async def _serve_granian_rsgi(app: EdgeApp, host: str, port: int) -> AsyncIterator[None]:
    server = GranianServer(app, host, port)
    server.start()
    yield
    server.stop()


async def _serve_mcpgw(app: EdgeApp, host: str, port: int) -> AsyncIterator[None]:
    server = HttpServer(app, host, port)
    await server.start()
    yield
    await server.stop()


SERVERS = {
    "mcpgw-http1": _serve_mcpgw,
    "aiohttp-app": lambda app, host, port: _serve_aiohttp(app, host, port, lowlevel=False),
    "aiohttp-lowlevel": lambda app, host, port: _serve_aiohttp(app, host, port, lowlevel=True),
    "uvicorn": _serve_uvicorn,
    "granian-asgi": _serve_granian_asgi,
    "granian-rsgi": _serve_granian_rsgi,
}


async def main(kind: str) -> None:
    settings = load()
    configure_logging(settings.log_level)
    async with running_edge(settings) as edge:
        app = EdgeApp(edge)
        serving = contextlib.asynccontextmanager(SERVERS[kind])(app, settings.host, settings.port)
        async with serving:
            tune_gc()
            if os.environ.get("BENCH_SWITCH_INTERVAL"):
                sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
            stop = asyncio.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(sig, stop.set)
            print(READY_LINE.format(name="edge"), file=sys.stderr, flush=True)
            await stop.wait()
            edge.hub.close_all()
        await app.close()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(sys.argv[1]))
