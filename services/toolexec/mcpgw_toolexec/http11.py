"""A lean pooled HTTP/1.1 client: asyncio protocols, httptools' parser, keep-alive per origin.

Why not aiohttp's ClientSession: profiled under the benchmark it cost ~180 us of CPU per backend
call, more than the whole call budget. Toolexec needs a small part of what it does: one request at
a time per connection, a bounded body, no redirects, cookies, proxies or streaming. This module
does that part with the parser uvicorn uses (llhttp, in C) and a few Python callbacks per response.

Errors are the `HttpError` subclasses below, free of URLs and header values; the caller words them.

Each request carries an absolute deadline covering everything: waiting for a free connection and
connecting use `asyncio.timeout_at`, but the exchange itself, the path every call takes, does
not: an `asyncio.timeout` there measured ~9 us per call, over half of this client's own CPU per
request. Exchanges instead note their deadline and one ticker per pool fails the overdue ones,
so a timeout fires up to `_TICK` late. A request timed out or cancelled part-way aborts its
connection, which is never reused.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from collections import deque
from typing import Final, cast

import httptools
from multidict import CIMultiDict


class HttpError(Exception):
    """A failed exchange; the subclass says which part failed."""


class InvalidRequest(HttpError):
    """The request would not be a well-formed HTTP/1.1 message (a line break or framing header)."""


class TimedOut(HttpError):
    """The request's deadline passed (waiting for a connection, connecting or exchanging)."""


class ConnectTimeout(HttpError):
    """No connection (TCP and, for https, TLS) within the pool's connect timeout."""


class ConnectFailed(HttpError):
    """Resolving, connecting or the TLS handshake failed; `error` says how."""

    def __init__(self, error: OSError) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class Disconnected(HttpError):
    """The connection closed before a complete response arrived.

    `stale` is true when it was a kept-alive connection that closed before any byte of the
    response: most likely the server dropped it while idle and never saw the request.
    """

    def __init__(self, stale: bool) -> None:
        super().__init__("stale" if stale else "closed")
        self.stale = stale


class InvalidResponse(HttpError):
    """The status line or headers could not be parsed."""


class MalformedBody(HttpError):
    """The body's framing (chunks) or its content coding was broken."""


class TooLarge(HttpError):
    """The body (after decompression) exceeds the pool's `max_response_bytes`."""


class Response:
    __slots__ = ("body", "headers", "reason", "status")

    def __init__(self, status: int, reason: str, headers: CIMultiDict[str], body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body


_DEFAULT_PORT: Final = {"http": 80, "https": 443}
# How often overdue exchanges are looked for, while any are in flight.
_TICK: Final = 0.05
# Methods whose empty body is still announced (as aiohttp and curl do): some servers answer 411 otherwise.
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_NO_BODY_STATUS: Final = frozenset({204, 304})


def encode_request(method: str, target: str, host: str, headers: CIMultiDict[str], body: bytes | None) -> bytes:
    """The request head and body as one buffer, for a single `transport.write()`."""
    # Framing is ours alone: one of these from a template would desynchronise the connection. The
    # compiler already refuses them; this is the last line.
    if "Content-Length" in headers or "Transfer-Encoding" in headers or "Connection" in headers:
        raise InvalidRequest("framing header")
    head = f"{method} {target} HTTP/1.1\r\n"
    breaks = len(headers) + 3  # request line, Connection, the blank line
    if "Host" not in headers:  # an operator may pin Host (static only, checked at compile time)
        head += f"Host: {host}\r\n"
        breaks += 1
    if headers:
        head += "\r\n".join(map(": ".join, headers.items())) + "\r\n"
    if "Accept-Encoding" not in headers:
        head += "Accept-Encoding: gzip, deflate\r\n"
        breaks += 1
    if body is not None:
        head += f"Content-Length: {len(body)}\r\n"
        breaks += 1
    elif method in _BODY_METHODS:
        head += "Content-Length: 0\r\n"
        breaks += 1
    head += "Connection: keep-alive\r\n\r\n"
    # Counting separators costs less than scanning each header: a CR or LF inside a name, value,
    # method or target (request.py already refuses them) shows up as one too many.
    if head.count("\n") != breaks or head.count("\r") != breaks or "\x00" in head or " " in target:
        raise InvalidRequest("line break, NUL or space in the request head")
    data = head.encode()
    return data + body if body else data


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
        self._origins: dict[tuple[str, str, int], _Origin] = {}
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
                      fresh: bool = False) -> Response:
        """One exchange, over by `deadline` (on `time()`'s clock) or `TimedOut`.

        `fresh`: do not take a kept-alive connection (for the retry after a stale one).
        """
        if self._closed:
            raise RuntimeError("the pool is closed")
        key = (scheme, host, port)
        origin = self._origins.get(key)
        if origin is None:
            if scheme not in _DEFAULT_PORT:
                raise InvalidRequest(scheme)
            origin = self._origins[key] = _Origin(scheme, host, port, self._ssl)
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


class _Halt(Exception):
    """Raised from a parser callback to stop parsing; the reason is in `_Connection._error`."""


class _Connection(asyncio.Protocol):
    """One socket and its parser; at most one exchange at a time (no pipelining)."""

    __slots__ = (
        "_chunks", "_decoder", "_encoding", "_error", "_head", "_head_done", "_headers", "_limit", "_loop", "_pool",
        "_raw_headers", "_reason", "_received", "_size", "_status", "_until_close", "_waiter",
        "closed", "deadline", "idle_since", "is_idle", "keep_alive", "origin", "parser", "reused", "transport",
    )

    def __init__(self, pool: Pool, origin: _Origin) -> None:
        self._pool = pool
        self._loop = pool._loop
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.is_idle = False
        self.idle_since = 0.0
        self.deadline = 0.0
        self.reused = False
        self.keep_alive = False
        self._waiter: asyncio.Future[Response] | None = None
        self._reset(False, 0)

    def _reset(self, head: bool, limit: int) -> None:
        self._head = head
        self._limit = limit
        self._status = 0
        self._reason = b""
        self._raw_headers: list[tuple[str, str]] = []
        self._headers: CIMultiDict[str] | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self._encoding = ""
        self._decoder: zlib._Decompress | None = None
        self._until_close = False
        self._received = False
        self._error: HttpError | None = None
        self._head_done = False

    # -- used by the pool ------------------------------------------------------------------------

    def exchange(self, data: bytes, head: bool, limit: int) -> asyncio.Future[Response]:
        if self.closed:  # lost between connecting and now; a write would vanish without a trace
            raise Disconnected(stale=self.reused)
        assert self.transport is not None and self._waiter is None
        self._reset(head, limit)
        self.keep_alive = False
        self._waiter = waiter = self._loop.create_future()
        self.transport.write(data)
        return waiter

    def transport_closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def close(self, abort: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        if self.transport is not None:
            # abort: an unread or unsent remainder must not hold the socket open.
            if abort:
                self.transport.abort()
            else:
                self.transport.close()
        self._pool._forget(self)

    def expire(self) -> None:
        self._fail(TimedOut())

    def orphan(self) -> None:
        """Connecting failed: close whatever exists without touching the pool's accounting."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # -- asyncio.Protocol --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports quack like asyncio.Transport without subclassing it.
        self.transport = transport = cast(asyncio.Transport, transport)
        if self.closed:  # orphaned while connecting
            transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:  # asyncio and uvloop set it already; this keeps it true on any loop
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            # Nothing may arrive between exchanges (a 408 before closing, or garbage): drop it.
            self.close(abort=True)
            return
        self._received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(InvalidResponse("101 Switching Protocols was never asked for"))
        except httptools.HttpParserError:
            if self._head_done:  # the HEAD response ended parsing on purpose
                self._head_done = False
                return
            error = self._error
            if error is None:
                error = MalformedBody() if self._headers is not None else InvalidResponse()
            self._fail(error)

    def eof_received(self) -> bool | None:
        return None  # close our side too; connection_lost settles any exchange in flight

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.closed = True
            self._pool._forget(self)
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._until_close and self._headers is not None:
            # A body without Content-Length or chunking ends when the connection does.
            try:
                self._finish()
            except HttpError as error:
                self._fail(error)
            return
        self._waiter = None
        waiter.set_exception(Disconnected(stale=self.reused and not self._received))

    # -- httptools callbacks -----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None:  # a second response to one request
            self._error = InvalidResponse("unexpected response")
            raise _Halt

    def on_status(self, status: bytes) -> None:
        self._reason += status  # may arrive in pieces when a packet splits the status line

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name.decode("latin-1"), value.decode("utf-8", "replace")))

    def on_headers_complete(self) -> None:
        status = self._status = self.parser.get_status_code()
        if status < 200:
            return  # an interim 1xx (101 aside, which the parser raises on): the real answer follows
        headers = self._headers = CIMultiDict(self._raw_headers)
        if self._head:
            # The parser cannot be told this answers a HEAD, and would wait for Content-Length
            # bytes that never come: the response ends here, and a fresh parser takes the next.
            keep_alive = self.parser.should_keep_alive()
            self.parser = httptools.HttpResponseParser(self)
            self._finish()
            self.keep_alive = keep_alive
            self._head_done = True
            raise _Halt
        if status in _NO_BODY_STATUS:
            return
        length = headers.get("Content-Length")
        if length is not None:
            if length.isdigit() and int(length) > self._limit:
                self._error = TooLarge()  # known too big: fail before reading a byte of it
                raise _Halt
        else:
            coding = headers.get("Transfer-Encoding")
            self._until_close = coding is None or not coding.lower().rstrip().endswith("chunked")
        encoding = headers.get("Content-Encoding")
        if encoding is not None:
            encoding = encoding.strip().lower()
            if encoding in ("gzip", "x-gzip", "deflate"):
                self._encoding = encoding
                # The body handed on is decoded: these would describe bytes the caller never sees.
                del headers["Content-Encoding"]
                headers.popall("Content-Length", None)

    def on_body(self, chunk: bytes) -> None:
        if self._encoding:
            chunk = self._decode(chunk)
        self._size += len(chunk)
        if self._size > self._limit:
            self._error = TooLarge()
            raise _Halt
        self._chunks.append(chunk)

    def on_message_complete(self) -> None:
        if self._status < 200:
            self._reset(self._head, self._limit)
            self._received = True
            return
        self._finish()
        self.keep_alive = self.parser.should_keep_alive() and not self._until_close

    # -- internals ---------------------------------------------------------------------------------

    def _decode(self, chunk: bytes) -> bytes:
        decoder = self._decoder
        if decoder is None:
            if self._encoding == "deflate":
                # "deflate" should be zlib-wrapped; some servers send raw deflate (as browsers accept).
                wrapped = len(chunk) >= 2 and chunk[0] & 0x0F == 8 and (chunk[0] << 8 | chunk[1]) % 31 == 0
                decoder = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            else:
                decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._decoder = decoder
        try:
            # At most one byte past the limit: a small bomb never inflates further than that.
            return decoder.decompress(chunk, self._limit - self._size + 1)
        except zlib.error:
            self._error = MalformedBody()
            raise _Halt from None

    def _finish(self) -> None:
        waiter = self._waiter
        assert waiter is not None and self._headers is not None
        if self._decoder is not None:
            try:
                tail = self._decoder.flush()
            except zlib.error:
                tail = None
            if tail is None:
                self._error = MalformedBody()
                raise self._error
            if tail:
                self._size += len(tail)
                if self._size > self._limit:
                    self._error = TooLarge()
                    raise self._error
                self._chunks.append(tail)
        chunks = self._chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._waiter = None
        if not waiter.done():
            waiter.set_result(Response(self._status, self._reason.decode("utf-8", "replace"), self._headers, body))

    def _fail(self, error: HttpError) -> None:
        waiter = self._waiter
        self._waiter = None
        self.close(abort=True)
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
