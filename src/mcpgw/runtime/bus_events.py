"""Events ahead of a reply: what a streaming request (`Bus.request(on_event=…)`) does with the
messages its responder sends before answering (`Bus.emit`).

An event larger than one NATS message travels as a reply does (`bus_large`: compressed, chunked
if need be); the listener puts it back together before its `on_event` sees it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from mcpgw.contracts.errors import McpgwError
from mcpgw.runtime.bus_large import CHUNK_HEADER, Chunks, inflate

log = logging.getLogger(__name__)

# Marks a message on a reply subject that comes before the reply (see `Bus.request`'s `on_event`).
EVENT_HEADER = "Mcpgw-Event"

Waiter = asyncio.Future[tuple[bytes, dict[str, str] | None]]


class Listener:
    """The events side of one streaming request: where they go and the timer they restart."""

    __slots__ = ("chunks", "on_event", "timer", "wait", "waiter")

    def __init__(self, on_event: Callable[[bytes], None], waiter: Waiter, timer: asyncio.TimerHandle,
                 wait: float) -> None:
        self.on_event = on_event
        self.waiter = waiter
        self.timer = timer
        self.wait = wait
        self.chunks: Chunks | None = None  # made for the first large event (rare)

    def event(self, data: bytes) -> None:
        if self.waiter.done():
            return
        self.timer.cancel()
        self.timer = self.waiter.get_loop().call_later(self.wait, expire, self.waiter)
        try:
            self.on_event(data)
        except Exception:
            log.exception("event listener failed")

    def large(self, inbox: str, headers: dict[str, str], data: bytes) -> None:
        """One message of a large event (`bus_large.packed`): the event once it is whole.

        Each message restarts the timeout (a chunk is a sign of life); a malformed one fails the
        request, as a malformed chunked reply does.
        """
        if self.waiter.done():
            return
        try:
            if CHUNK_HEADER in headers:
                if self.chunks is None:
                    self.chunks = Chunks()
                whole = self.chunks.add(inbox, headers, data)
                if whole is None:
                    self.timer.cancel()
                    self.timer = self.waiter.get_loop().call_later(self.wait, expire, self.waiter)
                    return
                data = whole
            data = inflate(data, "event")
        except McpgwError as exc:
            self.waiter.set_exception(exc)
            return
        self.event(data)


def expire(waiter: Waiter) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())
