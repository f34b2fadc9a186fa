"""The event streams' sink over one HTTP/1.1 connection: chunked framing and back-pressure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpgw_edge.http import ClientGone

if TYPE_CHECKING:
    from mcpgw_edge.server.http1 import Connection


class Sink:
    """EventSink over the connection: each send is one chunk; waits while the client is slow."""

    __slots__ = ("_chunked", "_connection")

    def __init__(self, connection: Connection, chunked: bool) -> None:
        self._connection = connection
        self._chunked = chunked

    async def send(self, chunk: bytes) -> None:
        connection = self._connection
        if connection.closing or connection.transport is None:
            raise ClientGone("client closed the connection")
        if self._chunked:
            connection.transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        else:
            connection.transport.write(chunk)
        await connection.drain()

    def offer(self, chunk: bytes) -> bool:
        connection = self._connection
        if connection.closing or connection.transport is None or connection.paused_since:
            return False
        connection.transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if self._chunked else chunk)
        return True
