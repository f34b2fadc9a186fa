"""MCP 2026-07-28 at the edge: self-contained requests, their headers checked, no session anywhere."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import ACCEPT_BOTH, Answer, Raw
from tests.util import eventually, next_data

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}


@pytest.fixture
async def url(cluster: Cluster, backend: Backend) -> str:
    await cluster.create_server("petstore", petstore_yaml(backend.url), description="Pets, by id")
    return cluster.mcp_url("petstore")


def _headers(method: str, name: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method, **extra}
    if name is not None:
        headers["Mcp-Name"] = name
    return headers


async def _rpc(http: aiohttp.ClientSession, url: str, method: str, params: dict[str, Any] | None = None, *,
               headers: dict[str, str] | None = None, request_id: int = 1) -> Answer:
    client = Raw(http, url)
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method,
                            "params": {"_meta": META} if params is None else params}
    name = body["params"].get("name") if isinstance(body["params"], dict) else None
    return await client.send(body, headers=_headers(method, name) if headers is None else headers, session=False)


async def test_discover_list_and_call_with_no_session(http: aiohttp.ClientSession, url: str,
                                                      backend: Backend) -> None:
    discovered = await _rpc(http, url, "server/discover")
    assert discovered.status == 200 and "mcp-session-id" not in discovered.headers
    result = discovered.json["result"]
    assert result["resultType"] == "complete"
    assert result["supportedVersions"][0] == MODERN and "2025-11-25" in result["supportedVersions"]
    assert result["capabilities"] == {"tools": {"listChanged": True}}
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "petstore"
    assert result["instructions"] == "Pets, by id"

    listed = await _rpc(http, url, "tools/list")
    page = listed.json["result"]
    assert (page["resultType"], page["cacheScope"]) == ("complete", "public") and page["ttlMs"] > 0
    assert [t["name"] for t in page["tools"]] == ["get_pet", "add_pet", "broken", "slow"]

    called = await _rpc(http, url, "tools/call", {"name": "get_pet", "arguments": {"id": 3}, "_meta": META})
    assert called.json["result"]["resultType"] == "complete"
    assert json.loads(called.json["result"]["content"][0]["text"])["name"] == "pet-3"
    assert backend.last.path == "/pets/3"

    unknown = await _rpc(http, url, "tools/call", {"name": "nope", "arguments": {}, "_meta": META})
    assert unknown.json["error"]["code"] == -32602


@pytest.mark.parametrize(("params", "field"), [
    ({}, "_meta"),
    ({"_meta": {k: v for k, v in META.items() if k != "io.modelcontextprotocol/protocolVersion"}}, "protocolVersion"),
    ({"_meta": {k: v for k, v in META.items() if k != "io.modelcontextprotocol/clientCapabilities"}},
     "clientCapabilities"),
])
async def test_a_request_without_its_metadata_is_invalid(http: aiohttp.ClientSession, url: str,
                                                         params: dict[str, Any], field: str) -> None:
    answer = await _rpc(http, url, "server/discover", params, request_id=7)
    assert answer.status == 400
    assert (answer.json["id"], answer.json["error"]["code"]) == (7, -32602)
    assert field in answer.json["error"]["message"]


async def test_client_info_may_be_left_out(http: aiohttp.ClientSession, url: str) -> None:
    meta = {k: v for k, v in META.items() if k != "io.modelcontextprotocol/clientInfo"}
    assert (await _rpc(http, url, "server/discover", {"_meta": meta})).status == 200


async def test_headers_must_match_the_body(http: aiohttp.ClientSession, url: str) -> None:
    call = {"name": "get_pet", "arguments": {"id": 1}, "_meta": META}
    cases = {
        "no method header": {"MCP-Protocol-Version": MODERN, "Mcp-Name": "get_pet"},
        "another method": _headers("tools/list", "get_pet"),
        "no name header": _headers("tools/call"),
        "another name": _headers("tools/call", "add_pet"),
    }
    for case, headers in cases.items():
        answer = await _rpc(http, url, "tools/call", call, headers=headers, request_id=3)
        assert answer.status == 400, case
        assert (answer.json["id"], answer.json["error"]["code"]) == (3, -32020), case
    encoded = "=?base64?" + base64.b64encode(b"get_pet").decode() + "?="
    answer = await _rpc(http, url, "tools/call", call, headers=_headers("tools/call", encoded))
    assert answer.status == 200 and answer.json["result"]["resultType"] == "complete"
    stale = {**META, "io.modelcontextprotocol/protocolVersion": "2025-11-25"}
    mismatched = await _rpc(http, url, "tools/list", {"_meta": stale})
    assert mismatched.status == 400 and mismatched.json["error"]["code"] == -32020


async def test_an_unknown_version_is_answered_with_the_versions_there_are(http: aiohttp.ClientSession,
                                                                         url: str) -> None:
    meta = {**META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    answer = await _rpc(http, url, "tools/list", {"_meta": meta},
                        headers={"MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "tools/list"})
    assert answer.status == 400
    error = answer.json["error"]
    assert error["code"] == -32022
    assert error["data"]["requested"] == "2099-01-01" and MODERN in error["data"]["supported"]


@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "resources/list", "no/such"])
async def test_removed_and_unknown_methods_are_not_found(http: aiohttp.ClientSession, url: str, method: str) -> None:
    answer = await _rpc(http, url, method, request_id=9)
    assert answer.status == 404
    assert (answer.json["id"], answer.json["error"]["code"]) == (9, -32601)


async def test_a_subscription_hears_that_the_tools_changed(http: aiohttp.ClientSession, url: str,
                                                           cluster: Cluster, backend: Backend) -> None:
    params = {"_meta": META, "notifications": {"toolsListChanged": True, "promptsListChanged": True}}
    headers = {**_headers("subscriptions/listen"), "Accept": ACCEPT_BOTH, "Content-Type": "application/json"}
    body = {"jsonrpc": "2.0", "id": "sub-1", "method": "subscriptions/listen", "params": params}
    async with http.post(url, json=body, headers=headers) as stream:
        assert stream.status == 200 and stream.headers["Content-Type"] == "text/event-stream"
        ack = await next_data(stream)
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "sub-1"
        assert ack["params"]["notifications"] == {"toolsListChanged": True}  # no prompts here
        status, listed = await cluster.admin("GET", "/v1/mcp-servers?nameLike=petstore&gatewayId=gw")
        server_id = listed["data"]["items"][0]["mcpServerId"]
        status, _ = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json={
            "type": "RealMCP", "protocol": "HTTP", "description": "changed"})
        assert status == 200
        changed = await next_data(stream)
    assert changed == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
                       "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": "sub-1"}}}



async def test_the_handshake_era_is_untouched_beside_it(http: aiohttp.ClientSession, url: str) -> None:
    client = Raw(http, url)
    init = await client.initialize()
    assert init.json["result"]["protocolVersion"] == "2025-11-25"
    listed = await client.call("tools/list")
    assert "resultType" not in listed.json["result"]
    # A handshake-era request without its session is still refused as before.
    lost = await client.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, session=False,
                             headers={"MCP-Protocol-Version": "2025-11-25", "Accept": ACCEPT_BOTH})
    assert lost.status == 400 and lost.json["error"]["code"] == -32600


async def test_a_servers_own_list_ttl_reaches_its_results(http: aiohttp.ClientSession, url: str,
                                                          cluster: Cluster) -> None:
    status, listed = await cluster.admin("GET", "/v1/mcp-servers?nameLike=petstore&gatewayId=gw")
    server_id = listed["data"]["items"][0]["mcpServerId"]
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json={
        "type": "RealMCP", "protocol": "HTTP", "listTtlMs": 5000})
    assert status == 200, body
    status, got = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}")
    assert got["data"]["listTtlMs"] == 5000

    async def ttl() -> int:
        return int((await _rpc(http, url, "tools/list")).json["result"]["ttlMs"])

    assert await eventually(ttl, lambda value: value == 5000, within=5) == 5000
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json={"listTtlMs": -1})
    assert status == 400 and "listTtlMs" in body["message"]
    status, _ = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json={
        "type": "RealMCP", "protocol": "HTTP", "listTtlMs": None})
    assert status == 200
    assert await eventually(ttl, lambda value: value == 60_000, within=5) == 60_000  # the edge's default again
