"""One HTTP/1.1 connection of the edge: llhttp (httptools) parses, an asyncio Protocol answers.

Why our own and not a library's: on the real tools/call path (bench/README.md, "HTTP servers")
this server costs the edge the least CPU per call of every option measured, and unlike Granian
it needs no hop to another thread (the sequential p50 is where that showed). It is small on
purpose and leans on llhttp for everything a parser must get right: strict mode (no leniency
flags) refuses Content-Length with Transfer-Encoding, obs-fold, bare LF, bad chunk sizes and
invalid characters. On top of it this module bounds what llhttp does not: header bytes, body
bytes, how long a client may take to send a request (`Limits`, enforced by the listener's
sweep, no timer per request), and what one connection may queue (pipelined requests).

Requests on one connection are answered one at a time, in order. A response that is sent
before its request body was read closes the connection (the rest of the body is never parsed).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, cast

import httptools
import msgspec

from mcpgw_edge.http import BodyTimeout, BodyTooLarge, ClientGone, EventStream, Handler, Request, Response
from mcpgw_edge.server.limits import Limits
from mcpgw_edge.server.sink import Sink

if TYPE_CHECKING:
    from mcpgw_edge.server.listener import HttpServer

log = logging.getLogger(__name__)

# Requests parsed ahead of the one being answered before the connection stops reading.
MAX_PIPELINED = 16
# Names that may appear once: a second one is how request smuggling starts.
_SINGLE = frozenset({"host", "content-length", "transfer-encoding"})
_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}
_INTERNAL = Response(500, b'{"error":"internal error"}', [("content-type", "application/json")])


class BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Pending:
    """A request parsed up to its headers, and the body arriving behind it."""

    __slots__ = ("body", "chunks", "complete", "expects_continue", "keep_alive", "request", "size", "waiter")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.complete = False
        self.keep_alive = True
        self.expects_continue = False
        self.body: BaseException | None = None  # why the body cannot be had, if it cannot
        self.waiter: asyncio.Future[None] | None = None
        self.request: Request | None = None

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class Connection(asyncio.Protocol):
    __slots__ = (
        "_current",
        "_drained",
        "_handler",
        "_header_bytes",
        "_headers",
        "_limits",
        "_parser",
        "_parsing",
        "_queue",
        "_server",
        "_task",
        "_url",
        "closing",
        "deadline",
        "paused_since",
        "transport",
    )

    def __init__(self, server: HttpServer, handler: Handler, limits: Limits) -> None:
        super().__init__()
        self._server = server
        self._handler = handler
        self._limits = limits
        self._parser = httptools.HttpRequestParser(self)
        self._queue: collections.deque[_Pending] = collections.deque()
        self._parsing: _Pending | None = None
        self._current: _Pending | None = None  # the request being answered
        self._task: asyncio.Task[None] | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._header_bytes = 0
        self._drained: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None
        self.closing = False
        # When the listener's sweep may close this connection (0: never, e.g. a handler is busy).
        self.deadline = 0.0
        self.paused_since = 0.0

    # ---- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport is not a subclass of asyncio.Transport, only its interface.
        self.transport = cast(asyncio.Transport, transport)
        self.deadline = time.monotonic() + self._limits.request_timeout
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._server.connections.discard(self)
        # The client is gone: whatever answers it (an event stream, a tool call) stops now.
        if self._task is not None and not self._task.done():
            self._task.cancel()
        for pending in (self._parsing, *self._queue):
            if pending is not None:
                pending.body = ClientGone("client closed the connection")
                pending.wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_exception(ClientGone("client closed the connection"))
            self._drained.exception()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            # llhttp wraps what a callback raised; ours say what to answer.
            cause = exc.__context__
            if isinstance(cause, BadRequest):
                self._refuse(cause.status, cause.reason)
            else:
                log.error("HTTP parser callback failed", exc_info=cause)
                self._refuse(500, "internal error")
        except httptools.HttpParserUpgrade:
            self._refuse(501, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            self._refuse(400, f"malformed HTTP request: {exc}")

    def pause_writing(self) -> None:
        self.paused_since = time.monotonic()
        self._drained = self._server.loop.create_future()

    def resume_writing(self) -> None:
        self.paused_since = 0.0
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # ---- llhttp callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._header_bytes = 0
        self._parsing = _Pending()
        if self._task is None:  # idle until now: the request must arrive in time
            self.deadline = time.monotonic() + self._limits.request_timeout

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        key = name.decode("latin-1").lower()
        if key in self._headers:
            if key in _SINGLE:
                raise BadRequest(400, f"repeated {key} header")
            return  # the first value wins, as everywhere in the edge
        # RFC 9110 5.5: a field value excludes the whitespace around it (llhttp keeps trailing blanks).
        self._headers[key] = value.decode("latin-1").strip(" \t")

    def on_headers_complete(self) -> None:
        pending = self._parsing
        assert pending is not None
        parser = self._parser
        if parser.should_upgrade():
            raise BadRequest(501, "protocol upgrades are not supported")
        if parser.get_http_version() == "1.1" and "host" not in self._headers:
            raise BadRequest(400, "missing Host header")
        try:
            url = httptools.parse_url(self._url)
        except httptools.HttpParserInvalidURLError:
            raise BadRequest(400, "malformed request target") from None
        pending.keep_alive = parser.should_keep_alive()
        pending.request = Request(
            parser.get_method().decode("ascii"),
            url.path.decode("latin-1"),
            url.query.decode("latin-1") if url.query else "",
            self._headers,
            lambda limit: self._body(pending, limit),
        )
        pending.expects_continue = self._headers.get("expect", "").lower() == "100-continue"
        self._queue.append(pending)
        if self._task is None:
            self._next()
        elif len(self._queue) > MAX_PIPELINED and self.transport is not None:
            self.transport.pause_reading()

    def on_body(self, body: bytes) -> None:
        pending = self._parsing
        assert pending is not None
        pending.size += len(body)
        if pending.size > self._limits.max_body_bytes:
            # Stop reading: the answer (413) closes the connection.
            pending.body = BodyTooLarge()
            pending.chunks.clear()
            pending.wake()
            if self.transport is not None:
                self.transport.pause_reading()
            return
        pending.chunks.append(body)

    def on_message_complete(self) -> None:
        pending = self._parsing
        assert pending is not None
        pending.complete = True
        self._parsing = None
        if self._task is not None:
            self.deadline = 0.0  # the body the handler waits for is here
        pending.wake()

    # ---- answering ----------------------------------------------------------------------------

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self._limits.max_header_bytes:
            raise BadRequest(431, "request header fields too large")

    async def _body(self, pending: _Pending, limit: int) -> bytes:
        while pending.body is None and not pending.complete:
            pending.waiter = self._server.loop.create_future()
            await pending.waiter
            pending.waiter = None
        if pending.body is not None:
            raise pending.body
        if pending.size > limit:
            raise BodyTooLarge()
        return b"".join(pending.chunks) if len(pending.chunks) != 1 else pending.chunks[0]

    def _next(self) -> None:
        pending = self._current = self._queue.popleft()
        # The body still has to arrive in time; a complete request waits on nothing.
        self.deadline = 0.0 if pending.complete else time.monotonic() + self._limits.request_timeout
        if pending.expects_continue and not pending.complete and self.transport is not None:
            # Only now: a 100 written while an earlier pipelined answer is pending would precede it.
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        # The server's loop, not asyncio.get_running_loop(): on Python 3.11 that is a getpid()
        # syscall, 4.7 % of the edge's CPU samples at this spot (py-spy, make bench).
        self._task = self._server.loop.create_task(self._answer(pending))

    async def _answer(self, pending: _Pending) -> None:
        assert pending.request is not None
        try:
            result = await self._handler(pending.request)
        except asyncio.CancelledError:
            return
        except Exception:
            log.exception("edge handler failed")
            result = _INTERNAL
        if self.closing:
            return
        # A response sent before the body was read leaves bytes llhttp would take for a request.
        keep_alive = pending.keep_alive and pending.complete and pending.body is None
        try:
            if isinstance(result, Response):
                self._write_response(result, keep_alive, pending.request.method == "HEAD")
            else:
                keep_alive = await self._stream(result, keep_alive)
        except (ClientGone, asyncio.CancelledError):
            return
        except Exception:
            # Nothing of this response was written (a head is built whole before it is sent),
            # except after an event stream started: then the connection just ends.
            log.exception("edge response could not be written")
            if not self.closing and not isinstance(result, EventStream):
                self._write_response(_INTERNAL, False, False)
            self._close()
            self._task = None
            return
        self._task = None
        if not keep_alive:
            self._close()
        elif self._queue:
            if self.transport is not None:
                self.transport.resume_reading()
            self._next()
        else:
            self.deadline = time.monotonic() + self._limits.keepalive_timeout

    def _head(self, status: int, headers: list[tuple[str, str]], extra: bytes, keep_alive: bool) -> bytearray:
        head = bytearray(b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown")))
        for name, value in headers:
            if "\n" in value or "\r" in value:  # never split a response, whatever a value holds
                raise ValueError(f"response header {name} holds a line break")
            head += b"%s: %s\r\n" % (name.encode("latin-1"), value.encode("latin-1"))
        head += extra
        head += self._server.date_header
        if not keep_alive:
            head += b"connection: close\r\n"
        head += b"\r\n"
        return head

    def _write_response(self, response: Response, keep_alive: bool, head_only: bool) -> None:
        assert self.transport is not None
        body = response.body
        head = self._head(response.status, response.headers, b"content-length: %d\r\n" % len(body), keep_alive)
        if not head_only and body:
            head += body
        self.transport.write(head)

    async def _stream(self, stream: EventStream, keep_alive: bool) -> bool:
        """Run an event stream over chunked encoding (HTTP/1.0: raw, then close)."""
        assert self.transport is not None
        chunked = self._parser.get_http_version() == "1.1"
        keep_alive = keep_alive and chunked
        extra = b"transfer-encoding: chunked\r\n" if chunked else b""
        self.transport.write(self._head(200, stream.headers, extra, keep_alive))
        await stream.run(Sink(self, chunked))
        if chunked and not self.closing:
            self.transport.write(b"0\r\n\r\n")
        return keep_alive

    async def drain(self) -> None:
        if self.closing:
            raise ClientGone("client closed the connection")
        if self._drained is not None:
            await self._drained

    def _refuse(self, status: int, reason: str) -> None:
        """Answer a request we will not parse further, then close."""
        if self._task is not None:
            if self._current is not None and self._current.complete:
                # Garbage behind a whole request: answer that one, then close.
                self._current.keep_alive = False
                if self.transport is not None:
                    self.transport.pause_reading()
                return
            self._task.cancel()  # its body will never arrive whole
            self._task = None
        if self.transport is not None:
            body = msgspec.json.encode({"error": reason})
            self.transport.write(self._head(status, [("content-type", "application/json")],
                                            b"content-length: %d\r\n" % len(body), False) + body)
        self._close()

    def _close(self) -> None:
        if not self.closing and self.transport is not None:
            self.closing = True
            self.transport.close()

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def expire(self, now: float) -> None:
        """Called by the listener's sweep once `deadline` has passed."""
        if self._task is not None:
            # A handler waits for a body that does not come: its read fails (408).
            for pending in (self._parsing, *self._queue):
                if pending is not None and not pending.complete:
                    pending.body = BodyTimeout()
                    pending.wake()
            self.deadline = 0.0
            return
        if self._parsing is not None:
            self._refuse(408, "request not received in time")
        else:
            self._close()  # an idle keep-alive connection

    @property
    def idle(self) -> bool:
        return self._task is None and self._parsing is None
