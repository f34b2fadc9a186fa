"""The edge's own HTTP request and responses: what a server adapter hands in and writes back.

Nothing here knows the HTTP server library. An adapter (`mcpgw_edge.server`) parses the wire,
builds a `Request`, awaits the edge's handler and writes the `Response` or runs the `EventStream`
it returns. Header names are lowercase (HTTP/1.1 and HTTP/2 parsers already hand them so).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Protocol
from urllib.parse import parse_qs


class Headers(Protocol):
    """Read access to request headers by lowercase name (the first value of a repeated header)."""

    def get(self, name: str, default: None = None, /) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]:
        """Every header (first values), for passing a family of them on (`Mcp-Param-*`)."""
        ...


class BodyTooLarge(Exception):
    """The request body passed the limit the edge asked for."""


class BodyTimeout(Exception):
    """The request body did not arrive within the server's request timeout."""


class ClientGone(ConnectionError):
    """The client closed the connection: an event stream's `send` cannot deliver any more."""


# Reads the whole request body, refusing more than `limit` bytes (BodyTooLarge). The server
# adapter bounds how long the body may take (BodyTimeout): no timer here.
BodyReader = Callable[[int], Awaitable[bytes]]


class Request:
    """One HTTP request as the MCP side sees it; the body is read on demand, with a limit."""

    __slots__ = ("_cookies", "_query", "_read", "headers", "method", "path", "query_string", "scheme")

    def __init__(self, method: str, path: str, query_string: str, headers: Headers, read: BodyReader,
                 scheme: str = "http") -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers
        self.scheme = scheme
        self._read = read
        self._query: dict[str, list[str]] | None = None
        self._cookies: SimpleCookie | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def host(self) -> str:
        return self.headers.get("host") or ""

    @property
    def content_type(self) -> str:
        """The media type without parameters, lowercase ("" when absent)."""
        value = self.headers.get("content-type")
        if not value:
            return ""
        return value.partition(";")[0].strip().lower()

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None

    def query(self, name: str) -> str | None:
        if not self.query_string:
            return None
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True)
        values = self._query.get(name)
        return values[0] if values else None

    def cookie(self, name: str) -> str | None:
        if self._cookies is None:
            self._cookies = SimpleCookie()
            raw = self.headers.get("cookie")
            if raw:
                try:
                    self._cookies.load(raw)
                except CookieError:
                    pass  # a malformed Cookie header presents no cookie
        morsel = self._cookies.get(name)
        return morsel.value if morsel is not None else None

    async def body(self, limit: int) -> bytes:
        return await self._read(limit)


HeaderList = list[tuple[str, str]]


class Response:
    """A complete response: status, headers and one body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int = 200, body: bytes = b"", headers: HeaderList | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else []


class EventSink(Protocol):
    """Where an event stream writes: `send` returns once the chunk is handed to the connection
    (back-pressure: a client that does not read makes it wait) and raises ClientGone after the
    client went away."""

    async def send(self, chunk: bytes) -> None: ...

    def offer(self, chunk: bytes) -> bool:
        """Write `chunk` now if the connection takes it without waiting; False (nothing written)
        if the client is slow or gone."""
        ...


class EventStream:
    """A `text/event-stream` response: the adapter sends the headers, then awaits `run(sink)`.

    When the client disconnects the adapter cancels `run`; whatever `run` holds it releases in
    its own `finally`.
    """

    __slots__ = ("headers", "run")

    def __init__(self, run: Callable[[EventSink], Awaitable[None]], headers: HeaderList | None = None) -> None:
        self.run = run
        self.headers = [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache, no-transform"),
            ("x-accel-buffering", "no"),
            *(headers or []),
        ]


Handler = Callable[[Request], Awaitable[Response | EventStream]]
