"""A lean pooled HTTP/1.1 client: asyncio protocols, httptools' parser, keep-alive per origin.

Why not aiohttp's ClientSession: profiled under the benchmark it cost ~180 us of CPU per backend
call, more than the whole call budget. Toolexec needs a small part of what it does: one request at
a time per connection, a bounded body, no redirects, cookies, proxies or streaming. This module
does that part with the parser uvicorn uses (llhttp, in C) and a few Python callbacks per response.

Errors are the `HttpError` subclasses (`http11_wire`, with the request encoding and the `Response`),
free of URLs and header values; the caller words them. One connection and the parsing of its
responses are `http11_connection`'s; this module is the pool.

Each request carries an absolute deadline covering everything: waiting for a free connection and
connecting use `asyncio.timeout_at`, but the exchange itself, the path every call takes, does
not: an `asyncio.timeout` there measured ~9 us per call, over half of this client's own CPU per
request. Exchanges instead note their deadline and one ticker per pool fails the overdue ones,
so a timeout fires up to `_TICK` late. A request timed out or cancelled part-way aborts its
connection, which is never reused.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Final

from multidict import CIMultiDict

from mcpgw_toolexec.http11_connection import _Connection
from mcpgw_toolexec.http11_wire import (
    ConnectFailed,
    ConnectTimeout,
    Disconnected,
    HttpError,
    InvalidRequest,
    InvalidResponse,
    MalformedBody,
    Response,
    TimedOut,
    TooLarge,
    encode_request,
)

# The wire's names are this client's API too (`http11.Pool`, `http11.TimedOut`, ...).
__all__ = ["ConnectFailed", "ConnectTimeout", "Disconnected", "HttpError", "InvalidRequest", "InvalidResponse",
           "MalformedBody", "Pool", "Response", "TimedOut", "TooLarge", "encode_request"]


_DEFAULT_PORT: Final = {"http": 80, "https": 443}
# How often overdue exchanges are looked for, while any are in flight.
_TICK: Final = 0.05


class _Origin:
    """Connections to one (scheme, host, port): idle ones, how many exist, who waits for one."""

    __slots__ = ("host", "host_header", "idle", "open", "port", "ssl", "waiters")

    def __init__(self, scheme: str, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self.host = host
        self.port = port
        self.ssl = ssl_context if scheme == "https" else None
        name = host.encode("idna").decode() if not host.isascii() else host
        if ":" in name:  # an IPv6 literal
            name = f"[{name}]"
        self.host_header = name if port == _DEFAULT_PORT[scheme] else f"{name}:{port}"
        # Most recently used on the right: taken first (its socket is warm, the rest may expire);
        # the oldest on the left, where the sweeper looks.
        self.idle: deque[_Connection] = deque()
        # Connections existing or being opened, plus slots granted to a waiter about to connect.
        self.open = 0
        # A waiter's future gets a kept-alive connection, or None: "a slot is yours, connect".
        self.waiters: deque[asyncio.Future[_Connection | None]] = deque()


class Pool:
    """Keep-alive HTTP/1.1 connections per origin, at most `max_per_origin` each."""

    def __init__(self, *, max_per_origin: int, connect_timeout: float, max_response_bytes: int,
                 keepalive_timeout: float = 60.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._max = max(1, max_per_origin)
        self._connect_timeout = connect_timeout
        self._keepalive = keepalive_timeout
        self.max_response_bytes = max_response_bytes
        self._ssl = ssl_context
        self._origins: dict[tuple[str, str, int] | tuple[str, str, int, ssl.SSLContext], _Origin] = {}
        self._connections: set[_Connection] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        # Connections in an exchange, for the ticker that enforces their deadlines.
        self._busy: set[_Connection] = set()
        self._ticker: asyncio.TimerHandle | None = None
        self._closed = False

    def time(self) -> float:
        """The clock deadlines are read on (the event loop's)."""
        return self._loop.time()

    async def request(self, scheme: str, host: str, port: int, method: str, target: str,
                      headers: CIMultiDict[str], body: bytes | None, *, deadline: float,
                      fresh: bool = False, ssl_context: ssl.SSLContext | None = None) -> Response:
        """One exchange, over by `deadline` (on `time()`'s clock) or `TimedOut`.

        `fresh`: do not take a kept-alive connection (for the retry after a stale one).
        `ssl_context`: trust other than the pool's (a service's CA bundle); its connections are its own.
        """
        if self._closed:
            raise RuntimeError("the pool is closed")
        key = (scheme, host, port) if ssl_context is None else (scheme, host, port, ssl_context)
        origin = self._origins.get(key)
        if origin is None:
            if scheme not in _DEFAULT_PORT:
                raise InvalidRequest(scheme)
            origin = self._origins[key] = _Origin(scheme, host, port, ssl_context or self._ssl)
        # Encoded before a connection is taken, so a refused request never opens one.
        data = encode_request(method, target, origin.host_header, headers, body)
        conn = await self._acquire(origin, fresh, deadline)
        busy = self._busy
        try:
            waiter = conn.exchange(data, method == "HEAD", self.max_response_bytes)
            conn.deadline = deadline
            busy.add(conn)
            if self._ticker is None:
                self._ticker = self._loop.call_at(self._loop.time() + _TICK, self._tick)
            response = await waiter
        except BaseException:
            # Failed, timed out or cancelled: what is left on the wire is unknown, so it goes.
            busy.discard(conn)
            conn.close(abort=True)
            raise
        busy.discard(conn)
        if conn.keep_alive and not conn.closed:
            self._release(origin, conn)
        else:
            conn.close()
        return response

    async def close(self) -> None:
        self._closed = True
        for timer in (self._sweeper, self._ticker):
            if timer is not None:
                timer.cancel()
        self._sweeper = self._ticker = None
        for conn in list(self._connections):
            conn.close(abort=True)
        for origin in self._origins.values():
            for waiter in origin.waiters:
                if not waiter.done():
                    waiter.set_exception(RuntimeError("the pool is closed"))
            origin.waiters.clear()
            origin.idle.clear()
        self._origins.clear()

    def _tick(self) -> None:
        now = self._loop.time()
        for conn in [conn for conn in self._busy if conn.deadline <= now]:
            conn.expire()
        self._ticker = self._loop.call_at(now + _TICK, self._tick) if self._busy else None

    async def _acquire(self, origin: _Origin, fresh: bool, deadline: float) -> _Connection:
        while True:
            idle = origin.idle
            if not fresh:
                expired = self._loop.time() - self._keepalive
                while idle:
                    conn = idle.pop()
                    conn.is_idle = False
                    if not conn.closed and conn.idle_since > expired and not conn.transport_closing():
                        conn.reused = True
                        return conn
                    conn.close()
            elif idle and origin.open >= self._max:
                oldest = idle.popleft()
                oldest.is_idle = False
                oldest.close()  # makes room for the fresh connection a retry needs
            if origin.open < self._max:
                origin.open += 1
                return await self._connect(origin, deadline)
            waiter: asyncio.Future[_Connection | None] = self._loop.create_future()
            origin.waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    conn_or_slot = await waiter
            except BaseException as exc:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    handed = waiter.result()  # given to us just as we gave up: pass it on
                    if handed is None:
                        self._slot_freed(origin)
                    elif not handed.closed:
                        self._release(origin, handed)
                if isinstance(exc, TimeoutError):
                    raise TimedOut() from None
                raise
            if conn_or_slot is None:
                return await self._connect(origin, deadline)
            if not conn_or_slot.closed:
                conn_or_slot.reused = True
                return conn_or_slot
            # Closed between the hand-over and now; its slot was passed on already. Try again.

    async def _connect(self, origin: _Origin, deadline: float) -> _Connection:
        """Open a connection in a slot the caller already holds; the slot is freed on failure."""
        connect_by = self._loop.time() + self._connect_timeout
        created: list[_Connection] = []

        def factory() -> _Connection:
            created.append(_Connection(self, origin))
            return created[-1]

        try:
            async with asyncio.timeout_at(min(connect_by, deadline)):
                _, conn = await self._loop.create_connection(
                    factory, origin.host, origin.port,
                    ssl=origin.ssl, server_hostname=origin.host if origin.ssl is not None else None)
        except BaseException as exc:
            # A protocol may exist (its connection_made even still to come): it must not free
            # the slot a second time when it closes.
            for orphan in created:
                orphan.orphan()
            self._slot_freed(origin)
            if isinstance(exc, TimeoutError):  # before OSError: TimeoutError is one
                raise (ConnectTimeout() if connect_by <= deadline else TimedOut()) from None
            if isinstance(exc, OSError):  # refused, unreachable, DNS (gaierror), TLS (SSLError)
                raise ConnectFailed(exc) from None
            raise
        if not conn.closed:
            self._connections.add(conn)
        return conn

    def _release(self, origin: _Origin, conn: _Connection) -> None:
        """A connection that finished a response cleanly: to the first waiter, else idle."""
        waiters = origin.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        conn.is_idle = True
        conn.idle_since = self._loop.time()
        origin.idle.append(conn)
        if self._sweeper is None:
            self._sweeper = self._loop.call_at(conn.idle_since + self._keepalive, self._sweep)

    def _slot_freed(self, origin: _Origin) -> None:
        waiters = origin.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        origin.open -= 1

    def _forget(self, conn: _Connection) -> None:
        """Called once per connection when it closes (by either side)."""
        self._connections.discard(conn)
        origin = conn.origin
        if conn.is_idle:
            conn.is_idle = False
            origin.idle.remove(conn)
        if not self._closed:
            self._slot_freed(origin)

    def _sweep(self) -> None:
        """Close connections idle longer than the keep-alive timeout; runs while any are idle."""
        self._sweeper = None
        now = self._loop.time()
        expired = now - self._keepalive
        next_due: float | None = None
        for origin in self._origins.values():
            idle = origin.idle
            while idle and idle[0].idle_since <= expired:
                conn = idle.popleft()
                conn.is_idle = False
                conn.close()
            if idle:
                due = idle[0].idle_since + self._keepalive
                next_due = due if next_due is None else min(next_due, due)
        if next_due is not None:
            # A second's slack groups expiries instead of waking once per connection.
            self._sweeper = self._loop.call_at(max(next_due, now) + 1.0, self._sweep)
