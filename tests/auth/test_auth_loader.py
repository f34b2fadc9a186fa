"""The index loader's coalescing, with a fetch the test controls (no bus needed)."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from mcpgw_auth.index import ConsumerIndex
from mcpgw_auth.loader import IndexLoader

from mcpgw.contracts import ApiKeySource, AuthIndex, ConsumerCredentials, ErrorCode, McpgwError, PresentedCredential


class GatedFetch:
    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False

    async def __call__(self) -> AuthIndex:
        self.calls += 1
        await self.gate.wait()
        if self.fail:
            raise McpgwError(ErrorCode.NO_RESPONDERS, "no service is answering registry")
        key = hashlib.sha256(f"key-{self.calls}".encode()).hexdigest()
        return AuthIndex(consumers=[ConsumerCredentials(consumer_id=f"c{self.calls}", name="n", apikey_hashes=[key])])


async def test_a_burst_of_events_costs_at_most_two_reloads() -> None:
    fetch = GatedFetch()
    loader = IndexLoader(fetch)
    await loader.current()
    assert fetch.calls == 1

    fetch.gate.clear()
    for _ in range(50):
        loader.invalidate()
    waiter = asyncio.ensure_future(loader.current())
    await asyncio.sleep(0)  # let the reload start and block on the gate
    for _ in range(50):
        loader.invalidate()
    fetch.gate.set()
    index = await asyncio.wait_for(waiter, 5)
    # One reload was in flight during the second burst, exactly one more followed it.
    assert fetch.calls == 3
    assert index.lookup(PresentedCredential(source="bearer", value="key-3")) is not None
    await loader.close()


async def test_concurrent_first_callers_share_one_load() -> None:
    fetch = GatedFetch()
    fetch.gate.clear()
    loader = IndexLoader(fetch)
    waiters = [asyncio.ensure_future(loader.current()) for _ in range(20)]
    await asyncio.sleep(0)
    fetch.gate.set()
    results = await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert fetch.calls == 1
    assert all(r is results[0] for r in results)


async def test_failure_is_reported_and_retried_on_next_need() -> None:
    fetch = GatedFetch()
    fetch.fail = True
    loader = IndexLoader(fetch)
    with pytest.raises(McpgwError) as err:
        await loader.current()
    assert (err.value.code, err.value.message) == (ErrorCode.NO_RESPONDERS, "consumer directory unavailable")
    fetch.fail = False
    assert isinstance(await loader.current(), ConsumerIndex)
    assert fetch.calls == 2


def test_index_ignores_malformed_material() -> None:
    good = hashlib.sha256(b"k").hexdigest()
    index = ConsumerIndex.build(AuthIndex(consumers=[
        ConsumerCredentials(consumer_id="a", name="a", apikey_hashes=["not-a-digest", good.upper()]),
        # A Header source with no header name cannot be matched.
        ConsumerCredentials(consumer_id="b", name="b", apikey_hashes=[good],
                            apikey_source=ApiKeySource(source="Header", value=" ")),
    ]))
    assert index.header_names == []
    found = index.lookup(PresentedCredential(source="bearer", value="k"))
    assert found is not None and found.consumer_id == "a"


async def test_an_old_index_is_refreshed_in_the_background_and_kept_if_that_fails() -> None:
    fetch = GatedFetch()
    loader = IndexLoader(fetch, max_age=60)
    first = await loader.current()
    loader._loaded_at -= 61  # as if a minute had passed without an event
    fetch.fail = True
    assert await loader.current() is first  # answered at once from the index it has
    assert loader._task is not None
    await asyncio.wait_for(asyncio.shield(loader._task), 5)
    assert fetch.calls == 2
    # The failed refresh did not make the index unusable, and is not retried on every call.
    assert await loader.current() is first
    assert fetch.calls == 2
    await loader.close()


class RevisionFetch:
    """A registry whose answer reflects the revision at the moment the fetch started."""

    def __init__(self) -> None:
        self.calls = 0
        self.revision = 1
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self) -> AuthIndex:
        self.calls += 1
        seen = self.revision
        await self.gate.wait()
        return AuthIndex(revision=seen)


async def test_catch_up_does_not_trust_a_reload_that_started_before_the_write() -> None:
    fetch = RevisionFetch()
    loader = IndexLoader(fetch, catch_up_wait=5)
    assert (await loader.current()).revision == 1
    fetch.gate.clear()
    loader.invalidate()  # a reload starts and reads revision 1 ...
    await asyncio.sleep(0)
    fetch.revision = 2  # ... then the write the edge will tell us about lands
    waiter = asyncio.ensure_future(loader.current(min_revision=2))
    await asyncio.sleep(0)
    fetch.gate.set()
    assert (await asyncio.wait_for(waiter, 5)).revision == 2
    assert fetch.calls == 3
    await loader.close()


async def test_catch_up_gives_up_within_its_wait() -> None:
    fetch = RevisionFetch()
    loader = IndexLoader(fetch, catch_up_wait=0.05)
    await loader.current()
    fetch.gate.clear()  # the registry hangs
    with pytest.raises(McpgwError) as err:
        await loader.current(min_revision=2)
    assert err.value.message == "consumer directory unavailable"
    fetch.gate.set()
    await loader.close()
