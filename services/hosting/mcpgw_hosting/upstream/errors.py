"""What can go wrong talking to an upstream MCP server, worded so a client may read it."""

from __future__ import annotations


class UpstreamError(Exception):
    """The upstream could not be reached, answered with an HTTP error, or talked nonsense.

    `message` names what failed without URLs, headers or credentials.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SessionGone(UpstreamError):
    """The upstream no longer knows the session (404 to a request carrying it): open a new one."""

    def __init__(self) -> None:
        super().__init__("upstream session expired")


class Unreachable(UpstreamError):
    """No connection to the address (refused, unresolvable, connect timeout): nothing was sent, so
    another address may be tried; it counts against the address's health (`mcpgw.balancing`)."""
