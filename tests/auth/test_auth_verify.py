"""The auth worker in-process against the real nats-server, with a stand-in registry on the bus."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from mcpgw.contracts import AuthIndex, ErrorCode, McpgwError, PresentedCredential, VerifyReply
from mcpgw.devcluster import start_service
from mcpgw.runtime.bus import Bus
from tests.auth.harness import AuthHarness, FakeRegistry, bearer, consumer, eventually, granted, sha, start_auth

BEARER_KEY = "sk-bearer-0123456789abcdef"
HEADER_KEY = "sk-header-0123456789abcdef"
QUERY_KEY = "sk-query-0123456789abcdef"
DISABLED_KEY = "sk-disabled-0123456789abcdef"


def default_index() -> AuthIndex:
    return granted(
        consumer("cs-bearer", BEARER_KEY),
        consumer("cs-header", HEADER_KEY, source="Header", name="X-Api-Key"),
        consumer("cs-query", QUERY_KEY, source="QueryString", name="apikey"),
        consumer("cs-off", DISABLED_KEY, enable=False),
    )


@pytest.fixture
async def auth(nats_url: str, root: str) -> AsyncIterator[AuthHarness]:
    async for harness in start_auth(nats_url, root, default_index()):
        yield harness


@pytest.fixture
async def auth_no_registry(nats_url: str, root: str) -> AsyncIterator[AuthHarness]:
    async for harness in start_auth(nats_url, root, default_index(), registry_up=False):
        yield harness


async def test_allow_by_bearer_header_and_query(auth: AuthHarness) -> None:
    reply = await auth.verify(bearer(BEARER_KEY))
    assert (reply.outcome, reply.consumer_id, reply.consumer_name) == ("allow", "cs-bearer", "cs-bearer-name")
    assert reply.allowed_tools is None

    # Header names match case-insensitively.
    for name in ("X-Api-Key", "x-api-key", "X-API-KEY"):
        reply = await auth.verify(PresentedCredential(source="header", name=name, value=HEADER_KEY))
        assert (reply.outcome, reply.consumer_id) == ("allow", "cs-header"), name

    reply = await auth.verify(PresentedCredential(source="query", name="apikey", value=QUERY_KEY))
    assert (reply.outcome, reply.consumer_id) == ("allow", "cs-query")


async def test_a_key_only_counts_where_its_consumer_reads_it(auth: AuthHarness) -> None:
    wrong_places = [
        PresentedCredential(source="header", name="X-Api-Key", value=BEARER_KEY),
        bearer(HEADER_KEY),
        PresentedCredential(source="header", name="X-Other", value=HEADER_KEY),
        bearer(QUERY_KEY),
        # Query parameter names are exact.
        PresentedCredential(source="query", name="APIKEY", value=QUERY_KEY),
        PresentedCredential(source="header", name="apikey", value=QUERY_KEY),
    ]
    for credential in wrong_places:
        reply = await auth.verify(credential)
        assert (reply.outcome, reply.reason) == ("unauthenticated", "invalid credential"), credential


async def test_wrong_missing_and_disabled(auth: AuthHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-secret-value-xyz"
    reply = await auth.verify(bearer(wrong))
    assert (reply.outcome, reply.reason, reply.consumer_id) == ("unauthenticated", "invalid credential", "")

    reply = await auth.verify()
    assert (reply.outcome, reply.reason) == ("unauthenticated", "missing credential")
    reply = await auth.verify(bearer(""))
    assert (reply.outcome, reply.reason) == ("unauthenticated", "missing credential")

    reply = await auth.verify(bearer(DISABLED_KEY))
    assert (reply.outcome, reply.reason, reply.consumer_id) == ("unauthenticated", "consumer disabled", "")

    # The first credential that matches an enabled consumer wins, wherever it stands.
    reply = await auth.verify(bearer(DISABLED_KEY), bearer(wrong),
                              PresentedCredential(source="query", name="apikey", value=QUERY_KEY))
    assert (reply.outcome, reply.consumer_id) == ("allow", "cs-query")

    for secret in (wrong, DISABLED_KEY, QUERY_KEY, sha(wrong), sha(QUERY_KEY)):
        assert secret not in caplog.text


async def test_index_loads_once_and_reloads_after_a_change_event(auth: AuthHarness) -> None:
    for _ in range(5):
        assert (await auth.verify(bearer(BEARER_KEY))).outcome == "allow"
    assert auth.registry.requests == 1

    # The registry disables cs-bearer and enables cs-off, then announces both.
    auth.registry.index = granted(
        consumer("cs-bearer", BEARER_KEY, enable=False),
        consumer("cs-off", DISABLED_KEY, enable=True),
        consumer("cs-new", "sk-brand-new-key", source="Header", name="X-New-Key"),
    )
    await auth.changed("cs-bearer")
    await auth.changed("cs-off")

    await eventually(lambda: auth.verify(bearer(BEARER_KEY)),
                     lambda r: isinstance(r, VerifyReply) and r.reason == "consumer disabled")
    reply = await auth.verify(bearer(DISABLED_KEY))
    assert (reply.outcome, reply.consumer_id) == ("allow", "cs-off")
    reply = await auth.verify(PresentedCredential(source="header", name="x-new-key", value="sk-brand-new-key"))
    assert (reply.outcome, reply.consumer_id) == ("allow", "cs-new")
    # Two events, at most two reloads (one in flight, one queued), plus the first load.
    assert 2 <= auth.registry.requests <= 3
    sources = await auth.sources()
    assert (sources.headers, sources.query) == (["x-new-key"], [])


async def test_registry_down_is_unavailable_not_deny(auth_no_registry: AuthHarness) -> None:
    auth = auth_no_registry
    with pytest.raises(McpgwError) as err:
        await auth.verify(bearer(BEARER_KEY))
    assert (err.value.code, err.value.message) == (ErrorCode.NO_RESPONDERS, "consumer directory unavailable")
    with pytest.raises(McpgwError) as err:
        await auth.sources()
    assert err.value.code is ErrorCode.NO_RESPONDERS
    # No credential needs no directory.
    assert (await auth.verify()).reason == "missing credential"

    # Once the registry answers, the next verify loads the index.
    await auth.registry.up()
    assert (await auth.verify(bearer(BEARER_KEY))).outcome == "allow"


async def test_stale_index_is_not_used_when_the_reload_fails(auth: AuthHarness) -> None:
    assert (await auth.verify(bearer(BEARER_KEY))).outcome == "allow"
    await auth.registry.down()
    await auth.changed("cs-bearer")
    err = await eventually(lambda: auth.verify(bearer(BEARER_KEY)), lambda r: isinstance(r, McpgwError))
    assert isinstance(err, McpgwError) and err.code is ErrorCode.NO_RESPONDERS
    await auth.registry.up()
    assert (await auth.verify(bearer(BEARER_KEY))).outcome == "allow"


async def test_sources_lists_header_and_query_names(auth: AuthHarness) -> None:
    auth.registry.index = AuthIndex(consumers=[
        consumer("a", "k1", source="Header", name="X-Api-Key"),
        consumer("b", "k2", source="Header", name="x-api-key"),
        consumer("c", "k3", source="Header", name="Api-Token", enable=False),
        consumer("d", "k4", source="QueryString", name="apikey"),
        consumer("e", "k5", source="QueryString", name="token"),
        consumer("f", "k6"),
    ])
    sources = await auth.sources()
    assert sources.headers == ["api-token", "x-api-key"]
    assert sources.query == ["apikey", "token"]


async def test_runs_as_its_own_process(nats_url: str, root: str) -> None:
    client = await Bus.connect(nats_url, name="test-client", root=root)
    registry = FakeRegistry(client, default_index())
    await registry.up()
    proc = await start_service("mcpgw_auth", {"MCPGW_NATS_URL": nats_url, "MCPGW_AUTH_SUBJECT_ROOT": root,
                                              "MCPGW_AUTH_LOG_LEVEL": "WARNING"})
    try:
        harness = AuthHarness(client, registry, None)  # type: ignore[arg-type]
        reply = await harness.verify(bearer(BEARER_KEY))
        assert (reply.outcome, reply.consumer_id) == ("allow", "cs-bearer")
    finally:
        await proc.stop()
        await client.close()
    assert proc.proc.returncode == 0, "\n".join(proc.lines)
