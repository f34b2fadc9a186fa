"""The launcher's configuration step against an in-process cluster, and its start-up errors."""

from __future__ import annotations

import os
import socket
import sys

import yaml

from mcpgw.devcluster import Proc, free_port, spawn, spawn_ready
from mcpgw.launcher import (
    ASSEMBLED_SERVER,
    DEMO_MCP_READY,
    DEMO_MCP_SERVICE,
    DEMO_SERVER,
    HOSTED_SERVER,
    SECURE_SERVER,
    Config,
    configure_demo,
    project_root,
    render_tools,
)
from tests.cluster import ADMIN_TOKEN, Cluster


def config_for(cluster: Cluster) -> Config:
    return Config(root=project_root(), nats_url=cluster.nats_url, redis_url=cluster.redis_url,
                  edge_host="127.0.0.1", edge_port=cluster.edges[0].port, registry_host="127.0.0.1",
                  registry_port=cluster.registry.port, subject_root=cluster.root, log_level="WARNING",
                  verbose=False, admin_token=ADMIN_TOKEN)


def test_render_tools_sets_name_and_base_url() -> None:
    template = yaml.safe_load((project_root() / "demo" / "tools.yaml").read_text())
    rendered = yaml.safe_load(render_tools(template, "demo-secure", "http://127.0.0.1:9"))
    assert rendered["server"]["name"] == "demo-secure"
    assert rendered["server"]["config"]["baseUrl"] == "http://127.0.0.1:9"
    assert {t["name"] for t in rendered["tools"]} >= {"get_pet", "add_pet", "always_fails"}
    # The template is not modified in place.
    assert template["server"]["name"] == "demo"


async def start_demo_mcp() -> tuple[Proc, str]:
    """The demo MCP server as the launcher starts it; (its process, its URL)."""
    proc = await spawn_ready("demo-mcp", [sys.executable, str(project_root() / "demo" / "mcp_server.py"),
                                          "--port", "0"], DEMO_MCP_READY, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return proc, (await proc.wait_for(DEMO_MCP_READY)).split()[-1]


async def test_configure_demo_is_idempotent(cluster: Cluster) -> None:
    config = config_for(cluster)
    # Two demo MCP servers: the second run moves the hosted demo's service to the other one.
    (one, one_url), (two, two_url) = await start_demo_mcp(), await start_demo_mcp()
    try:
        first = await configure_demo(config, "http://127.0.0.1:9", one_url)
        second = await configure_demo(config, "http://127.0.0.1:10", two_url)
    finally:
        await one.stop()
        await two.stop()
    assert first.server_ids == second.server_ids
    assert set(first.server_ids) == {DEMO_SERVER, SECURE_SERVER, HOSTED_SERVER, ASSEMBLED_SERVER}
    assert not first.key_rotated and second.key_rotated
    assert first.api_key != second.api_key

    status, body = await cluster.admin("GET", "/v1/mcp-servers")
    assert status == 200
    names = sorted(item["name"] for item in body["data"]["items"])
    assert names == sorted([DEMO_SERVER, SECURE_SERVER, HOSTED_SERVER, ASSEMBLED_SERVER])
    status, body = await cluster.admin("GET", "/v1/services")
    [service] = body["data"]["items"]
    assert service["name"] == DEMO_MCP_SERVICE
    assert service["addresses"] == [two_url.split("/")[2]]
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{second.server_ids[ASSEMBLED_SERVER]}")
    assert [source["mcpServerId"] for source in body["data"]["assembledSources"]] == [
        second.server_ids[DEMO_SERVER], second.server_ids[HOSTED_SERVER]]
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{second.server_ids[SECURE_SERVER]}")
    assert body["data"]["consumerAuthInfo"] == {"enable": True}
    status, text = await cluster.admin("GET", f"/v1/mcp-servers/{second.server_ids[DEMO_SERVER]}/tools")
    assert "http://127.0.0.1:10" in text  # the tools follow the backend's new address
    status, body = await cluster.admin("GET", "/v1/consumers")
    assert sorted(item["name"] for item in body["data"]["items"]) == ["demo-jwt-user", "demo-user"]
    # Both are authorized on the secure server, once each however often the demo is configured.
    status, body = await cluster.admin("GET", f"/v1/authorization-rules?resourceId={second.server_ids[SECURE_SERVER]}")
    assert status == 200 and body["data"]["totalSize"] == "2"
    assert first.jwt and second.jwt and first.jwt != second.jwt


async def _run_launcher(**env: str) -> tuple[int, str]:
    proc = await spawn("up", [sys.executable, "-m", "mcpgw.launcher"], env={**os.environ, **env})
    code = await proc.proc.wait()
    await proc.stop()
    return code, "\n".join(proc.lines)


async def test_a_taken_port_is_reported_with_its_variable() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, output = await _run_launcher(MCPGW_EDGE_PORT=str(port), MCPGW_REGISTRY_PORT=str(free_port()))
    assert code == 1, output
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "MCPGW_EDGE_PORT=<port>" in output


async def test_a_malformed_port_is_refused() -> None:
    code, output = await _run_launcher(MCPGW_REGISTRY_PORT="eighty")
    assert code == 2, output
    assert "MCPGW_REGISTRY_PORT='eighty' is not a port number" in output


def test_urls_use_an_address_a_client_can_reach() -> None:
    env = {"MCPGW_EDGE_HOST": "0.0.0.0", "MCPGW_EDGE_PORT": "9000", "MCPGW_REGISTRY_HOST": "::1"}
    config = Config.from_env(env)
    assert config.mcp_url("demo") == "http://127.0.0.1:9000/mcp-servers/demo"
    assert config.admin_url == "http://[::1]:8081"
    assert (config.nats_url, config.redis_url, config.subject_root) == (None, None, "mcpgw")
    assert config.admin_token_generated and len(config.admin_token) >= 40
    assert Config.from_env({"MCPGW_ADMIN_TOKEN": "t1"}).admin_token == "t1"
    given = Config.from_env({"MCPGW_ADMIN_TOKEN": "t1", "MCPGW_REGISTRY_ADMIN_TOKEN": "t2"})
    assert (given.admin_token, given.admin_token_generated) == ("t2", False)
    assert Config.from_env({"NATS_URL": "nats://n:1", "MCPGW_REDIS_URL": "redis://r"}).nats_url == "nats://n:1"
