"""CORS for browser MCP clients (the console's Debug page, MCP Inspector's web UI).

A browser sends a cross-origin `POST` with `Authorization` and `Mcp-Session-Id` only after a
preflight `OPTIONS`, and lets the page read `Mcp-Session-Id` from the answer only when it is
exposed. Both are granted to exactly the origins `OriginPolicy` admits (the edge's own, loopback
pages, `MCPGW_EDGE_ALLOWED_ORIGINS`): CORS adds nothing an admitted origin could not already do
with a simple request, and every other origin keeps its 403. No cookies are used, so
`Access-Control-Allow-Credentials` is never sent.
"""

from __future__ import annotations

import re

from mcpgw_edge.http import EventStream, Response
from mcpgw_edge.http.messages import HeaderList

METHODS = "GET, POST, DELETE"
# What a Streamable HTTP client reads from responses: the session it was given, the protocol
# version, the challenge of a 401, and a resumable stream's event ids.
EXPOSED = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Last-Event-ID"
# Request headers a browser may ask to send: Authorization, the transport's own and the
# 2026-07-28 revision's Mcp-Method / Mcp-Name / Mcp-Param-* family among them; any token list.
_HEADER_LIST = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$")
MAX_AGE = "600"


def preflight(origin: str, requested_headers: str | None) -> Response:
    """The answer to an admitted origin's `OPTIONS`: what it may send, for ten minutes."""
    headers: HeaderList = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Methods", METHODS),
        ("Access-Control-Max-Age", MAX_AGE),
        ("Vary", "Origin, Access-Control-Request-Headers"),
    ]
    if requested_headers and _HEADER_LIST.match(requested_headers.strip()):
        headers.append(("Access-Control-Allow-Headers", requested_headers.strip()))
    return Response(204, b"", headers)


def allow(result: Response | EventStream, origin: str) -> Response | EventStream:
    """`result` readable by a page of `origin`. Responses may be shared constants: copied, not changed."""
    granted = [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", EXPOSED),
               ("Vary", "Origin")]
    if isinstance(result, EventStream):
        result.headers.extend(granted)
        return result
    return Response(result.status, result.body, [*result.headers, *granted])
