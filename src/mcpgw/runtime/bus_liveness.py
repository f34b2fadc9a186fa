"""Liveness of NATS requests in flight: a worker's signs of life, and a requester giving up on a
worker gone quiet (`Bus.request(watch=True)`, `WORKER_LOST`).

One sweep task per process instead of a timer per request: a fast call pays a dict insert and
delete on each side, and no second message.
"""

from __future__ import annotations

import asyncio
import logging
from time import perf_counter

from nats.aio.client import Client as NatsClient

log = logging.getLogger(__name__)

# Marks a sign of life on a reply subject: the worker still has the request (see `Bus.request`'s
# `watch`). Only a request still running after ALIVE_AFTER gets one, every ALIVE_AFTER: a fast call
# costs no second message.
ALIVE_HEADER = "Mcpgw-Alive"
ALIVE_AFTER = 1.0
# A watched request whose worker said nothing for this long is given up as lost. The first sign
# comes ALIVE_AFTER (+ one sweep) after the worker took the request, so this allows a loaded
# worker ~0.75 s of lateness, and a lost call is answered within LOST_AFTER + one sweep (2.25 s).
LOST_AFTER = 2.0
_SWEEP = 0.25

_Pending = dict[str, "asyncio.Future[tuple[bytes, dict[str, str] | None]]"]


class Lost(Exception):
    """A watched request's worker went quiet (`Liveness._sweep`)."""


class Liveness:
    """The requests this process serves (reply inbox -> when it last said it is alive) and the
    watched requests it waits on (inbox -> last sign), swept every `_SWEEP`."""

    def __init__(self, nc: NatsClient, pending: _Pending) -> None:
        self._nc = nc
        self._pending = pending
        self.serving: dict[str, float] = {}
        self.watched: dict[str, float] = {}
        self.alive_after = ALIVE_AFTER
        self.lost_after = LOST_AFTER
        # The sweep task once started (public: a request checks it rather than call `start`).
        self.sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        """The sweep task, once (the first request watched or served)."""
        if self.sweeper is None:
            self.sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        """Every `_SWEEP`: a sign of life for each request served longer than `alive_after`
        since its last one, and `WORKER_LOST` for each watched request whose worker went quiet."""
        serving, watched, pending = self.serving, self.watched, self._pending
        alive = {ALIVE_HEADER: "1"}
        while True:
            await asyncio.sleep(_SWEEP)
            try:
                await self._sweep_once(serving, watched, pending, alive)
            except Exception:
                log.exception("liveness sweep failed")

    async def _sweep_once(self, serving: dict[str, float], watched: dict[str, float],
                          pending: _Pending,
                          alive: dict[str, str]) -> None:
        now = perf_counter()
        if serving and self._nc.is_connected:
            due = [inbox for inbox, since in serving.items() if now - since >= self.alive_after]
            for inbox in due:
                serving[inbox] = now
                try:
                    await self._nc.publish(inbox, b"", headers=alive)
                except Exception as exc:  # a closing connection: the requester will see us gone
                    log.debug("no sign of life sent: %s", exc)
                    break
        if watched:
            for inbox in [inbox for inbox, seen in watched.items() if now - seen > self.lost_after]:
                del watched[inbox]
                waiter = pending.get(inbox)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(Lost())

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()
            self.sweeper = None
