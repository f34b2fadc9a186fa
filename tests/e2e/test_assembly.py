"""An assembled server: tools of a REST-converted server and of hosted ones behind one name."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from mcp import Client, ClientSession
from mcp.client.sse import sse_client

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.upstream.fixture_server import running_fixture
from tests.upstream.raw_server import RawUpstream, running_raw_upstream
from tests.util import next_data


@pytest.fixture
async def upstreams() -> AsyncIterator[tuple[RawUpstream, RawUpstream]]:
    async with running_raw_upstream() as one, running_raw_upstream() as two:
        yield one, two


def _names(answer: Any) -> list[str]:
    return [t["name"] for t in answer["result"]["tools"]]


async def _assemble(cluster: Cluster, name: str, sources: list[dict[str, Any]], **fields: Any) -> tuple[int, Any]:
    return await cluster.admin("POST", "/v1/mcp-servers", json={
        "name": name, "type": "AssemblyMCP", "createFromType": "ApiGatewayAssembly", "assembledSources": sources,
        **fields})


async def test_an_assembly_lists_and_calls_rest_and_hosted_tools_with_grants_and_aliases(
        cluster: Cluster, backend: Backend, upstreams: tuple[RawUpstream, RawUpstream],
        http: aiohttp.ClientSession) -> None:
    one, two = upstreams
    rest = await cluster.create_server("petstore", petstore_yaml(backend.url))
    first = await cluster.host("first", one.url)
    second = await cluster.host("second", two.url)
    sources: list[dict[str, Any]] = [{"mcpServerId": rest, "tools": ["get_pet"]}, {"mcpServerId": first, "tools": []},
               {"mcpServerId": second, "tools": []}]

    status, body = await _assemble(cluster, "everything", sources)
    assert status == 400 and "clashes" in body["message"], body  # both hosted servers have whoami and shared

    sources[2]["toolAliases"] = {"whoami": "whoami_second", "shared": "shared_second"}
    status, body = await _assemble(cluster, "everything", sources, consumerAuthInfo={"enable": True})
    assert status == 200, body
    assembly = body["data"]["mcpServerId"]

    consumer, key = await cluster.create_consumer("carol")
    await cluster.grant(consumer, assembly, ["get_pet", "whoami_second", "shared"])
    client = Raw(http, cluster.mcp_url("everything"))
    init = await client.initialize_with({"Authorization": f"Bearer {key}"})
    assert init.json["result"]["capabilities"]["tools"]["listChanged"] is True

    listed = await client.call("tools/list", {})
    assert _names(listed.json) == ["get_pet", "shared", "whoami_second"]

    pet = await client.call("tools/call", {"name": "get_pet", "arguments": {"id": 5}}, request_id=2)
    assert json.loads(pet.json["result"]["content"][0]["text"])["name"] == "pet-5"
    assert backend.last.path == "/pets/5"

    renamed = await client.call("tools/call", {"name": "whoami_second", "arguments": {}}, request_id=3)
    assert "isError" not in renamed.json["result"], renamed.text
    assert two.calls("tools/call") and not one.calls("tools/call")  # the alias reached its own source
    assert two.calls("tools/call")[-1].rpc_method == "tools/call"

    shared = await client.call("tools/call", {"name": "shared", "arguments": {}}, request_id=4)
    assert "isError" not in shared.json["result"]
    assert len(one.calls("tools/call")) == 1  # the first source owns the unaliased name

    refused = await client.call("tools/call", {"name": "whoami", "arguments": {}}, request_id=5)
    assert refused.json["error"]["code"] == -32602 and "whoami" in refused.json["error"]["message"]


async def test_deleting_a_source_is_reported_and_its_tools_leave_the_assembly(
        cluster: Cluster, backend: Backend, upstreams: tuple[RawUpstream, RawUpstream],
        http: aiohttp.ClientSession) -> None:
    one, _ = upstreams
    rest = await cluster.create_server("petstore", petstore_yaml(backend.url))
    hosted = await cluster.host("first", one.url)
    status, body = await _assemble(cluster, "pair", [{"mcpServerId": rest, "tools": ["get_pet"]},
                                                     {"mcpServerId": hosted, "tools": ["whoami"]}])
    assert status == 200, body
    assembly = body["data"]["mcpServerId"]
    client = Raw(http, cluster.mcp_url("pair"))
    await client.initialize()
    assert _names((await client.call("tools/list", {})).json) == ["get_pet", "whoami"]

    async with http.get(cluster.mcp_url("pair"), headers=client.stream_headers()) as stream:
        assert await asyncio.wait_for(stream.content.readline(), 5) == b": ping\n"  # the stream is live
        status, _ = await cluster.admin("DELETE", f"/v1/mcp-servers/{hosted}")
        assert status == 200
        # The assembly's open sessions hear that its tools changed.
        assert await next_data(stream) == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{assembly}")
    assert [s.get("status") for s in body["data"]["assembledSources"]] == ["Ok", "SourceMissing"], body
    assert _names((await client.call("tools/list", {}, request_id=2)).json) == ["get_pet"]


async def test_a_2026_07_28_client_uses_an_assembly_of_rest_and_hosted_sources(cluster: Cluster,
                                                                              backend: Backend) -> None:
    async with running_fixture() as fixture:
        rest = await cluster.create_server("petstore", petstore_yaml(backend.url))
        modern_source = await cluster.host("modern-source", fixture.url)
        legacy_source = await cluster.host("legacy-source", fixture.sse_url, transport="SSE")
        status, body = await _assemble(cluster, "mixed", [
            {"mcpServerId": rest, "tools": ["get_pet"]},
            {"mcpServerId": modern_source, "tools": ["test_simple_text"]},
            {"mcpServerId": legacy_source, "tools": ["test_simple_text"],
             "toolAliases": {"test_simple_text": "simple_text_again"}}])
        assert status == 200, body
        async with Client(cluster.mcp_url("mixed")) as client:
            assert client.protocol_version == "2026-07-28"
            assert [t.name for t in (await client.list_tools()).tools] == [
                "get_pet", "test_simple_text", "simple_text_again"]
            pet = await client.call_tool("get_pet", {"id": 8})
            assert not pet.is_error and backend.last.path == "/pets/8"
            for name in ("test_simple_text", "simple_text_again"):  # passed through, and bridged
                result = await client.call_tool(name, {})
                assert not result.is_error, (name, result)
                assert "simple text response" in str(result.content)


async def test_an_assembly_serves_a_legacy_sse_client(cluster: Cluster, backend: Backend,
                                                      upstreams: tuple[RawUpstream, RawUpstream]) -> None:
    one, _ = upstreams
    rest = await cluster.create_server("petstore", petstore_yaml(backend.url))
    hosted = await cluster.host("first", one.url)
    status, body = await _assemble(cluster, "pair", [{"mcpServerId": rest, "tools": ["get_pet"]},
                                                     {"mcpServerId": hosted, "tools": ["whoami"]}])
    assert status == 200, body
    async with sse_client(cluster.mcp_url("pair") + "/sse") as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        assert [t.name for t in (await session.list_tools()).tools] == ["get_pet", "whoami"]
        pet = await session.call_tool("get_pet", {"id": 4})
        assert not pet.is_error and backend.last.path == "/pets/4"
        who = await session.call_tool("whoami", {})
        assert not who.is_error and one.calls("tools/call")
