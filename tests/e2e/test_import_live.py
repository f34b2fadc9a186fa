"""An OpenAPI import applied while an MCP client is connected: the official SDK sees the change live;
awkward operations' tools reach the backend where the document says."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client

from tests.backends import Backend
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.registry.openapi_docs import awkward, v1, v2
from tests.util import eventually

WAIT = 10.0


def _text(result: types.CallToolResult) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def _import(cluster: Cluster, server_id: str, doc: str, query: str = "") -> dict[str, Any]:
    status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/tools/import{query}", data=doc,
                                       content_type="application/yaml")
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def _live_streams(cluster: Cluster, server_id: str) -> int:
    """Open GET/SSE streams the edge holds for a server (the SDK opens its GET stream in the background)."""
    edge = cluster.edges[0].edge
    return sum(1 for _ in edge.hub.of_server(server_id))


class Notifications:
    def __init__(self) -> None:
        self.changed = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.changed.set()

    async def next_change(self) -> None:
        await asyncio.wait_for(self.changed.wait(), WAIT)
        self.changed.clear()


async def test_apply_notifies_live_sessions_and_serves_the_new_tools(cluster: Cluster, backend: Backend) -> None:
    server_id = await cluster.create_server("pets")
    await _import(cluster, server_id, v1(backend.url))
    seen = Notifications()
    async with streamable_http_client(cluster.mcp_url("pets")) as (read, write), \
            ClientSession(read, write, message_handler=seen) as session:
        await session.initialize()
        tools = await session.list_tools()
        assert [t.name for t in tools.tools] == ["listPets", "getPet", "deletePet"]
        await eventually(lambda: asyncio.sleep(0, _live_streams(cluster, server_id)), lambda n: n >= 1,
                         within=WAIT)

        applied = await _import(cluster, server_id, v2(backend.url))
        assert applied["added"] == ["createPet"] and applied["removed"] == ["deletePet"]
        await seen.next_change()
        tools = await session.list_tools()
        assert [t.name for t in tools.tools] == ["listPets", "createPet", "getPet"]
        get_pet = next(t for t in tools.tools if t.name == "getPet")
        assert set(get_pet.input_schema["properties"]) == {"petId", "tag", "fields"}

        result = await session.call_tool("getPet", {"petId": 42, "tag": "t1"})
        assert not result.is_error, _text(result)
        assert json.loads(_text(result))["name"] == "pet-42"
        assert (backend.last.path, backend.last.query) == ("/pets/42", [("tag", "t1")])

        # Hide `tag` with a default: clients no longer see it, and the operator's value is always sent.
        status, body = await cluster.admin("PATCH", f"/v1/mcp-servers/{server_id}/tools/getPet", json={
            "args": {"tag": {"default": "from-operator", "hidden": True}}})
        assert status == 200, body
        await seen.next_change()
        tools = await session.list_tools()
        get_pet = next(t for t in tools.tools if t.name == "getPet")
        assert set(get_pet.input_schema["properties"]) == {"petId", "fields"}
        result = await session.call_tool("getPet", {"petId": 7})
        assert not result.is_error, _text(result)
        assert backend.last.query == [("tag", "from-operator")]
        sneaky = await session.call_tool("getPet", {"petId": 7, "tag": "client-value"})
        assert sneaky.is_error and "tag" in _text(sneaky)
        assert backend.last.query == [("tag", "from-operator")]

        # An import with nothing new writes nothing and notifies nobody.
        again = await _import(cluster, server_id, v2(backend.url))
        assert again["applied"] is False
        assert not seen.changed.is_set()


async def test_awkward_paths_and_names_reach_the_backend_as_the_document_says(
        cluster: Cluster, backend: Backend, http: aiohttp.ClientSession) -> None:
    server_id = await cluster.create_server("awkward")
    status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/tools/import", data=awkward(
        backend.url + "/echo"), content_type="application/json")
    assert status == 200 and len(body["data"]["skipped"]) == 5, body
    client = Raw(http, cluster.mcp_url("awkward"))
    await client.initialize()

    async def call(name: str, arguments: dict[str, Any]) -> None:
        answer = await client.call("tools/call", {"name": name, "arguments": arguments})
        assert answer.status == 200 and answer.json["result"]["isError"] is False, answer.text

    # One argument fills every place its parameter has in the path, inside a segment too.
    await call("listUsages", {"sub": "s1", "location": "west us"})
    assert backend.last.raw_path == "/echo/subscriptions/s1/providers/System.west%20us/locations/west%20us/usages"
    await call("getReport", {"id": "7", "format": "csv"})
    assert backend.last.raw_path == "/echo/reports/7.csv"
    # Cleaned argument names go out under the names the document gave.
    await call("search", {"filter_name": "x", "a_b__query": "1", "a_b": "2", "gr_e": "ü", "tab_name": "t"})
    assert backend.last.query == [("filter[name]", "x"), ("a b", "1"), ("a_b", "2"), ("größe", "ü"),
                                  ("tab\tname", "t")]
    await call("undeclared", {"thing": "a/b"})
    assert backend.last.raw_path == "/echo/undeclared/a%2Fb"
