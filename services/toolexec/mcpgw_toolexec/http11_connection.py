"""One keep-alive connection of `http11.Pool`: its socket, httptools' parser fed by asyncio's
protocol callbacks, and the response read off it (head, bounded body, gzip/deflate decoding)."""

from __future__ import annotations

import asyncio
import socket
import zlib
from typing import TYPE_CHECKING, cast

import httptools
from multidict import CIMultiDict

from mcpgw_toolexec.http11_wire import (
    NO_BODY_STATUS,
    Disconnected,
    HttpError,
    InvalidResponse,
    MalformedBody,
    Response,
    TimedOut,
    TooLarge,
)

if TYPE_CHECKING:
    from mcpgw_toolexec.http11 import Pool, _Origin


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
        if status in NO_BODY_STATUS:
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
