"""Granian (Rust, hyper) serving the edge's handler over RSGI, in-process: for bench/servers.py.

hyper parses and writes HTTP/1.1 on Granian's Rust thread; the handler runs as an asyncio task on
the service's own event loop, next to its NATS and Redis clients. It was the edge's server for
one commit; the edge's own HTTP/1.1 server (mcpgw_edge/server) beat it on the real path (less
CPU per call, no cross-thread hop per request), see bench/README.md. Body timeouts are not
enforced here.

Granian's embedded server (`granian.server.embed.Server`) binds its own socket, cannot report the
port it got for port 0 and runs a supervisor loop we do not need; so this module starts the same
RSGI worker that class starts, on a socket we bound. That uses Granian internals: the version is
known to work is 2.8.9.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

import granian._futures
import granian._granian
from granian.http import HTTP1Settings
from mcpgw_edge.http import BodyTooLarge, ClientGone, EventStream, Handler, Request, Response

log = logging.getLogger(__name__)

# Granian's shipped stubs lag its native module (RSGIWorker takes more arguments than they list).
_native: Any = granian._granian
_futures: Any = granian._futures

_NO_TLS: tuple[Any, ...] = (False, None, None, None, "tls1.3", None, [], False)
# Requests handled at once before Granian stops reading new ones. Every open SSE stream is a
# request in flight, so this bounds idle streams too: far above what one edge serves.
MAX_CONCURRENT = 1 << 20


class _Sink:
    """EventSink over an RSGI stream transport: send_bytes waits while hyper's buffer is full."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Any) -> None:
        self._transport = transport

    def offer(self, chunk: bytes) -> bool:
        return False  # no cheap non-blocking write here: the pump writes pings

    async def send(self, chunk: bytes) -> None:
        try:
            await self._transport.send_bytes(chunk)
        except (_native.RSGIProtocolClosed, RuntimeError) as exc:
            raise ClientGone(str(exc)) from None


def _reader(proto: Any, declared: int | None) -> Any:
    async def read(limit: int) -> bytes:
        if declared is not None:
            if declared > limit:
                raise BodyTooLarge
            # hyper reads exactly Content-Length bytes: one call, no chunk loop.
            body: bytes = await proto()
            return body
        chunks: list[bytes] = []
        size = 0
        async for chunk in proto:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    return read


class RsgiApp:
    """Turns RSGI calls into the edge's Request and writes back its Response or EventStream."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    async def __call__(self, scope: Any, proto: Any) -> None:
        headers = scope.headers
        length = headers.get("content-length")
        request = Request(scope.method, scope.path, scope.query_string, headers,
                          _reader(proto, int(length) if length is not None and length.isdigit() else None),
                          scope.scheme)
        result = await self._handler(request)
        if isinstance(result, Response):
            proto.response_bytes(result.status, result.headers, result.body)
        else:
            await self._stream(proto, result)

    @staticmethod
    async def _stream(proto: Any, stream: EventStream) -> None:
        transport = proto.response_stream(200, stream.headers)
        run = asyncio.ensure_future(stream.run(_Sink(transport)))
        gone = asyncio.ensure_future(proto.client_disconnect())
        try:
            await asyncio.wait((run, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            # A client that went away ends the stream at once (its session, its subscriptions).
            for task in (gone, run):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        if not run.cancelled() and run.exception() is not None:
            log.error("event stream failed", exc_info=run.exception())


class GranianServer:
    """One Granian RSGI worker serving `handler` on host:port (0: a free port) in this event loop."""

    def __init__(self, handler: Handler, host: str, port: int, *, header_timeout: float = 30.0,
                 max_header_bytes: int = 64 * 1024, backlog: int = 1024) -> None:
        self._app = RsgiApp(handler)
        self._host = host
        self._port = port
        self._header_timeout = header_timeout
        self._max_header_bytes = max_header_bytes
        self._backlog = backlog
        self._signal: Any = None
        self.port = port

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen(self._backlog)
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        # Granian's worker owns the descriptor from here on and closes it when it stops: closing
        # it here too could close whatever socket reused the number (seen: NATS's connection).
        fd = sock.detach()
        loop = asyncio.get_running_loop()
        self._signal = _native.WorkerSignal()
        http1 = HTTP1Settings(header_read_timeout=int(self._header_timeout * 1000), keep_alive=True,
                              max_buffer_size=self._max_header_bytes, pipeline_flush=False)
        try:
            worker = _native.RSGIWorker(
                1, (None, _native.SocketHolder(fd, False, self._backlog)), None,
                1,            # Rust runtime threads: one parses and writes for the whole process
                1,            # Rust blocking threads
                1, 30,        # Python blocking threads (unused by RSGI) and their idle timeout
                MAX_CONCURRENT, "1", http1, None,
                False,        # no websockets
                None,         # no static files
                *_NO_TLS, (None, None),
            )
        except BaseException:
            os.close(fd)
            raise
        scheduler = _futures._new_cbscheduler(loop, _futures._future_watcher_wrapper(self._app), impl_asyncio=True)
        worker.serve_async(scheduler, loop, self._signal)

    def stop(self) -> None:
        """Stop accepting; connections already open finish the request they are on."""
        if self._signal is not None:
            self._signal.set()
            self._signal = None
