"""CORS on the MCP endpoint: a browser page of an admitted origin (the console's, a loopback page,
MCPGW_EDGE_ALLOWED_ORIGINS) may preflight, send Authorization and read Mcp-Session-Id; any other
origin keeps its 403 and is granted nothing."""

from __future__ import annotations

import aiohttp

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster

PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, mcp-session-id"}
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


async def test_an_admitted_origin_is_granted_cors(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    origin = "http://127.0.0.1:8081"  # the console's, a loopback page
    async with aiohttp.ClientSession() as http:
        async with http.options(cluster.mcp_url("petstore"), headers={"Origin": origin, **PREFLIGHT}) as answer:
            assert answer.status == 204
            assert answer.headers["Access-Control-Allow-Origin"] == origin
            assert "POST" in answer.headers["Access-Control-Allow-Methods"]
            assert answer.headers["Access-Control-Allow-Headers"] == PREFLIGHT["Access-Control-Request-Headers"]
            assert "Access-Control-Allow-Credentials" not in answer.headers
        async with http.post(cluster.mcp_url("petstore"), json=INIT,
                             headers={"Origin": origin, "Accept": "application/json, text/event-stream"}) as answer:
            assert answer.status == 200
            assert answer.headers["Access-Control-Allow-Origin"] == origin
            assert "Mcp-Session-Id" in answer.headers["Access-Control-Expose-Headers"]
            assert answer.headers["Mcp-Session-Id"]


async def test_another_origin_is_refused_and_granted_nothing(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    evil = "http://evil.example"
    async with aiohttp.ClientSession() as http:
        async with http.options(cluster.mcp_url("petstore"), headers={"Origin": evil, **PREFLIGHT}) as answer:
            assert answer.status == 403
            assert "Access-Control-Allow-Origin" not in answer.headers
        async with http.post(cluster.mcp_url("petstore"), json=INIT, headers={"Origin": evil}) as answer:
            assert answer.status == 403
            assert "Access-Control-Allow-Origin" not in answer.headers


async def test_a_configured_origin_is_admitted(cluster: Cluster, backend: Backend) -> None:
    await cluster.restart_edge(allowed_origins=["https://console.example"])
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with aiohttp.ClientSession() as http:
        async with http.options(cluster.mcp_url("petstore"),
                                headers={"Origin": "https://console.example", **PREFLIGHT}) as answer:
            assert answer.status == 204
            assert answer.headers["Access-Control-Allow-Origin"] == "https://console.example"
        # A header list that is not a list of tokens is not echoed back.
        bad = {**PREFLIGHT, "Access-Control-Request-Headers": "x-a, (x b)"}
        async with http.options(cluster.mcp_url("petstore"),
                                headers={"Origin": "https://console.example", **bad}) as answer:
            assert answer.status in (204, 400)
            assert "Access-Control-Allow-Headers" not in answer.headers
