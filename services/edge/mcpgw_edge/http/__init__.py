"""The transport seam: the edge's HTTP model, free of any HTTP server library.

Protocol code (`mcpgw_edge.transports`, `mcpgw_edge.mcp`) speaks these types only; an adapter in
`mcpgw_edge.server` is the one place that imports a server library.
"""

from mcpgw_edge.http.messages import (
    BodyReader,
    BodyTimeout,
    BodyTooLarge,
    ClientGone,
    EventSink,
    EventStream,
    Handler,
    HeaderList,
    Headers,
    Request,
    Response,
)

__all__ = [
    "BodyReader",
    "BodyTimeout",
    "BodyTooLarge",
    "ClientGone",
    "EventSink",
    "EventStream",
    "Handler",
    "HeaderList",
    "Headers",
    "Request",
    "Response",
]
