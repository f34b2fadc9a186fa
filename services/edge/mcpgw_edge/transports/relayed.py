"""The answer to a POSTed request whose server may talk while it works (hosted, assembled).

The request runs in its own task. If its response comes before anything else, the client gets
plain JSON; once the upstream sends something first (progress, a log line, a sampling or
elicitation request), the answer becomes an SSE stream carrying those messages and then the
response. A client that goes away does not cancel the request (MCP: only `notifications/cancelled`
does).

For a 2025-11-25 client the stream is resumable (`mcp/resumable.py`): a priming event first, an id
on every event, each kept in Redis. A client that lost the stream resumes it with GET and
`Last-Event-ID`; when the upstream closes its own stream to be polled, the client's is closed too,
with the upstream's `retry`, and the rest of the answer waits for the client's GET.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec

from mcpgw import jsonrpc
from mcpgw.jsonrpc import NULL
from mcpgw_edge.http import EventSink, EventStream, Response
from mcpgw_edge.mcp.hosted import Listener
from mcpgw_edge.mcp.resumable import Recorded, RequestStreams, event_id
from mcpgw_edge.transports.events import sse_event
from mcpgw_edge.transports.replies import json_response

log = logging.getLogger(__name__)

# What a request produces, in order: ("event", payload), ("pause", retry_ms) or ("final", payload).
Item = tuple[str, bytes | int]
# The request itself: given where its events go, its HTTP status and response.
Work = Callable[[Listener], Awaitable[tuple[int, bytes]]]


class _Collected:
    def __init__(self) -> None:
        self.items: asyncio.Queue[Item] = asyncio.Queue()
        # The HTTP status of a plain JSON answer (a 2026-07-28 error passed through keeps its own).
        self.status = 200

    def event(self, payload: bytes) -> None:
        self.items.put_nowait(("event", payload))

    def pause(self, retry_ms: int) -> None:
        self.items.put_nowait(("pause", retry_ms))


def sse_with_id(payload: bytes, stream_id: str, seq: int) -> bytes:
    return b"id: " + event_id(stream_id, seq).encode() + b"\n" + sse_event(payload)


def priming(stream_id: str, retry_ms: int | None) -> bytes:
    retry = b"" if retry_ms is None else b"retry: %d\n" % retry_ms
    return b"id: " + event_id(stream_id, 0).encode() + b"\n" + retry + b"data: \n\n"


class Relayed:
    def __init__(self, streams: RequestStreams, write_timeout: float) -> None:
        self._streams = streams
        self._write_timeout = write_timeout
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def respond(self, work: Work, request_id: jsonrpc.RequestId, resume_in: str | None,
                      cancel_on_disconnect: bool = False) -> Response | EventStream:
        """The answer to one request `work` produces: JSON if nothing came before it, else SSE;
        resumable when `resume_in` names the session its events are kept for. With
        `cancel_on_disconnect` (2026-07-28) a client that goes away before the answer cancels it."""
        collected = _Collected()

        async def drive() -> None:
            try:
                collected.status, answer = await work(collected)
            except Exception:
                log.exception("relayed request failed")
                answer = jsonrpc.error(request_id, jsonrpc.INTERNAL_ERROR, "internal error")
            collected.items.put_nowait(("final", answer))

        driving = asyncio.get_running_loop().create_task(drive())
        self._spawn(driving)
        try:
            first = await collected.items.get()
        except asyncio.CancelledError:
            if cancel_on_disconnect:
                driving.cancel()
            raise
        if first[0] == "final":
            assert isinstance(first[1], bytes)
            return json_response(first[1], collected.status)
        if resume_in is not None:
            return self._resumable(first, collected, resume_in)
        return self._plain(first, collected, driving if cancel_on_disconnect else None)

    def _plain(self, first: Item, collected: _Collected, cancel: asyncio.Task[None] | None = None) -> EventStream:
        async def run(sink: EventSink) -> None:
            kind, value = first
            try:
                while True:
                    if isinstance(value, bytes):  # a pause cannot be passed on: the answer still comes here
                        # A client that stops reading would hold the request's answer forever: bound it.
                        async with asyncio.timeout(self._write_timeout):
                            await sink.send(sse_event(value))
                    if kind == "final":
                        return
                    kind, value = await collected.items.get()
            finally:
                if kind != "final" and cancel is not None:
                    cancel.cancel()  # the client went away before the answer

        return EventStream(run)

    def _resumable(self, first: Item, collected: _Collected, session_id: str) -> EventStream:
        stream_id = self._streams.new_id()
        # What the client's connection is still to be sent; None once it is gone (or closed to poll).
        live: asyncio.Queue[Item] | None = asyncio.Queue()

        async def record() -> None:
            """Every item, numbered and kept, for as long as the request runs, attached or not."""
            nonlocal live
            await self._streams.record(session_id, stream_id, Recorded(0, False, NULL))
            seq, item = 0, first
            while True:
                kind, value = item
                if isinstance(value, bytes):
                    seq += 1
                    await self._streams.record(session_id, stream_id,
                                               Recorded(seq, kind == "final", msgspec.Raw(value)))
                    item = (kind, sse_with_id(value, stream_id, seq))
                if live is not None:
                    live.put_nowait(item)
                    if kind == "pause":
                        live = None
                if kind == "final":
                    return
                item = await collected.items.get()

        self._spawn(asyncio.get_running_loop().create_task(record()))

        async def run(sink: EventSink) -> None:
            nonlocal live
            queue = live
            assert queue is not None
            try:
                kind, value = await queue.get()
                retry = value if kind == "pause" and isinstance(value, int) else None
                async with asyncio.timeout(self._write_timeout):
                    await sink.send(priming(stream_id, retry))
                while kind != "pause":
                    if isinstance(value, bytes):
                        async with asyncio.timeout(self._write_timeout):
                            await sink.send(value)
                    if kind == "final":
                        return
                    kind, value = await queue.get()
                    if kind == "pause" and isinstance(value, int):
                        # Closed to be polled, as the upstream did: the client comes back with GET.
                        await sink.send(b"retry: %d\n\n" % value)
            finally:
                live = None

        return EventStream(run)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
