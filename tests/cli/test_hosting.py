"""`mcpgw servers host|assemble`: an upstream MCP server behind the gateway, then assembled with REST
tools, called through the edge by the official SDK."""

from __future__ import annotations

import asyncio

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.backends import Backend, petstore_yaml
from tests.cli.run import mcpgw
from tests.cluster import Cluster
from tests.upstream.fixture_server import running_fixture


async def test_host_an_mcp_server_assemble_it_and_list_services(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with running_fixture() as fixture:
        ran = await mcpgw(cluster, "servers", "host", "fixture", fixture.url, "--description", "the fixture",
                          "--bearer-env", "FIXTURE_TOKEN", env={"FIXTURE_TOKEN": "upstream-secret-1"})
        assert ran.code == 0, ran.err
        assert "hosting " + fixture.url in ran.out and "/mcp-servers/fixture" in ran.out
        ran = await mcpgw(cluster, "servers", "assemble", "both", "petstore=get_pet",
                          "fixture=test_simple_text", "--alias", "fixture:test_simple_text=hello")
        assert ran.code == 0, ran.err
        async with streamable_http_client(cluster.mcp_url("both")) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            assert sorted(t.name for t in (await session.list_tools()).tools) == ["get_pet", "hello"]
            result = await session.call_tool("hello", {})
            assert not result.is_error, result

    hosted, assembled, services = await asyncio.gather(
        mcpgw(cluster, "servers", "get", "fixture"), mcpgw(cluster, "servers", "get", "both"),
        mcpgw(cluster, "services", "list"))
    assert hosted.code == 0, hosted.err
    assert "hosted (RealMCP, ApiGatewayMcpHosting, StreamableHTTP)" in hosted.out
    assert "Bearer (configured; write-only)" in hosted.out and "upstream-secret-1" not in hosted.out
    assert "petstore: get_pet" in assembled.out and "fixture: test_simple_text (test_simple_text as hello)" \
        in assembled.out
    assert services.lines[1].split()[1:4] == ["fixture-upstream", "VIP", "HTTP"]


async def test_refusals_before_anything_is_created(cluster: Cluster) -> None:
    await cluster.create_server("taken")
    ftp, alias, unset, key_name, taken = await asyncio.gather(
        mcpgw(cluster, "servers", "host", "bad", "ftp://example.com/mcp"),
        mcpgw(cluster, "servers", "assemble", "x", "taken", "--alias", "nope:a=b"),
        mcpgw(cluster, "servers", "host", "up", "http://127.0.0.1:9/mcp", "--bearer-env", "NOT_SET_ANYWHERE"),
        mcpgw(cluster, "servers", "host", "up", "http://127.0.0.1:9/mcp", "--api-key-env", "HOME"),
        mcpgw(cluster, "servers", "host", "taken", "http://127.0.0.1:9/mcp"))
    assert ftp.code == 2 and "not an http(s) URL" in ftp.err
    assert alias.code == 2 and "--alias nope:a=b" in alias.err
    assert unset.code == 2 and "--bearer-env NOT_SET_ANYWHERE: that environment variable is not set" in unset.err
    assert key_name.code == 2 and "--api-key-env needs --key-name" in key_name.err
    assert taken.code == 1 and taken.err.startswith("error: Conflict (409): name: ")
    # The service made for the refused server was deleted again.
    status, body = await cluster.admin("GET", "/v1/services")
    assert status == 200 and body["data"]["items"] == []
