"""What the edge's HTTP server allows a client: sizes and deadlines (settings: EdgeSettings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_header_bytes: int = 32 * 1024
    max_body_bytes: int = 4 * 1024 * 1024
    # From a connection's first byte (or the end of the previous response) to the end of the
    # request's headers, and from there to the end of its body.
    request_timeout: float = 30.0
    # A connection with no request under way is closed after this long.
    keepalive_timeout: float = 75.0
    # A client that takes no bytes for this long while the edge has some to send loses the connection.
    write_timeout: float = 30.0
