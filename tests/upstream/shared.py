"""What all of the fixture's connections share, as its server's lifespan state: the bus carrying
change events to 2026-07-28 `subscriptions/listen` streams, and the Tasks extension's tasks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from mcp.server import Server
from mcp.server.subscriptions import InMemorySubscriptionBus, ServerEvent

from tests.upstream.state import Ctx
from tests.upstream.tasks import TaskStore


@dataclass
class Shared:
    bus: InMemorySubscriptionBus = field(default_factory=InMemorySubscriptionBus)
    tasks: TaskStore = field(default_factory=TaskStore)
    _entered: int = 0

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Server[Any]) -> AsyncIterator[Shared]:
        # Entered once by the Streamable HTTP manager and once per legacy SSE connection, all
        # sharing this state; the last to leave stops the tasks still running.
        self._entered += 1
        try:
            yield self
        finally:
            self._entered -= 1
            if not self._entered:
                await self.tasks.close()


def shared(ctx: Ctx) -> Shared:
    found = ctx.lifespan_context
    assert isinstance(found, Shared), found
    return found


def task_store(ctx: Ctx) -> TaskStore:
    return shared(ctx).tasks


async def announce(ctx: Ctx, event: ServerEvent) -> None:
    """Tell every open subscriptions/listen stream that asked for this kind of event."""
    await shared(ctx).bus.publish(event)
