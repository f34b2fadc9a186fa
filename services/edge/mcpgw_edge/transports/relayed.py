"""The answer to a POSTed request whose server may talk while it works (hosted, assembled).

The request runs in its own task. If its response comes before anything else, the client gets
plain JSON; once the upstream sends something first (progress, a log line, a sampling or
elicitation request), the answer becomes an SSE stream carrying those messages and then the
response. A client that goes away does not cancel the request (MCP: only `notifications/cancelled`
does); its answer is dropped.
"""

from __future__ import annotations

import asyncio
import logging

from mcpgw import jsonrpc
from mcpgw.jsonrpc import Message
from mcpgw_edge.http import EventSink, EventStream, Response
from mcpgw_edge.mcp.caller import Caller
from mcpgw_edge.mcp.dispatch import Dispatcher
from mcpgw_edge.mcp.sessions import Session
from mcpgw_edge.servers import ServerEntry
from mcpgw_edge.transports.events import sse_event
from mcpgw_edge.transports.replies import json_response

log = logging.getLogger(__name__)


class Relayed:
    def __init__(self, dispatcher: Dispatcher, write_timeout: float) -> None:
        self._dispatcher = dispatcher
        self._write_timeout = write_timeout
        self._tasks: set[asyncio.Task[None]] = set()

    async def respond(self, message: Message, session: Session, entry: ServerEntry,
                      caller: Caller) -> Response | EventStream:
        queue: asyncio.Queue[tuple[bool, bytes]] = asyncio.Queue()

        def on_event(payload: bytes) -> None:
            queue.put_nowait((False, payload))

        async def drive() -> None:
            try:
                answer = await self._dispatcher.request(message, session, entry, caller, on_event)
            except Exception:
                log.exception("relayed %s failed", message.method)
                assert isinstance(message.id, int | str)
                answer = jsonrpc.error(message.id, jsonrpc.INTERNAL_ERROR, "internal error")
            queue.put_nowait((True, answer))

        task = asyncio.get_running_loop().create_task(drive())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        final, first = await queue.get()
        if final:
            return json_response(first)

        async def run(sink: EventSink) -> None:
            done, payload = False, first
            while True:
                # A client that stops reading would hold the request's answer forever: bound it.
                async with asyncio.timeout(self._write_timeout):
                    await sink.send(sse_event(payload))
                if done:
                    return
                done, payload = await queue.get()

        return EventStream(run)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
