"""The official `mcp` Python SDK (2.x) drives the gateway over both transports, end to end."""

from __future__ import annotations

import json

import mcp.types as types
from mcp import Client, ClientSession
from mcp.client.session import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.upstream.fixture_server import running_fixture


def _text(result: object) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)  # type: ignore[attr-defined]


async def _exercise(session: ClientSession, backend: Backend) -> None:
    tools = await session.list_tools()
    assert sorted(t.name for t in tools.tools) == ["add_pet", "broken", "get_pet", "slow"]
    get_pet = next(t for t in tools.tools if t.name == "get_pet")
    assert get_pet.input_schema["properties"]["id"]["type"] == "integer"
    assert get_pet.input_schema["required"] == ["id"]

    # path + query + header arguments
    result = await session.call_tool("get_pet", {"id": 42, "tag": "a b&c", "X-Request-Tag": "t-1"})
    assert not result.is_error, _text(result)
    assert json.loads(_text(result))["name"] == "pet-42"
    seen = backend.last
    assert (seen.method, seen.path) == ("GET", "/pets/42")
    assert seen.query == [("tag", "a b&c")]
    assert seen.headers["x-request-tag"] == "t-1"

    # body arguments, and structured output for a tool with an outputSchema
    result = await session.call_tool("add_pet", {"name": "rex", "tag": "dog"})
    assert not result.is_error, _text(result)
    assert result.structured_content == {"id": 7, "name": "rex", "tag": "dog"}
    seen = backend.last
    assert (seen.method, seen.path) == ("POST", "/pets")
    assert json.loads(seen.body) == {"name": "rex", "tag": "dog"}
    assert seen.headers["content-type"].startswith("application/json")

    # a failing backend is a tool error the model can read, not a protocol error
    result = await session.call_tool("broken", {})
    assert result.is_error
    assert "500" in _text(result) and "database on fire" in _text(result)


async def test_streamable_http_with_the_sdk(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with streamable_http_client(cluster.mcp_url("petstore")) as (read, write), \
            ClientSession(read, write) as session:
        init = await session.initialize()
        assert init.protocol_version == "2025-11-25"
        assert init.server_info.name == "petstore"
        await _exercise(session, backend)
        assert (await session.send_ping()) is not None


async def test_legacy_sse_with_the_sdk(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    created: list[str] = []
    async with sse_client(cluster.mcp_url("petstore") + "/sse", on_session_created=created.append) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        assert created and len(created[0]) == 32
        await _exercise(session, backend)


async def test_auto_mode_picks_2026_07_28_and_legacy_mode_the_handshake(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with Client(cluster.mcp_url("petstore")) as client:  # mode="auto" probes server/discover first
        assert client.protocol_version == "2026-07-28"
        assert sorted(t.name for t in (await client.list_tools()).tools) == ["add_pet", "broken", "get_pet", "slow"]
        result = await client.call_tool("get_pet", {"id": 1})
        assert not result.is_error and backend.last.path == "/pets/1"
    async with Client(cluster.mcp_url("petstore"), mode="legacy") as client:
        assert client.protocol_version == "2025-11-25"
        result = await client.call_tool("get_pet", {"id": 2})
        assert not result.is_error


async def test_auto_mode_reaches_a_hosted_modern_upstream_in_2026_07_28(cluster: Cluster) -> None:
    async def elicit(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})

    async with running_fixture() as fixture:
        await cluster.host("fixture", fixture.url)
        async with Client(cluster.mcp_url("fixture"), elicitation_callback=elicit) as client:
            assert client.protocol_version == "2026-07-28"
            result = await client.call_tool("test_simple_text", {})
            assert not result.is_error
            # Multi round-trip: the upstream's input_required result reaches the client, and its retry
            # (with the user's answer and the upstream's own requestState) reaches the upstream.
            result = await client.call_tool("test_elicitation", {"message": "who are you?"})
            assert not result.is_error, result
            assert "ada" in str(result.content)


async def test_session_survives_an_edge_restart(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with streamable_http_client(cluster.mcp_url("petstore")) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        assert not (await session.call_tool("get_pet", {"id": 1})).is_error
        await cluster.restart_edge()  # a new edge: empty caches, the session only in Redis
        result = await session.call_tool("get_pet", {"id": 2})
        assert not result.is_error, _text(result)
        assert backend.last.path == "/pets/2"


async def test_a_2026_client_is_bridged_to_a_handshake_era_upstream(cluster: Cluster) -> None:
    """The legacy SSE endpoint of the fixture speaks the handshake era only: the gateway bridges."""
    async def elicit(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"username": "grace", "email": "grace@example.com"})

    reported: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    async with running_fixture() as fixture:
        await cluster.host("old-upstream", fixture.sse_url, transport="SSE")
        async with Client(cluster.mcp_url("old-upstream"), elicitation_callback=elicit) as client:
            assert client.protocol_version == "2026-07-28"
            assert "test_simple_text" in {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("test_simple_text", {})
            assert not result.is_error
            result = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
            assert not result.is_error and reported == [0, 50, 100]
            # The upstream asks mid-call (elicitation/create); the gateway holds the call and asks the
            # client by multi round-trip, then gives the answer to the upstream.
            result = await client.call_tool("test_elicitation", {"message": "who are you?"})
            assert not result.is_error, result
            assert "grace" in str(result.content)
