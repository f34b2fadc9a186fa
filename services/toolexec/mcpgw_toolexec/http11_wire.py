"""What `http11`'s client puts on and reads off the wire: the request head it encodes, the
response it hands back, and its errors (`HttpError` subclasses, free of URLs and header values;
the caller words them)."""

from __future__ import annotations

from typing import Final

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


# Methods whose empty body is still announced (as aiohttp and curl do): some servers answer 411 otherwise.
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
# Responses that never have a body, whatever their headers say.
NO_BODY_STATUS: Final = frozenset({204, 304})


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
