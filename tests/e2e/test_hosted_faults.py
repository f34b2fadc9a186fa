"""A hosted server when its upstream misbehaves, and what reaches the upstream (credentials, sessions).

Each case runs real processes' worth of parts: the edge and hosting over real NATS and Redis, and
a real (hand-written) upstream MCP server that records what it receives.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from mcpgw import statistics
from mcpgw.contracts import RedisKeys
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.logs import failures
from tests.tls import self_signed
from tests.upstream.raw_server import RawUpstream, running_raw_upstream
from tests.util import eventually, next_data


def _tool_text(answer: Any) -> str:
    return "".join(c.get("text", "") for c in answer["result"]["content"])


async def test_a_tool_call_gets_an_is_error_result_when_the_upstream_is_gone(
        cluster: Cluster, http: aiohttp.ClientSession) -> None:
    async with running_raw_upstream() as gone:
        await cluster.host("flaky", gone.url)
        client = Raw(http, cluster.mcp_url("flaky"))
        await client.initialize()
    started = time.monotonic()
    answer = await client.call("tools/call", {"name": "whoami", "arguments": {}})
    assert answer.status == 200
    assert answer.json["result"]["isError"] is True
    assert "upstream unreachable" in _tool_text(answer.json)
    # Other methods get a JSON-RPC error that says what failed.
    listed = await client.call("tools/list", {}, request_id=2)
    assert listed.json["error"]["code"] == -32603
    assert "upstream unreachable" in listed.json["error"]["message"]
    assert time.monotonic() - started < 5  # refused connections fail at once, not after a timeout


@pytest.mark.parametrize(("mode", "expected"), [
    ("html", "content type text/html"), ("http500", "HTTP 500"),
    ("deep", "nesting too deep"), ("deep_stream", "nesting too deep")])
async def test_an_upstream_talking_nonsense_is_a_clear_tool_error(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession, mode: str, expected: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await cluster.host("odd", upstream.url)
    client = Raw(http, cluster.mcp_url("odd"))
    await client.initialize()
    upstream.mode = mode  # type: ignore[assignment]
    answer = await client.call("tools/call", {"name": "whoami", "arguments": {}})
    assert answer.status == 200
    assert answer.json["result"]["isError"] is True
    assert expected in _tool_text(answer.json)
    assert failures(caplog) == []


async def test_a_hanging_upstream_is_cut_off_at_the_configured_timeout(cluster: Cluster, upstream: RawUpstream,
                                                                       http: aiohttp.ClientSession) -> None:
    await cluster.restart_hosting(upstream_timeout=0.5)
    await cluster.host("slow", upstream.url)
    client = Raw(http, cluster.mcp_url("slow"))
    await client.initialize()
    upstream.mode = "hang"
    started = time.monotonic()
    answer = await client.call("tools/call", {"name": "whoami", "arguments": {}})
    assert answer.json["result"]["isError"] is True
    assert "did not answer in time" in _tool_text(answer.json)
    assert time.monotonic() - started < 5


async def test_an_upstream_that_forgets_the_session_is_reinitialized_transparently(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession) -> None:
    await cluster.host("forgetful", upstream.url)
    client = Raw(http, cluster.mcp_url("forgetful"))
    await client.initialize()
    first = await client.call("tools/call", {"name": "whoami", "arguments": {}})
    assert "isError" not in first.json["result"]
    opened = upstream.initialized
    upstream.forget_sessions()
    again = await client.call("tools/call", {"name": "whoami", "arguments": {}}, request_id=2)
    assert "isError" not in again.json["result"], again.text
    assert upstream.initialized == opened + 1


async def test_one_upstream_session_per_client_session_and_delete_ends_it(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession) -> None:
    await cluster.host("sessions", upstream.url)
    client = Raw(http, cluster.mcp_url("sessions"))
    await client.initialize()
    probes = upstream.initialized  # initialize asked the upstream what it is (a probe session)
    for i in range(3):
        answer = await client.call("tools/call", {"name": "whoami", "arguments": {}}, request_id=i + 1)
        assert "isError" not in answer.json["result"]
    assert upstream.initialized == probes + 1
    session_ids = {s.headers["mcp-session-id"] for s in upstream.calls("tools/call")}
    assert len(session_ids) == 1

    # A fresh hosting worker (nothing in memory) continues the same upstream session from Redis.
    await cluster.restart_hosting()
    answer = await client.call("tools/call", {"name": "whoami", "arguments": {}}, request_id=9)
    assert "isError" not in answer.json["result"]
    assert upstream.initialized == probes + 1
    assert {s.headers["mcp-session-id"] for s in upstream.calls("tools/call")} == session_ids

    deleted = await client.send(None, method="DELETE")
    assert deleted.status == 200
    await eventually(lambda: _async(upstream.deleted), lambda d: bool(session_ids & set(d)), within=5)


async def _async(value: Any) -> Any:
    return value


async def test_the_upstream_gets_the_servers_credential_never_the_consumers(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession) -> None:
    server_id = await cluster.host("guarded", upstream.url, upstreamCredential={"type": "Bearer", "value": "up-secret"},
                                   consumerAuthInfo={"enable": True})
    consumer_id, key = await cluster.create_consumer("alice")
    await cluster.grant(consumer_id, server_id)
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}")
    assert status == 200 and "up-secret" not in json.dumps(body)

    client = Raw(http, cluster.mcp_url("guarded"))
    await client.initialize_with({"Authorization": f"Bearer {key}"})
    answer = await client.call("tools/call", {"name": "whoami", "arguments": {}})
    seen = json.loads(_tool_text(answer.json))
    assert seen["authorization"] == "Bearer up-secret"
    for request in upstream.seen:
        assert key not in json.dumps(request.headers)


async def test_a_consumer_with_its_own_upstream_credential_reaches_the_upstream_as_itself(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession) -> None:
    server_id = await cluster.host("per-user", upstream.url, upstreamCredential={"type": "Bearer", "value": "shared"},
                                   consumerAuthInfo={"enable": True})
    alice, alice_key = await cluster.create_consumer("alice")
    bob, bob_key = await cluster.create_consumer("bob")
    for consumer in (alice, bob):
        await cluster.grant(consumer, server_id)
    status, body = await cluster.admin(
        "PUT", f"/v1/mcp-servers/{server_id}/consumers/{alice}/upstream-credential",
        json={"type": "ApiKey", "name": "X-Api-Key", "location": "header", "value": "alice-own-key"})
    assert status == 200, body

    seen = {}
    for name, key in (("alice", alice_key), ("bob", bob_key)):
        client = Raw(http, cluster.mcp_url("per-user"))
        await client.initialize_with({"Authorization": f"Bearer {key}"})
        answer = await client.call("tools/call", {"name": "whoami", "arguments": {}})
        seen[name] = json.loads(_tool_text(answer.json))
    assert seen["alice"]["x-api-key"] == "alice-own-key" and seen["alice"]["authorization"] is None
    assert seen["bob"]["authorization"] == "Bearer shared" and seen["bob"]["x-api-key"] is None


async def test_what_the_upstream_sends_outside_a_request_reaches_the_clients_stream_and_back(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession) -> None:
    server_id = await cluster.host("talkative", upstream.url)
    client = Raw(http, cluster.mcp_url("talkative"))
    await client.initialize()
    listed = await client.call("tools/list", {})  # opens the upstream session, and its GET stream
    assert {t["name"] for t in listed.json["result"]["tools"]} == {"whoami", "shared"}
    await asyncio.wait_for(upstream.stream_opened.wait(), 5)

    async with http.get(cluster.mcp_url("talkative"), headers=client.stream_headers()) as stream:
        assert stream.status == 200
        assert await asyncio.wait_for(stream.content.readline(), 5) == b": ping\n"  # the stream is live
        assert await stream.content.readline() == b"\n"
        upstream.push({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        upstream.push({"jsonrpc": "2.0", "id": 77, "method": "roots/list"})
        received = [await asyncio.wait_for(next_data(stream), 5) for _ in range(2)]
    assert received[0] == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    request = received[1]
    assert request["method"] == "roots/list" and request["id"] != 77  # an id of the gateway's making
    assert str(request["id"]).startswith("mcpgw~")

    # The client's answer finds the upstream session that asked, with the upstream's own id.
    answer = await client.send({"jsonrpc": "2.0", "id": request["id"], "result": {"roots": []}})
    assert answer.status == 202
    await asyncio.wait_for(upstream.answered.wait(), 5)
    assert upstream.responses == [{"jsonrpc": "2.0", "id": 77, "result": {"roots": []}}]
    assert server_id in request["id"]



async def test_an_https_upstream_is_verified_and_a_service_can_name_its_ca(
        cluster: Cluster, http: aiohttp.ClientSession, tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    async with running_raw_upstream(context) as secure:
        address = secure.url.split("/")[2]
        service_id = await cluster.create_service(address, protocol="HTTPS", name="secure")
        await cluster.create_server("secure", type="RealMCP", protocol="StreamableHTTP", exposedUriPath="/mcp",
                                    backendConfig={"scene": "SingleService", "services": [{"serviceId": service_id}]})
        client = Raw(http, cluster.mcp_url("secure"))
        refused = await client.send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
        assert "TLS certificate could not be verified" in refused.json["error"]["message"], refused.text
        assert secure.initialized == 0

        status, body = await cluster.admin("PUT", f"/v1/services/{service_id}",
                                           json={"caBundle": cert_file.read_text()})
        assert status == 200, body
        await eventually(lambda: _initializes(client), bool, within=5)
        answer = await client.call("tools/call", {"name": "whoami", "arguments": {}})
        assert "isError" not in answer.json["result"], answer.text


async def _initializes(client: Raw) -> bool:
    try:
        await client.initialize()
    except (AssertionError, KeyError):  # refused: no session id
        return False
    return True


async def test_a_clients_cancellation_reaches_the_upstream_with_the_request_it_names(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession) -> None:
    await cluster.host("cancellable", upstream.url)
    client = Raw(http, cluster.mcp_url("cancellable"))
    await client.initialize()
    await client.call("tools/list", {})
    upstream.mode = "hang"
    call = asyncio.ensure_future(client.call("tools/call", {"name": "whoami", "arguments": {}}, request_id=41))
    await asyncio.wait_for(upstream.called.wait(), 5)
    sent = await client.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                              "params": {"requestId": 41, "reason": "user gave up"}})
    assert sent.status == 202
    cancelled = await eventually(lambda: _async(upstream.calls("notifications/cancelled")), bool, within=5)
    assert cancelled[0].body["params"] == {"requestId": 41, "reason": "user gave up"}
    upstream.release.set()
    await asyncio.wait_for(call, 5)


async def test_hosted_tool_calls_are_counted_like_rest_ones(cluster: Cluster, upstream: RawUpstream,
                                                           http: aiohttp.ClientSession, redis_url: str,
                                                           root: str) -> None:
    server_id = await cluster.host("counted", upstream.url, mcpStatisticsEnable=True)
    client = Raw(http, cluster.mcp_url("counted"))
    await client.initialize()
    for i in range(3):
        await client.call("tools/call", {"name": "whoami", "arguments": {}}, request_id=i)
    upstream.mode = "http500"  # answered with an isError result: a tool error
    await client.call("tools/call", {"name": "shared", "arguments": {}}, request_id=9)
    upstream.mode = "rpc_error"  # a JSON-RPC error: a protocol error
    await client.call("tools/call", {"name": "shared", "arguments": {}}, request_id=10)
    assert await cluster.hosting.stats.flush() is True
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        now = statistics.minute_of(time.time())
        minutes = await statistics.read_minutes(redis, RedisKeys(root), server_id, now - 5, now + 1)
    finally:
        await redis.aclose()
    total = statistics.totals(minutes)
    assert (total.calls, total.tool_errors, total.protocol_errors) == (5, 1, 1)
    assert total.bytes_in > 0 and total.bytes_out > 0
    assert {name: (c.calls, c.tool_errors, c.protocol_errors)
            for name, c in statistics.grouped(minutes, "tool").items()} == {"whoami": (3, 0, 0), "shared": (2, 1, 1)}


async def test_tool_grants_filter_a_hosted_servers_tools(cluster: Cluster, upstream: RawUpstream,
                                                          http: aiohttp.ClientSession) -> None:
    server_id = await cluster.host("granted", upstream.url, consumerAuthInfo={"enable": True})
    consumer_id, key = await cluster.create_consumer("dave")
    await cluster.grant(consumer_id, server_id, ["whoami"])
    client = Raw(http, cluster.mcp_url("granted"))
    await client.initialize_with({"Authorization": f"Bearer {key}"})
    listed = await client.call("tools/list", {})
    assert [t["name"] for t in listed.json["result"]["tools"]] == ["whoami"]
    refused = await client.call("tools/call", {"name": "shared", "arguments": {}}, request_id=2)
    assert refused.json["error"]["code"] == -32602
    assert not upstream.calls("tools/call")  # refused at the edge: the upstream never saw it
    allowed = await client.call("tools/call", {"name": "whoami", "arguments": {}}, request_id=3)
    assert "isError" not in allowed.json["result"]


async def test_a_legacy_sse_session_must_initialize_before_reaching_the_upstream(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession) -> None:
    """Its upstream session is opened with the capabilities the client declares at initialize."""
    await cluster.host("early", upstream.url)
    async with http.get(cluster.mcp_url("early") + "/sse", headers={"Accept": "text/event-stream"}) as stream:
        endpoint = ""
        while not endpoint:
            line = (await asyncio.wait_for(stream.content.readline(), 5)).decode()
            if line.startswith("data:"):
                endpoint = line[5:].strip()
        posted = await http.post(cluster.mcp_url("early") + "/" + endpoint,
                                 json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert posted.status == 202
        answer = await next_data(stream)
    assert answer["error"]["code"] == -32600 and "initialize" in answer["error"]["message"]
    assert not upstream.calls("tools/list") and upstream.initialized == 0


@pytest.mark.parametrize(("credential", "seen_as"), [
    ({"type": "ApiKey", "name": "api_key", "location": "query", "value": "q-secret"},
     ("query", {"api_key": "q-secret"})),
    ({"type": "Basic", "username": "svc", "password": "p@ss"}, ("authorization", "Basic c3ZjOnBAc3M=")),
])
async def test_every_kind_of_upstream_credential_is_sent(cluster: Cluster, upstream: RawUpstream,
                                                         http: aiohttp.ClientSession, credential: dict[str, str],
                                                         seen_as: tuple[str, Any]) -> None:
    await cluster.host("creds", upstream.url, upstreamCredential=credential)
    client = Raw(http, cluster.mcp_url("creds"))
    await client.initialize()
    answer = await client.call("tools/call", {"name": "whoami", "arguments": {}})
    field, expected = seen_as
    assert json.loads(_tool_text(answer.json))[field] == expected
    status, body = await cluster.admin("GET", "/v1/mcp-servers?nameLike=creds&gatewayId=gw")
    assert status == 200 and "q-secret" not in json.dumps(body) and "p@ss" not in json.dumps(body)
