"""An OpenAPI import applied while an MCP client is connected: the official SDK sees the change live."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client

from tests.backends import Backend
from tests.cluster import Cluster
from tests.registry.openapi_docs import v1, v2
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
