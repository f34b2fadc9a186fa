"""Consumer API keys at the edge: every request authenticated, sessions bound to their consumer."""

from __future__ import annotations

import aiohttp
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw


@pytest.fixture
async def secured(cluster: Cluster, backend: Backend) -> str:
    await cluster.create_server("petstore", petstore_yaml(backend.url), consumerAuthInfo={"enable": True})
    return cluster.mcp_url("petstore")


async def granted_consumer(cluster: Cluster, name: str) -> str:
    """A consumer allowed on the whole petstore server; its API key."""
    consumer_id, key = await cluster.create_consumer(name)
    status, body = await cluster.admin("GET", "/v1/mcp-servers?nameLike=petstore")
    assert status == 200, body
    await cluster.grant(consumer_id, body["data"]["items"][0]["mcpServerId"])
    return key


async def test_missing_and_wrong_keys_get_a_401_challenge(cluster: Cluster, secured: str) -> None:
    await cluster.create_consumer("alice")
    async with aiohttp.ClientSession() as http:
        mcp = Raw(http, secured)
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}
        missing = await mcp.send(init, session=False)
        assert missing.status == 401
        metadata_url = f"{cluster.edge_url()}/.well-known/oauth-protected-resource/mcp-servers/petstore"
        assert missing.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{metadata_url}"'
        wrong = await mcp.send(init, session=False, headers={"Authorization": "Bearer mcpgw_not-a-real-key-at-all"})
        assert wrong.status == 401
        assert wrong.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token", resource_metadata=')
        assert "not-a-real-key" not in wrong.text

        async with http.get(metadata_url) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            document = await resp.json()
        assert document["resource"] == secured
        assert document["bearer_methods_supported"] == ["header"]


async def test_a_session_is_bound_to_the_consumer_that_opened_it(cluster: Cluster, secured: str) -> None:
    alice = await granted_consumer(cluster, "alice")
    bob = await granted_consumer(cluster, "bob")
    async with aiohttp.ClientSession() as http:
        mcp = Raw(http, secured)
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}
        opened = await mcp.send(init, session=False, headers={"Authorization": f"Bearer {alice}"})
        assert opened.status == 200
        mcp.session_id, mcp.version = opened.headers["Mcp-Session-Id"], "2025-11-25"
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        assert (await mcp.send(ping, headers={"Authorization": f"Bearer {alice}"})).status == 200
        # Every request is authenticated: the session id alone is not enough ...
        assert (await mcp.send(ping)).status == 401
        # ... and another consumer's valid key does not ride on alice's session.
        assert (await mcp.send(ping, headers={"Authorization": f"Bearer {bob}"})).status == 403


async def test_the_sdk_works_with_a_key_over_both_transports(cluster: Cluster, secured: str, backend: Backend) -> None:
    key = await granted_consumer(cluster, "alice")
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx2.AsyncClient(headers=headers) as http, \
            streamable_http_client(secured, http_client=http) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("get_pet", {"id": 3})
        assert not result.is_error
    assert "authorization" not in backend.last.headers  # the consumer's key never reaches the backend

    async with sse_client(secured + "/sse", headers=headers) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        assert len((await session.list_tools()).tools) == 4
