"""A 2026-07-28 client in front of a handshake-era upstream: the gateway bridges the eras.

The fixture's legacy HTTP+SSE endpoint speaks the handshake era only. Its `test_elicitation` tool
asks the client mid-call (elicitation/create); through the bridge a modern client gets
`input_required` with a requestState the gateway sealed, and retries with the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import mcp.types as types
import pytest
import redis.asyncio as aioredis
from mcp import ClientSession
from mcp.client.session import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcpgw_hosting.service import HostingService

from mcpgw import statistics
from mcpgw.contracts import RedisKeys
from tests.cluster import Cluster
from tests.edge.raw import Answer, Raw
from tests.upstream.fixture_server import RunningFixture, running_fixture
from tests.upstream.modern_only import ModernOnly, running_modern_only
from tests.upstream.raw_server import running_raw_upstream
from tests.util import next_data

MODERN = "2026-07-28"


def _meta(**capabilities: Any) -> dict[str, Any]:
    return {"io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": capabilities,
            "io.modelcontextprotocol/clientInfo": {"name": "bridge-test", "version": "1"}}


@pytest.fixture
async def fixture() -> AsyncIterator[RunningFixture]:
    async with running_fixture() as running:
        yield running


async def _call(http: aiohttp.ClientSession, url: str, params: dict[str, Any], request_id: int,
                key: str | None = None) -> Answer:
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": params["name"]}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return await Raw(http, url).send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params},
                                     headers=headers, session=False)


def _elicitation(meta: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "test_elicitation", "arguments": {"message": "who are you?"}, "_meta": meta, **extra}


async def test_input_required_then_a_retry_with_the_answer(cluster: Cluster, fixture: RunningFixture,
                                                           http: aiohttp.ClientSession) -> None:
    await cluster.host("old", fixture.sse_url, transport="SSE")
    url = cluster.mcp_url("old")
    meta = _meta(elicitation={})
    first = await _call(http, url, _elicitation(meta), 1)
    result = first.json["result"]
    assert result["resultType"] == "input_required", first.text
    (key, request), = result["inputRequests"].items()
    assert request["method"] == "elicitation/create"
    state = result["requestState"]

    # The state is the gateway's: altered, it is refused.
    tampered = state[:-4] + ("AAAA" if not state.endswith("AAAA") else "BBBB")
    refused = await _call(http, url, _elicitation(meta, requestState=tampered,
                                                  inputResponses={key: {"action": "decline"}}), 2)
    assert refused.status == 400 and refused.json["error"]["code"] == -32602
    assert "altered" in refused.json["error"]["message"]

    answer = {"action": "accept", "content": {"username": "ada", "email": "ada@example.com"}}
    done = await _call(http, url, _elicitation(meta, requestState=state, inputResponses={key: answer}), 3)
    assert done.json["id"] == 3
    assert done.json["result"]["resultType"] == "complete"
    assert "ada" in str(done.json["result"]["content"])


async def test_the_upstream_learns_what_the_client_can_do(cluster: Cluster, fixture: RunningFixture,
                                                          http: aiohttp.ClientSession) -> None:
    """The upstream session is opened with the client's declared capabilities: this upstream, told
    the client cannot answer an elicitation, refuses the tool itself (and the bridge passes it on)."""
    await cluster.host("old", fixture.sse_url, transport="SSE")
    refused = await _call(http, cluster.mcp_url("old"), _elicitation(_meta()), 1)
    result = refused.json["result"]
    assert result["isError"] is True and result["resultType"] == "complete"
    assert "does not support elicitation" in result["content"][0]["text"]


async def test_a_retry_reaches_the_worker_holding_the_call(cluster: Cluster, fixture: RunningFixture,
                                                           http: aiohttp.ClientSession) -> None:
    await cluster.host("old", fixture.sse_url, transport="SSE")
    url = cluster.mcp_url("old")
    second = HostingService(cluster.hosting.settings)
    await second.start()
    try:
        meta = _meta(elicitation={})
        answer = {"action": "accept", "content": {"username": "lin", "email": "lin@example.com"}}
        for i in range(6):  # NATS spreads first calls and retries over both workers
            started = await _call(http, url, _elicitation(meta), 10 * i)
            assert "result" in started.json, started.text
            first = started.json["result"]
            (key, _), = first["inputRequests"].items()
            done = await _call(http, url, _elicitation(meta, requestState=first["requestState"],
                                                       inputResponses={key: answer}), 10 * i + 1)
            assert "result" in done.json, (i, done.status, done.text)
            assert "lin" in str(done.json["result"]["content"]), done.text
        assert cluster.hosting.relay.calls and second.relay.calls
    finally:
        await second.stop()


async def test_a_requeststate_is_bound_to_its_consumer(cluster: Cluster, fixture: RunningFixture,
                                                       http: aiohttp.ClientSession) -> None:
    server_id = await cluster.host("old", fixture.sse_url, transport="SSE", consumerAuthInfo={"enable": True})
    alice, alice_key = await cluster.create_consumer("alice")
    bob, bob_key = await cluster.create_consumer("bob")
    for consumer in (alice, bob):
        await cluster.grant(consumer, server_id)
    url = cluster.mcp_url("old")
    meta = _meta(elicitation={})
    first = (await _call(http, url, _elicitation(meta), 1, alice_key)).json["result"]
    (key, _), = first["inputRequests"].items()
    stolen = await _call(http, url, _elicitation(meta, requestState=first["requestState"],
                                                 inputResponses={key: {"action": "decline"}}), 2, bob_key)
    assert stolen.status == 400 and stolen.json["error"]["code"] == -32602


@pytest.fixture
async def modern_only() -> AsyncIterator[ModernOnly]:
    async with running_modern_only() as running:
        yield running


@pytest.mark.parametrize("downstream", ["streamable", "sse"])
async def test_a_handshake_era_client_in_front_of_a_2026_only_upstream(
        cluster: Cluster, modern_only: ModernOnly, downstream: str) -> None:
    """The upstream has no initialize: the gateway speaks 2026-07-28 to it on the client's behalf,
    and turns its input_required into a server-to-client elicitation the client answers."""
    await cluster.host("new-only", modern_only.url)
    url = cluster.mcp_url("new-only")
    reported: list[float] = []

    async def elicit(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        assert params.message == "What is your name?"
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    if downstream == "streamable":
        transport = streamable_http_client(url)
    else:
        transport = sse_client(url + "/sse")
    async with transport as (read, write), ClientSession(read, write, elicitation_callback=elicit) as session:
        init = await session.initialize()
        assert init.server_info.name == "modern-only"
        assert {t.name for t in (await session.list_tools()).tools} == {"greet", "echo", "wait"}
        echoed = await session.call_tool("echo", {"text": "hi"})
        assert echoed.content[0].text == "hi"  # type: ignore[union-attr]
        greeted = await session.call_tool("greet", {"greeting": "Hello"}, progress_callback=on_progress)
        assert not greeted.is_error, greeted
        assert greeted.content[0].text == "Hello, Ada!"  # type: ignore[union-attr]
    assert reported == [1]
    # The gateway tried initialize once (refused: that is how it knew), then spoke 2026-07-28 only.
    assert modern_only.methods.count("initialize") == 1
    assert modern_only.retries and modern_only.retries[0]["requestState"] == "opaque-state-of-the-upstream"


async def test_tool_calls_of_either_bridge_are_counted_once(cluster: Cluster, fixture: RunningFixture,
                                                           http: aiohttp.ClientSession, redis_url: str,
                                                           root: str) -> None:
    server_id = await cluster.host("old", fixture.sse_url, transport="SSE", mcpStatisticsEnable=True)
    url = cluster.mcp_url("old")
    meta = _meta(elicitation={})
    first = (await _call(http, url, _elicitation(meta), 1)).json["result"]
    (key, _), = first["inputRequests"].items()
    answer = {"action": "accept", "content": {"username": "ada", "email": "ada@example.com"}}
    await _call(http, url, _elicitation(meta, requestState=first["requestState"], inputResponses={key: answer}), 2)
    await _call(http, url, {"name": "test_simple_text", "arguments": {}, "_meta": meta}, 3)
    assert await cluster.hosting.stats.flush() is True
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        now = statistics.minute_of(time.time())
        minutes = await statistics.read_minutes(redis, RedisKeys(root), server_id, now - 5, now + 1)
    finally:
        await redis.aclose()
    tools = statistics.grouped(minutes, "tool")
    assert statistics.totals(minutes).calls == 2 and tools["test_elicitation"].calls == 1, tools


async def test_a_2026_client_closing_its_stream_cancels_the_call_upstream(
        cluster: Cluster, modern_only: ModernOnly, http: aiohttp.ClientSession) -> None:
    """In 2026-07-28, closing a request's stream is its cancellation: the upstream's connection closes too."""
    await cluster.host("new-only", modern_only.url)
    meta = {**_meta(), "progressToken": "p"}
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "wait",
               "Accept": "application/json, text/event-stream"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "wait", "arguments": {},
                                                                          "_meta": meta}}
    async with http.post(cluster.mcp_url("new-only"), json=body, headers=headers) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        await next_data(stream)  # the progress notification: the call is under way upstream
        assert not modern_only.cancelled.is_set()
    await asyncio.wait_for(modern_only.cancelled.wait(), 5)


async def test_a_2026_subscription_hears_a_handshake_era_upstreams_changes(cluster: Cluster,
                                                                          http: aiohttp.ClientSession) -> None:
    async with running_raw_upstream() as upstream:
        await cluster.host("old-changes", upstream.url)
        meta = _meta()
        # A first call opens the bridged upstream session (and its GET stream).
        listed = await Raw(http, cluster.mcp_url("old-changes")).send(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}},
            headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}, session=False)
        assert [t["name"] for t in listed.json["result"]["tools"]] == ["whoami", "shared"]
        headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "subscriptions/listen",
                   "Accept": "application/json, text/event-stream"}
        body = {"jsonrpc": "2.0", "id": "sub", "method": "subscriptions/listen",
                "params": {"_meta": meta, "notifications": {"toolsListChanged": True, "promptsListChanged": True}}}
        async with http.post(cluster.mcp_url("old-changes"), json=body, headers=headers) as stream:
            ack = await next_data(stream)
            assert ack["method"] == "notifications/subscriptions/acknowledged"
            assert ack["params"]["notifications"] == {"toolsListChanged": True}  # the upstream has no prompts
            await asyncio.wait_for(upstream.stream_opened.wait(), 5)
            upstream.push({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            changed = await next_data(stream)
        assert changed == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
                           "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": "sub"}}}



async def test_a_handshake_era_client_hears_a_2026_only_upstreams_changes(
        cluster: Cluster, modern_only: ModernOnly, http: aiohttp.ClientSession) -> None:
    """The gateway subscribes upstream on the session's behalf; the changes reach its GET stream."""
    await cluster.host("new-only", modern_only.url)
    client = Raw(http, cluster.mcp_url("new-only"))
    await client.initialize()
    await client.call("tools/list", {})
    await asyncio.wait_for(modern_only.listening.wait(), 5)
    async with http.get(cluster.mcp_url("new-only"), headers=client.stream_headers()) as stream:
        assert await asyncio.wait_for(stream.content.readline(), 5) == b": ping\n"  # the stream is live
        modern_only.push("notifications/tools/list_changed")
        changed = await next_data(stream)
    assert changed == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
