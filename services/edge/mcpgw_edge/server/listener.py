"""The edge's listening socket, its connections and the one periodic sweep that bounds them.

No timer per request or per connection: once a second the sweep closes connections whose
deadline passed (slow senders, idle keep-alives) or whose client stopped reading for longer than
the write timeout, and refreshes the cached Date header. With 10,000 idle connections a sweep
takes ~2 ms, and it yields every SWEEP_SLICE connections so that no request waits behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from email.utils import formatdate

from mcpgw_edge.http import Handler
from mcpgw_edge.server.http1 import Connection
from mcpgw_edge.server.limits import Limits

SWEEP_EVERY = 1.0
SWEEP_SLICE = 1000


class HttpServer:
    """Serves `handler` on host:port (0: a free port) in the running event loop."""

    def __init__(self, handler: Handler, host: str, port: int, limits: Limits | None = None,
                 backlog: int = 1024, sweep_every: float = SWEEP_EVERY, reuse_port: bool = False) -> None:
        if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
            raise OSError("MCPGW_EDGE_REUSE_PORT: this platform has no SO_REUSEPORT")
        self._reuse_port = reuse_port
        self._handler = handler
        self._host = host
        self._port = port
        self._limits = limits or Limits()
        self._backlog = backlog
        self._sweep_every = sweep_every
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.connections: set[Connection] = set()
        self.date_header = b""
        self.loop: asyncio.AbstractEventLoop
        self.port = port

    async def start(self) -> None:
        self._refresh_date()
        loop = self.loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        self._server = await loop.create_server(
            lambda: Connection(self, self._handler, self._limits), self._host, self._port, family=family,
            backlog=self._backlog, reuse_address=True, reuse_port=self._reuse_port or None)
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._sweeper = loop.create_task(self._sweep_forever())

    def _refresh_date(self) -> None:
        self.date_header = b"date: " + formatdate(usegmt=True).encode() + b"\r\n"

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_every)
            await self.sweep()

    async def sweep(self) -> None:
        self._refresh_date()
        now = time.monotonic()
        write_limit = now - self._limits.write_timeout
        for count, connection in enumerate(list(self.connections), 1):
            if connection.paused_since and connection.paused_since < write_limit:
                connection.abort()  # the client takes nothing: it gets nothing more
            elif connection.deadline and connection.deadline < now:
                connection.expire(now)
            if count % SWEEP_SLICE == 0:
                await asyncio.sleep(0)
                now = time.monotonic()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, close idle connections, let busy ones finish for up to `grace` seconds."""
        if self._server is None:
            return
        self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        deadline = time.monotonic() + grace
        while self.connections and time.monotonic() < deadline:
            for connection in list(self.connections):
                if connection.idle:
                    connection.abort()
            if self.connections:
                await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.abort()
        await self._server.wait_closed()
        self._server = None
