"""`GET|PUT /v1/mcp-servers/{id}/backend-auth`: a REST-converted server's backend credentials set as
a small resource (what the console's Tools page edits), write-only, and used by real calls."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw


async def _ok(cluster: Cluster, method: str, path: str, **kw: object) -> Any:
    status, body = await cluster.admin(method, path, **kw)  # type: ignore[arg-type]
    assert status == 200, body
    return body["data"] if isinstance(body, dict) else body


async def _refused(cluster: Cluster, method: str, path: str, **kw: object) -> str:
    status, body = await cluster.admin(method, path, **kw)  # type: ignore[arg-type]
    assert status == 400, body
    message: str = body["message"]
    return message


BEARER: dict[str, Any] = {"schemes": [{"id": "api", "type": "http", "scheme": "bearer", "credential": "s3cret-token"}],
          "default": "api"}


async def _call(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as http:
        mcp = Raw(http, cluster.mcp_url("petstore"))
        assert (await mcp.initialize()).status == 200
        answer = await mcp.call("tools/call", {"name": "get_pet", "arguments": {"id": 1}})
        assert answer.json["result"]["isError"] is False


async def test_a_credential_set_here_reaches_the_backend_and_reads_back_masked(
        cluster: Cluster, backend: Backend) -> None:
    server_id = await cluster.create_server("petstore", petstore_yaml(backend.url))
    path = f"/v1/mcp-servers/{server_id}/backend-auth"
    assert (await _ok(cluster, "GET", path))["schemes"] == []

    data = await _ok(cluster, "PUT", path, json=BEARER)
    assert data["schemes"][0]["credential"] == "******" and data["default"] == "api"
    await _call(cluster)
    assert backend.last.headers["authorization"] == "Bearer s3cret-token"

    # The credential never reads back: not here, not in the tools document.
    tools = await _ok(cluster, "GET", f"/v1/mcp-servers/{server_id}/tools")
    assert "s3cret-token" not in tools and "******" in tools

    # Sent back masked (or left out), it is kept; a new scheme replaces it.
    again = {"schemes": [{**BEARER["schemes"][0], "credential": "******"}], "default": "api"}
    await _ok(cluster, "PUT", path, json=again)
    await _call(cluster)
    assert backend.last.headers["authorization"] == "Bearer s3cret-token"
    key = {"schemes": [{"id": "key", "type": "apiKey", "in": "header", "name": "X-Api-Key", "credential": "k-1"}],
           "default": "key"}
    await _ok(cluster, "PUT", path, json=key)
    await _call(cluster)
    assert backend.last.headers["x-api-key"] == "k-1" and "authorization" not in backend.last.headers


async def test_bad_input_names_the_field(cluster: Cluster, backend: Backend) -> None:
    server_id = await cluster.create_server("petstore", petstore_yaml(backend.url))
    path = f"/v1/mcp-servers/{server_id}/backend-auth"
    assert (await _refused(cluster, "PUT", path, json={**BEARER, "default": "nope"})).startswith("default:")
    masked = {"schemes": [{**BEARER["schemes"][0], "credential": "******"}]}
    assert (await _refused(cluster, "PUT", path, json=masked)).startswith("schemes[0].credential:")
    no_name = {"schemes": [{"id": "k", "type": "apiKey", "in": "header", "credential": "x"}]}
    assert "securitySchemes[0].name" in await _refused(cluster, "PUT", path, json=no_name)
    hosted = await cluster.host("up", "http://127.0.0.1:9/mcp")
    assert "upstreamCredential" in await _refused(cluster, "GET", f"/v1/mcp-servers/{hosted}/backend-auth")
