"""Keep a one-machine cluster's processes running: a child that exits is started again.

`make up` runs every process of the cluster; one of them dying must not stop the others (an
operator kills a toolexec replica to watch the other absorb its calls). Each child has a slot
that knows how to start it; a child that exits is restarted after a backoff that doubles with
each recent crash, and only one that keeps crashing (`max_crashes` exits within `window`
seconds) gives up, so that a broken configuration still stops the launcher with its last lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mcpgw.devcluster import Proc, StartError

MAX_CRASHES = 5
WINDOW = 60.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 10.0


@dataclass
class Slot:
    """One child process of the cluster and how to start it (again)."""

    name: str  # as logged: "toolexec-2"
    kind: str  # what it is: "toolexec"
    start: Callable[[], Awaitable[Proc]]
    proc: Proc | None = None
    crashes: deque[float] = field(default_factory=deque)


def exit_status(code: int | None) -> str:
    """`-9 (SIGKILL)` for a signal, the number otherwise."""
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"{code} ({signal.Signals(-code).name})"
    return str(code)


class Supervisor:
    def __init__(self, say: Callable[[str], None], *, max_crashes: int = MAX_CRASHES, window: float = WINDOW,
                 first_backoff: float = FIRST_BACKOFF, max_backoff: float = MAX_BACKOFF) -> None:
        self.say = say
        self.slots: list[Slot] = []
        self.max_crashes = max_crashes
        self.window = window
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff

    async def add(self, name: str, kind: str, start: Callable[[], Awaitable[Proc]]) -> Slot:
        """Start a child; it is supervised once `run` runs."""
        slot = Slot(name, kind, start)
        slot.proc = await start()
        self.slots.append(slot)
        return slot

    async def run(self, stop: asyncio.Event) -> Slot | None:
        """Restart children that exit until `stop` is set (None) or one keeps crashing (its slot)."""
        gave_up: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        keepers = [asyncio.ensure_future(self._keep(slot, gave_up)) for slot in self.slots]
        stopper = asyncio.ensure_future(stop.wait())
        try:
            either: set[asyncio.Future[Any]] = {stopper, gave_up}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stopper, *keepers):
                task.cancel()
            await asyncio.gather(*keepers, return_exceptions=True)
        return gave_up.result() if gave_up.done() and not stop.is_set() else None

    async def _keep(self, slot: Slot, gave_up: asyncio.Future[Slot]) -> None:
        while True:
            assert slot.proc is not None
            code: int | None = await slot.proc.proc.wait()
            await slot.proc.stop()  # collects the rest of its output
            while True:
                if self._crashed(slot):
                    if not gave_up.done():
                        gave_up.set_result(slot)
                    return
                delay = min(self.first_backoff * 2 ** (len(slot.crashes) - 1), self.max_backoff)
                self.say(f"{slot.name} exited with status {exit_status(code)}; restarting it in {delay:g}s")
                await asyncio.sleep(delay)
                try:
                    slot.proc = await slot.start()
                    break
                except StartError as exc:
                    self.say(f"{slot.name} did not start again: {str(exc).splitlines()[0]}")
                    code = None
            self.say(f"{slot.name} is back (pid {slot.proc.proc.pid})")

    def _crashed(self, slot: Slot) -> bool:
        """Count an exit; True once the slot has crashed `max_crashes` times within `window`."""
        now = time.monotonic()
        slot.crashes.append(now)
        while slot.crashes and now - slot.crashes[0] > self.window:
            slot.crashes.popleft()
        return len(slot.crashes) >= self.max_crashes

    async def stop(self, on_stop: Callable[[Slot], None] | None = None) -> None:
        """Stop every child, the last started first."""
        while self.slots:
            slot = self.slots.pop()
            if slot.proc is None:
                continue
            if slot.proc.running and on_stop is not None:
                on_stop(slot)
            await slot.proc.stop()
