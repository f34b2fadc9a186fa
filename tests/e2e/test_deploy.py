"""Deploy and undeploy (issue 13): what the edge serves follows `deployStatus`, through real MCP clients."""

from __future__ import annotations

import asyncio

import aiohttp
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.util import eventually, next_data

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "deploy-test", "version": "1"}}}
HEADERS = {"Accept": "application/json, text/event-stream"}


async def _initialize_status(cluster: Cluster, name: str) -> int:
    async with aiohttp.ClientSession() as http, http.post(cluster.mcp_url(name), json=INITIALIZE,
                                                          headers=HEADERS) as resp:
        return resp.status


async def _tool_names(cluster: Cluster, name: str) -> list[str]:
    async with streamable_http_client(cluster.mcp_url(name)) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return sorted(t.name for t in (await session.list_tools()).tools)


async def _server(cluster: Cluster, server_id: str) -> dict[str, object]:
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}")
    assert status == 200, body
    data: dict[str, object] = body["data"]
    return data


async def test_undeploy_is_404_and_deploy_serves_again(cluster: Cluster, backend: Backend) -> None:
    server_id = await cluster.create_server("petstore", petstore_yaml(backend.url))
    assert (await _server(cluster, server_id))["deployStatus"] == "Deployed"
    assert "get_pet" in await _tool_names(cluster, "petstore")

    status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/undeploy")
    assert status == 200 and body["data"]["deployStatus"] == "NotDeployed", body
    await eventually(lambda: _initialize_status(cluster, "petstore"), lambda s: s == 404)
    server = await _server(cluster, server_id)
    assert server["deployStatus"] == "NotDeployed" and server["mcpServerConfig"]  # its config stays
    status, body = await cluster.admin("GET", "/v1/mcp-servers?deployStatuses=NotDeployed")
    assert [s["mcpServerId"] for s in body["data"]["items"]] == [server_id]

    status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/deploy")
    assert status == 200 and body["data"]["deployStatus"] == "Deployed", body
    await eventually(lambda: _initialize_status(cluster, "petstore"), lambda s: s == 200)
    assert "get_pet" in await _tool_names(cluster, "petstore")


async def test_a_draft_saved_with_deploy_false_is_served_only_once_deployed(cluster: Cluster,
                                                                            backend: Backend) -> None:
    status, body = await cluster.admin("POST", "/v1/mcp-servers", json={
        "name": "drafted", "deploy": False, "mcpServerConfig": {"mcpServerSpec": petstore_yaml(backend.url)}})
    assert status == 200, body
    server_id = body["data"]["mcpServerId"]
    assert (await _server(cluster, server_id))["deployStatus"] == "NotDeployed"
    assert await _initialize_status(cluster, "drafted") == 404
    # Saved again as a draft: still not served.
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}",
                                       json={"description": "second draft", "deploy": False})
    assert status == 200, body
    assert await _initialize_status(cluster, "drafted") == 404

    status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/deploy")
    assert status == 200, body
    assert "get_pet" in await eventually(lambda: _tool_names(cluster, "drafted"), bool)


async def test_update_publishes_by_default(cluster: Cluster, backend: Backend) -> None:
    status, body = await cluster.admin("POST", "/v1/mcp-servers", json={"name": "drafted", "deploy": False})
    server_id = body["data"]["mcpServerId"]
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json={
        "mcpServerConfig": {"mcpServerSpec": petstore_yaml(backend.url)}})
    assert status == 200, body
    assert (await _server(cluster, server_id))["deployStatus"] == "Deployed"  # one step, as before
    assert "get_pet" in await eventually(lambda: _tool_names(cluster, "drafted"), bool)


async def test_a_draft_of_a_deployed_server_reaches_open_sessions_only_once_deployed(
        cluster: Cluster, backend: Backend) -> None:
    tools = petstore_yaml(backend.url)
    server_id = await cluster.create_server("petstore", tools)
    changed = asyncio.Event()

    async def heard(message: object) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    async with streamable_http_client(cluster.mcp_url("petstore")) as (read, write), \
            ClientSession(read, write, message_handler=heard) as session:
        await session.initialize()
        assert "get_pet" in {t.name for t in (await session.list_tools()).tools}
        status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json={
            "deploy": False, "mcpServerConfig": {"mcpServerSpec": tools.replace("get_pet", "find_pet")}})
        assert status == 200 and body["data"]["published"] is False, body
        # Saved, not published: this session and a new one see the old tools.
        assert "get_pet" in {t.name for t in (await session.list_tools()).tools}
        assert "get_pet" in await _tool_names(cluster, "petstore")
        assert (await _server(cluster, server_id))["hasUnpublishedChanges"] is True

        status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/deploy")
        assert status == 200 and body["data"]["deployStatus"] == "Deployed", body
        await asyncio.wait_for(changed.wait(), 5)
        names = {t.name for t in (await session.list_tools()).tools}
        assert "find_pet" in names and "get_pet" not in names
        result = await session.call_tool("find_pet", {"id": 3})
        assert not result.is_error and backend.last.path == "/pets/3"


async def test_a_deploy_that_fails_keeps_the_published_tools_serving(cluster: Cluster, backend: Backend) -> None:
    tools = petstore_yaml(backend.url)
    server_id = await cluster.create_server("petstore", tools)
    service_id = await cluster.create_service("127.0.0.1:9", name="soon-gone")
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json={
        "deploy": False, "backendConfig": {"services": [{"serviceId": service_id}]},
        "mcpServerConfig": {"mcpServerSpec": tools.replace("get_pet", "find_pet")}})
    assert status == 200, body
    status, body = await cluster.admin("DELETE", f"/v1/services/{service_id}")
    assert status == 200, body
    status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/deploy")
    assert status == 400 and body["message"].startswith("backendConfig.services[0].serviceId"), body
    server = await _server(cluster, server_id)
    assert server["deployStatus"] == "DeployFailed"
    assert server["deployError"]["field"] == "backendConfig.services[0].serviceId"  # type: ignore[index]
    assert "get_pet" in await _tool_names(cluster, "petstore")


KEYED_YAML = """\
server:
  name: keyed
  config:
    baseUrl: {base}
    apiKey: {key}
tools:
- name: whoami
  description: Calls the backend with the configured key
  requestTemplate:
    url: "{{{{.config.baseUrl}}}}/echo"
    method: GET
    headers:
    - {{key: X-Api-Key, value: "{{{{.config.apiKey}}}}"}}
"""


async def test_a_rollback_calls_the_backend_with_the_older_secret(cluster: Cluster, backend: Backend) -> None:
    keys = ("first-key-1111", "second-key-2222", "third-key-3333")
    server_id = await cluster.create_server("keyed", KEYED_YAML.format(base=backend.url, key=keys[0]))
    for key in keys[1:]:  # revisions 3 and 4 (1: created without tools, 2: the first key)
        status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}/tools",
                                           data=KEYED_YAML.format(base=backend.url, key=key),
                                           content_type="application/yaml")
        assert status == 200, body

    async def called_with() -> str:
        async with streamable_http_client(cluster.mcp_url("keyed")) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            assert not (await session.call_tool("whoami", {})).is_error
        return backend.last.headers["x-api-key"]

    assert await called_with() == keys[2]
    status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/revisions/2:rollback")
    assert status == 200, body
    assert await eventually(called_with, lambda key: key == keys[0]) == keys[0]
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}/revisions/2")
    assert not any(key in str(body) for key in keys)


async def test_deploy_of_an_unknown_server_is_404(cluster: Cluster) -> None:
    for action in ("deploy", "undeploy"):
        status, body = await cluster.admin("POST", f"/v1/mcp-servers/mcp-doesnotexist/{action}")
        assert status == 404, body


async def test_rollback_restores_the_earlier_tools_and_open_sessions_hear_of_it(
        cluster: Cluster, backend: Backend, http: aiohttp.ClientSession) -> None:
    first = petstore_yaml(backend.url)
    server_id = await cluster.create_server("petstore", first)  # revision 1 (no tools), 2 (these)
    status, _ = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}/tools",
                                    data=first.replace("Always fails", "Fails"), content_type="application/yaml")
    assert status == 200
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}/revisions")
    assert [item["revision"] for item in body["data"]["items"]] == [3, 2, 1], body
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}/revisions/3")
    assert body["data"]["diff"]["against"] == 2
    assert "-  description: Always fails" in body["data"]["diff"]["tools"], body["data"]["diff"]
    assert "+  description: Fails" in body["data"]["diff"]["tools"]

    client = Raw(http, cluster.mcp_url("petstore"))
    await client.initialize()
    listed = (await client.call("tools/list", {})).json["result"]["tools"]
    assert next(t for t in listed if t["name"] == "broken")["description"] == "Fails"
    async with http.get(cluster.mcp_url("petstore"), headers=client.stream_headers()) as stream:
        assert await asyncio.wait_for(stream.content.readline(), 5) == b": ping\n"  # the stream is live
        status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/revisions/2:rollback")
        assert status == 200 and body["data"]["published"] == 4, body
        assert await next_data(stream) == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    listed = (await client.call("tools/list", {}, request_id=2)).json["result"]["tools"]
    assert next(t for t in listed if t["name"] == "broken")["description"] == "Always fails"
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}/revisions")
    assert body["data"]["items"][0] == {"revision": 4, "rollbackOf": 2,
                                        "createTimestamp": body["data"]["items"][0]["createTimestamp"]}
