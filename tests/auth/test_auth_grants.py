"""Grants (authorization rules) and revisions, through the worker on the real bus."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from mcpgw_auth.grants import GrantTable

from mcpgw.contracts import AuthIndex, ErrorCode, Grant, McpgwError, PresentedCredential, VerifyReply
from tests.auth.harness import SERVER_ID, AuthHarness, bearer, consumer, eventually, running_auth, start_auth

ALICE = "sk-alice-0123456789abcdef"
BOB = "sk-bob-0123456789abcdef"
CAROL = "sk-carol-0123456789abcdef"


def rule(rule_id: str, cid: str, tools: list[str] | None = None, *, server: str = SERVER_ID,
         expires_at: int = 0) -> Grant:
    return Grant(rule_id=rule_id, consumer_id=cid, server_id=server, tools=tools, expires_at=expires_at)


def now_ms() -> int:
    return int(time.time() * 1000)


def index(*grants: Grant, revision: int = 10) -> AuthIndex:
    return AuthIndex(
        consumers=[consumer("cs-alice", ALICE), consumer("cs-bob", BOB), consumer("cs-carol", CAROL)],
        grants=list(grants),
        revision=revision,
    )


@pytest.fixture
async def auth(nats_url: str, root: str) -> AsyncIterator[AuthHarness]:
    grants = index(
        rule("car-1", "cs-alice"),                                  # server level
        rule("car-2", "cs-bob", ["get_pet", "list_pets"]),          # tool level ...
        rule("car-3", "cs-bob", ["add_pet", "get_pet"]),            # ... adding up
        rule("car-4", "cs-bob", ["other"], server="mcp-2"),         # another server
    )
    async for harness in start_auth(nats_url, root, grants):
        yield harness


async def test_server_level_tool_level_and_none(auth: AuthHarness) -> None:
    reply = await auth.verify(bearer(ALICE))
    assert (reply.outcome, reply.consumer_id, reply.allowed_tools) == ("allow", "cs-alice", None)

    reply = await auth.verify(bearer(BOB))
    assert (reply.outcome, reply.consumer_id) == ("allow", "cs-bob")
    assert reply.allowed_tools == ["add_pet", "get_pet", "list_pets"]
    reply = await auth.verify(bearer(BOB), server_id="mcp-2")
    assert reply.allowed_tools == ["other"]

    # Known, enabled, but not granted: forbidden (403), and the reason gives nothing away.
    reply = await auth.verify(bearer(CAROL))
    assert (reply.outcome, reply.reason) == ("forbidden", "consumer is not authorized for this MCP server")
    assert reply.allowed_tools is None and CAROL not in reply.reason
    # A server with consumer auth on and no grants at all is closed to everyone.
    for key in (ALICE, BOB, CAROL):
        assert (await auth.verify(bearer(key), server_id="mcp-empty")).outcome == "forbidden"
    # Unknown credentials stay unauthenticated, not forbidden.
    assert (await auth.verify(bearer("sk-nobody"))).outcome == "unauthenticated"


async def test_an_authorized_credential_wins_over_an_unauthorized_one(auth: AuthHarness) -> None:
    reply = await auth.verify(bearer(CAROL), bearer(ALICE))
    assert (reply.outcome, reply.consumer_id) == ("allow", "cs-alice")


def test_server_level_wins_and_expired_grants_count_for_nothing() -> None:
    now = 1_800_000_000_000
    table = GrantTable.build([
        rule("car-1", "a", ["t1"]),
        rule("car-2", "a"),
        rule("car-3", "b", ["t2"]),
        rule("car-4", "b", expires_at=now - 1),                     # expired server-level grant
        rule("car-5", "b", ["t3"], expires_at=now + 60_000),        # still running
        rule("car-6", "c", ["t1"], expires_at=now),                 # expires this very millisecond
        rule("car-7", "d", []),                                     # grants nothing
    ])
    a = table.access("a", SERVER_ID, now)
    assert (a.allowed, a.tools) == (True, None)
    b = table.access("b", SERVER_ID, now)
    assert (b.allowed, b.tools) == (True, ["t2", "t3"])
    assert not table.access("c", SERVER_ID, now).allowed
    assert not table.access("d", SERVER_ID, now).allowed
    assert not table.access("a", "mcp-elsewhere", now).allowed
    later = table.access("b", SERVER_ID, now + 120_000)
    assert later.tools == ["t2"]


async def test_expired_grant_through_the_worker(auth: AuthHarness) -> None:
    auth.registry.index = index(rule("car-1", "cs-alice", expires_at=now_ms() - 1000),
                                rule("car-2", "cs-bob", ["x"], expires_at=now_ms() + 3_600_000), revision=11)
    await auth.grant_changed("car-1", revision=11)
    await eventually(lambda: auth.verify(bearer(ALICE)),
                     lambda r: isinstance(r, VerifyReply) and r.outcome == "forbidden")
    assert (await auth.verify(bearer(BOB))).allowed_tools == ["x"]


async def test_grant_events_reload_and_old_revisions_do_not(auth: AuthHarness) -> None:
    assert (await auth.verify(bearer(CAROL))).outcome == "forbidden"
    # One load, made for this very request: nothing newer to re-check before refusing.
    assert auth.registry.requests == 1
    # An event the loaded index already includes costs nothing.
    await auth.grant_changed("car-1", revision=10)
    await auth.changed("cs-alice", revision=9)
    auth.registry.index = index(rule("car-9", "cs-carol", ["t"]), revision=12)
    await auth.grant_changed("car-9", revision=12)
    reply = await eventually(lambda: auth.verify(bearer(CAROL)),
                             lambda r: isinstance(r, VerifyReply) and r.outcome == "allow")
    assert isinstance(reply, VerifyReply) and reply.allowed_tools == ["t"]
    assert auth.registry.requests == 2
    # The revoked grant is gone with it (after one re-check: that index predates the request).
    assert (await auth.verify(bearer(ALICE))).outcome == "forbidden"
    assert auth.registry.requests == 3


async def test_min_revision_forces_a_reload_before_answering(auth: AuthHarness) -> None:
    assert (await auth.verify(bearer(ALICE))).outcome == "allow"
    # The registry revoked alice's grant at revision 11; the edge heard of it, this worker did
    # not (no event published). The next verify must not answer "allow" from revision 10.
    auth.registry.index = index(revision=11)
    reply = await auth.verify(bearer(ALICE), min_revision=11)
    assert reply.outcome == "forbidden"
    assert auth.registry.requests == 2  # the catch-up, read after the request: no re-check needed
    # Later requests asking for less are answered from that index: no catch-up, only the re-check
    # before refusing (the index predates them).
    assert (await auth.verify(bearer(ALICE), min_revision=5)).outcome == "forbidden"
    assert auth.registry.requests == 3


async def test_a_revision_the_registry_cannot_reach_is_unavailable(auth: AuthHarness) -> None:
    assert (await auth.verify(bearer(ALICE))).outcome == "allow"
    with pytest.raises(McpgwError) as err:
        await auth.verify(bearer(ALICE), min_revision=99)
    assert (err.value.code, err.value.message) == (ErrorCode.NO_RESPONDERS, "consumer directory unavailable")
    # Without the demand, the index (revision 10) still answers.
    assert (await auth.verify(bearer(ALICE))).outcome == "allow"


async def test_concurrent_catch_ups_share_fetches(auth: AuthHarness) -> None:
    assert (await auth.verify(bearer(ALICE))).outcome == "allow"
    assert auth.registry.requests == 1
    auth.registry.index = index(revision=11)
    loader = auth.service.index
    wanted = loader._wanted
    auth.registry.open.clear()  # the catch-up's fetch stays in flight until every request is in
    replies = asyncio.gather(*(auth.verify(bearer(ALICE), min_revision=11) for _ in range(20)))

    async def catch_ups() -> int:  # each request asking for a catch-up moves the loader's target once
        return loader._wanted - wanted

    await eventually(catch_ups, lambda n: n == 20)
    auth.registry.open.set()
    assert {r.outcome for r in await replies} == {"forbidden"}
    # The fetch in flight plus at most one behind it for those who came after it began (none if
    # it began after all of them); no per-request fetch, and no re-check before refusing: their
    # index was read after they arrived.
    assert auth.registry.requests in (2, 3)


async def test_an_answer_is_valid_only_until_the_grant_expires(nats_url: str, root: str) -> None:
    alice = consumer("cs-a", "alice-key-0123456789")
    expires = int(time.time() * 1000) + 60_000
    index = AuthIndex(consumers=[alice], grants=[
        Grant(rule_id="car-1", consumer_id="cs-a", server_id=SERVER_ID, tools=["t"], expires_at=expires)])
    async with running_auth(nats_url, root, index) as auth:
        reply = await auth.verify(PresentedCredential(source="bearer", value="alice-key-0123456789"))
    assert reply.outcome == "allow" and reply.allowed_tools == ["t"]
    assert reply.valid_until == expires / 1000


async def test_a_key_or_grant_made_a_moment_ago_works_before_its_event_arrives(nats_url: str, root: str) -> None:
    alice = consumer("cs-a", "alice-key-0123456789")
    async with running_auth(nats_url, root, AuthIndex(consumers=[], revision=1)) as auth:
        key = PresentedCredential(source="bearer", value="alice-key-0123456789")
        assert (await auth.verify(key)).reason == "invalid credential"
        # The registry has the new consumer, but no event was published (or it is still in flight).
        auth.registry.index = AuthIndex(consumers=[alice], revision=2)
        assert (await auth.verify(key)).outcome == "forbidden"  # known now, but not yet granted
        auth.registry.index = AuthIndex(consumers=[alice], grants=[
            Grant(rule_id="car-1", consumer_id="cs-a", server_id=SERVER_ID)], revision=3)
        assert (await auth.verify(key)).outcome == "allow"
        # Unknown keys still get a refusal, each after one shared re-check of the directory.
        loads = auth.registry.requests
        wrong = [auth.verify(PresentedCredential(source="bearer", value=f"guess-{i:020d}")) for i in range(20)]
        assert {r.reason for r in await asyncio.gather(*wrong)} == {"invalid credential"}
        assert auth.registry.requests - loads <= 2
