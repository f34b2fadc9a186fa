"""MCP Inspector's CLI (an independent TypeScript client) against a server that asks for an API key.

Installed and run through tests/node.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.node import npm_binary, run_node_tool
from tests.upstream.fixture_server import running_fixture

VERSION = "2.12.0"
RUN_TIMEOUT = 60.0


@pytest.fixture(scope="session")
async def inspector() -> Path:
    """The Inspector CLI binary, installed on first use."""
    return await npm_binary("@modelcontextprotocol/inspector", VERSION, "mcp-inspector")


async def run_inspector(binary: Path, home: Path, *args: str) -> tuple[int, str]:
    return await run_node_tool(binary, "--cli", *args, home=home, timeout=RUN_TIMEOUT)


def tool_names(output: str) -> list[str]:
    return sorted(set(re.findall(r'"name":\s*"([^"]+)"', output)))


async def test_inspector_lists_tools_with_a_key_over_both_transports(
        cluster: Cluster, backend: Backend, inspector: Path, tmp_path: Path) -> None:
    server_id = await cluster.create_server("petstore", petstore_yaml(backend.url), consumerAuthInfo={"enable": True})
    consumer_id, key = await cluster.create_consumer("inspector")
    await cluster.grant(consumer_id, server_id, ["get_pet", "add_pet"])
    url = cluster.mcp_url("petstore")
    header = f"Authorization: Bearer {key}"

    code, output = await run_inspector(inspector, tmp_path, f"{url}/sse", "--transport", "sse",
                                       "--method", "tools/list", "--header", header)
    assert code == 0, output
    assert tool_names(output) == ["add_pet", "get_pet"], output

    code, output = await run_inspector(inspector, tmp_path, url, "--transport", "http",
                                       "--method", "tools/list", "--header", header)
    assert code == 0, output
    assert tool_names(output) == ["add_pet", "get_pet"], output

    code, output = await run_inspector(inspector, tmp_path, url, "--transport", "http", "--method", "tools/call",
                                       "--tool-name", "get_pet", "--tool-arg", "id=9", "--header", header)
    assert code == 0, output
    assert "pet-9" in output

    # Without the key: refused, and the CLI says authentication is needed (it starts no OAuth flow).
    code, output = await run_inspector(inspector, tmp_path, url, "--transport", "http",
                                       "--method", "tools/list", "--stored-auth-only")
    assert code == 3, output
    assert key not in output


async def test_inspector_lists_and_calls_a_hosted_tool(cluster: Cluster, inspector: Path, tmp_path: Path) -> None:
    async with running_fixture() as fixture:
        await cluster.host("fixture", fixture.url)
        url = cluster.mcp_url("fixture")
        code, output = await run_inspector(inspector, tmp_path, url, "--transport", "http", "--method", "tools/list")
        assert code == 0, output
        assert {"test_simple_text", "test_tool_with_progress", "test_sampling"} <= set(tool_names(output)), output

        code, output = await run_inspector(inspector, tmp_path, f"{url}/sse", "--transport", "sse",
                                           "--method", "tools/call", "--tool-name", "test_simple_text")
        assert code == 0, output
        assert "This is a simple text response for testing." in output, output
