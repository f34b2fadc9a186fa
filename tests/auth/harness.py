"""The auth worker in-process against the real nats-server, with a stand-in registry on the bus."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from mcpgw_auth.service import AuthService
from mcpgw_auth.settings import AuthSettings
from nats.aio.subscription import Subscription

from mcpgw.contracts import (
    ApiKeySource,
    AuthIndex,
    AuthIndexRequest,
    ConfigChanged,
    ConsumerCredentials,
    Grant,
    McpgwError,
    PresentedCredential,
    SourcesReply,
    SourcesRequest,
    VerifyReply,
    VerifyRequest,
)
from mcpgw.runtime.bus import Bus

SERVER_ID = "mcp-1"


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def consumer(cid: str, *keys: str, source: str = "Default", name: str = "", enable: bool = True) -> ConsumerCredentials:
    return ConsumerCredentials(
        consumer_id=cid,
        name=f"{cid}-name",
        enable=enable,
        apikey_hashes=[sha(k) for k in keys],
        apikey_source=ApiKeySource(source=source, value=name),  # type: ignore[arg-type]
    )


def server_grants(consumers: list[ConsumerCredentials], server_id: str = SERVER_ID) -> list[Grant]:
    return [Grant(rule_id=f"car-{c.consumer_id}", consumer_id=c.consumer_id, server_id=server_id) for c in consumers]


def granted(*consumers: ConsumerCredentials, revision: int = 0) -> AuthIndex:
    """An index in which every consumer may use the whole of `mcp-1`."""
    return AuthIndex(consumers=list(consumers), grants=server_grants(list(consumers)), revision=revision)


class FakeRegistry:
    """Answers `registry.auth.index` with whatever `index` holds now."""

    def __init__(self, bus: Bus, index: AuthIndex) -> None:
        self.bus = bus
        self.index = index
        self.requests = 0
        self.sub: Subscription | None = None
        # Cleared, it holds every answer back until set again: a test can have requests pile up
        # behind a fetch in flight without depending on how fast they happen to arrive.
        self.open = asyncio.Event()
        self.open.set()

    async def _answer(self, request: AuthIndexRequest) -> AuthIndex:
        self.requests += 1
        await self.open.wait()
        return self.index

    async def up(self) -> None:
        self.sub = await self.bus.serve(self.bus.subjects.registry_auth_index, AuthIndexRequest, self._answer)
        await self.bus.sync()

    async def down(self) -> None:
        assert self.sub is not None
        await self.sub.unsubscribe()
        await self.bus.sync()
        self.sub = None


@dataclass
class AuthHarness:
    client: Bus
    registry: FakeRegistry
    service: AuthService

    async def verify(self, *credentials: PresentedCredential, server: str = "demo", server_id: str = SERVER_ID,
                     min_revision: int = 0) -> VerifyReply:
        request = VerifyRequest(server_id=server_id, server_name=server, credentials=list(credentials),
                                min_revision=min_revision)
        return await self.client.request(self.client.subjects.auth_verify, request, VerifyReply, timeout=5)

    async def sources(self) -> SourcesReply:
        return await self.client.request(self.client.subjects.auth_sources, SourcesRequest(), SourcesReply, timeout=5)

    async def changed(self, consumer_id: str, revision: int = 0) -> None:
        event = ConfigChanged(entity="consumer", id=consumer_id, op="put", revision=revision)
        await self.client.publish(self.client.subjects.event_consumer(consumer_id), event)

    async def grant_changed(self, rule_id: str, revision: int = 0, op: str = "put") -> None:
        event = ConfigChanged(entity="grant", id=rule_id, op=op, revision=revision)  # type: ignore[arg-type]
        await self.client.publish(self.client.subjects.event_grant(rule_id), event)


async def start_auth(nats_url: str, root: str, index: AuthIndex, *, registry_up: bool = True,
                     **settings: float) -> AsyncIterator[AuthHarness]:
    client = await Bus.connect(nats_url, name="test-client", root=root)
    registry = FakeRegistry(client, index)
    if registry_up:
        await registry.up()
    service = AuthService(AuthSettings(nats_url=nats_url, subject_root=root, registry_timeout=1.0,
                                       **settings))  # type: ignore[arg-type]
    await service.start()
    try:
        yield AuthHarness(client, registry, service)
    finally:
        await service.stop()
        await client.close()


# For a test that starts the worker itself: `async with running_auth(...) as auth:`.
running_auth = asynccontextmanager(start_auth)


async def eventually(probe: Callable[[], Awaitable[object]], accept: Callable[[object], bool],
                     deadline: float = 5.0) -> object:
    """Re-ask until the answer is acceptable (bounded): change events are asynchronous."""
    end = time.monotonic() + deadline
    while True:
        try:
            answer: object = await probe()
        except McpgwError as exc:
            answer = exc
        if accept(answer):
            return answer
        if time.monotonic() > end:
            raise AssertionError(f"still {answer!r} after {deadline}s")
        await asyncio.sleep(0.02)


def bearer(key: str) -> PresentedCredential:
    return PresentedCredential(source="bearer", value=key)
