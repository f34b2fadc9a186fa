"""A grant goes with its consumer or server: deleted by their stores, and never honoured once they are gone.

The repositories are used directly, on a real JetStream bucket, without the HTTP handlers: the
cascade is the stores' own. A crash between an owner's delete and its grants' is the state the
owner's key alone deleted leaves, made here by deleting just that key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from mcpgw_registry.bus import auth_index
from mcpgw_registry.bus.events import Events
from mcpgw_registry.resources.consumers.model import CreateConsumer
from mcpgw_registry.resources.grants import RuleDraft
from mcpgw_registry.resources.servers.model import CreateServer
from mcpgw_registry.resources.servers.snapshots import SnapshotCache
from mcpgw_registry.stores import keys
from mcpgw_registry.stores.blobs import BlobStore
from mcpgw_registry.stores.consumers import ConsumerRepository
from mcpgw_registry.stores.grant_records import GrantRecords
from mcpgw_registry.stores.grants import GrantRepository
from mcpgw_registry.stores.kv import Store
from mcpgw_registry.stores.servers import ServerRepository

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.runtime.bus import Bus


@dataclass
class Stores:
    kv: Store
    servers: ServerRepository
    consumers: ConsumerRepository
    grants: GrantRepository

    async def grant(self, consumer: str, server: str) -> str:
        draft = RuleDraft(field="", consumer_field="consumerId", consumer_id=consumer, server_id=server, tools=None,
                          expire_mode="LongTerm", expires_at=0)
        [(record, _)] = await self.grants.create([draft], now_ms=1)
        return record.id

    async def stored_grants(self) -> set[str]:
        """The grant keys in the bucket, whether or not anything honours them."""
        return {entry.key for entry in await self.kv.scan(keys.GRANTS)}

    async def honoured(self) -> set[str]:
        """The rule ids the auth worker would be given."""
        index = await auth_index.build(self.kv, self.consumers, self.grants)
        return {grant.rule_id for grant in index.grants}


@pytest.fixture
async def stores(bus: Bus, root: str) -> AsyncIterator[Stores]:
    kv = await Store.open(bus.nc, f"gr-{root}", replicas=1, timeout=5)
    events = Events(bus)
    records = GrantRecords(kv, events)
    servers = ServerRepository(kv, events, SnapshotCache(), BlobStore(bus.nc, f"gr-{root}-o", replicas=1, timeout=5),
                               records, max_import_bytes=1 << 20)
    consumers = ConsumerRepository(kv, events, records)
    yield Stores(kv, servers, consumers, GrantRepository(records, consumers, servers))


async def _owners(stores: Stores) -> tuple[str, str, str]:
    """Two consumers and a server."""
    alice, _, _ = await stores.consumers.create(CreateConsumer(name="alice"), now_ms=1)
    bob, _, _ = await stores.consumers.create(CreateConsumer(name="bob"), now_ms=1)
    server, _, _ = await stores.servers.create(CreateServer(name="weather"), now_ms=1)
    return alice.id, bob.id, server.id


async def test_deleting_a_server_or_consumer_in_its_store_deletes_its_grants(stores: Stores) -> None:
    alice, bob, server = await _owners(stores)
    other, _, _ = await stores.servers.create(CreateServer(name="other"), now_ms=1)
    kept = await stores.grant(bob, other.id)
    await stores.grant(alice, server)
    await stores.grant(bob, server)
    await stores.servers.delete(server)
    assert await stores.stored_grants() == {keys.grant(kept)}
    await stores.grant(alice, other.id)
    await stores.consumers.delete(alice)
    assert await stores.stored_grants() == {keys.grant(kept)}
    assert await stores.honoured() == {kept}


@pytest.mark.parametrize("owner", ["server", "consumer"])
async def test_a_crash_between_an_owners_delete_and_its_grants_leaves_nothing_honoured(stores: Stores,
                                                                                       owner: str) -> None:
    alice, bob, server = await _owners(stores)
    orphan = await stores.grant(alice, server)
    kept = await stores.grant(bob, server) if owner == "consumer" else None
    # The owner's delete happened, the process died before anything else.
    await stores.kv.delete(keys.server(server) if owner == "server" else keys.consumer(alice))
    assert keys.grant(orphan) in await stores.stored_grants()

    with pytest.raises(McpgwError) as read:
        await stores.grants.get(orphan)
    assert read.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(McpgwError) as deleted:
        await stores.grants.delete([orphan])
    assert deleted.value.code is ErrorCode.NOT_FOUND
    assert await stores.honoured() == ({kept} if kept else set())
    assert [record.id for record, _ in await stores.grants.all()] == ([kept] if kept else [])
    # The listing swept what the crash left behind.
    assert await stores.stored_grants() == ({keys.grant(kept)} if kept else set())
