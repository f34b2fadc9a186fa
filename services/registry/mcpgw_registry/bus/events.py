"""Change events: published after every committed write so caches drop what changed."""

from __future__ import annotations

import logging
from typing import Literal

from mcpgw.contracts.registry import ConfigChanged
from mcpgw.runtime.bus import Bus

log = logging.getLogger(__name__)


class Events:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def _publish(self, subject: str, event: ConfigChanged) -> None:
        # The write is committed already; failing the request now would make the caller retry a
        # write that succeeded. Caches also expire on their own, so a lost event is logged only.
        try:
            await self._bus.publish(subject, event)
        except Exception as exc:
            log.warning("could not publish %s %s %s: %s", event.entity, event.op, event.id, exc)

    async def server(self, server_id: str, op: Literal["put", "delete"], name: str, revision: int) -> None:
        await self._publish(self._bus.subjects.event_server(server_id),
                            ConfigChanged(entity="server", id=server_id, op=op, name=name, revision=revision))

    async def consumer(self, consumer_id: str, op: Literal["put", "delete"], name: str, revision: int) -> None:
        await self._publish(self._bus.subjects.event_consumer(consumer_id),
                            ConfigChanged(entity="consumer", id=consumer_id, op=op, name=name, revision=revision))

    async def grant(self, rule_id: str, op: Literal["put", "delete"], consumer_id: str, revision: int) -> None:
        # `name` carries the consumer id: a cache keyed by consumer can drop just that one.
        await self._publish(self._bus.subjects.event_grant(rule_id),
                            ConfigChanged(entity="grant", id=rule_id, op=op, name=consumer_id, revision=revision))

    async def service(self, service_id: str, op: Literal["put", "delete"], name: str, revision: int) -> None:
        await self._publish(self._bus.subjects.event_service(service_id),
                            ConfigChanged(entity="service", id=service_id, op=op, name=name, revision=revision))
