"""The launcher's configuration step against an in-process cluster, its local state, and its
start-up errors."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from mcpgw.banner import banner, cli_env
from mcpgw.demo_setup import (
    ASSEMBLED_SERVER,
    DEMO_MCP_SERVICE,
    DEMO_SERVER,
    HOSTED_SERVER,
    SECURE_SERVER,
    Demo,
    configure_demo,
    render_tools,
)
from mcpgw.devcluster import Proc, free_port, spawn, spawn_ready
from mcpgw.launcher import DEMO_MCP_READY, Config, project_root
from mcpgw.localstate import DEMO_JWT_SECRET_FILE, DEMO_KEY_FILE, read_secret
from tests.cluster import ADMIN_TOKEN, Cluster
from tests.util import eventually

MODERN = "2026-07-28"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def config_for(cluster: Cluster, run_dir: Path) -> Config:
    return Config(root=project_root(), nats_url=cluster.nats_url, redis_url=cluster.redis_url,
                  edge_host="127.0.0.1", edge_port=cluster.edges[0].port, registry_host="127.0.0.1",
                  registry_port=cluster.registry.port, subject_root=cluster.root, log_level="WARNING",
                  verbose=False, admin_token=ADMIN_TOKEN, run_dir=run_dir)


async def list_tools(url: str, key: str) -> int:
    """The status of a stateless (2026-07-28) tools/list with `key` as the bearer token."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list", "Authorization": f"Bearer {key}",
               "Accept": "application/json, text/event-stream"}
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as resp:
        return resp.status


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


async def test_configure_demo_is_idempotent(cluster: Cluster, tmp_path: Path) -> None:
    config = config_for(cluster, tmp_path)
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
    # The demo key is kept in the run directory: the same on every run, and it works.
    assert first.api_key == second.api_key and not first.key_rotated and not second.key_rotated
    key_file = tmp_path / DEMO_KEY_FILE
    assert read_secret(key_file) == first.api_key
    assert (mode(key_file), mode(tmp_path)) == (0o600, 0o700)
    assert await list_tools(cluster.mcp_url(SECURE_SERVER), first.api_key) == 200

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
    # The JWT consumer's secret is kept beside the key: a token signed on the first run still verifies
    # after the second, which signs its own with the same secret.
    secret_file = tmp_path / DEMO_JWT_SECRET_FILE
    assert mode(secret_file) == 0o600 and len(read_secret(secret_file) or "") >= 64
    assert not first.jwt_secret_rotated and not second.jwt_secret_rotated
    assert first.jwt and second.jwt
    assert await list_tools(cluster.mcp_url(SECURE_SERVER), first.jwt) == 200
    assert await list_tools(cluster.mcp_url(SECURE_SERVER), second.jwt) == 200
    assert (read_secret(secret_file) or "-") not in banner(config, second, "nats://n", "redis://r")

    # A run directory without the key (make reset, with NATS_URL naming a store that outlived it):
    # the existing consumer is given the new key, and the banner says so.
    fresh = config_for(cluster, tmp_path / "fresh")
    (one, one_url) = await start_demo_mcp()
    try:
        third = await configure_demo(fresh, "http://127.0.0.1:10", one_url)
    finally:
        await one.stop()
    assert third.key_rotated and third.api_key != first.api_key
    assert third.jwt_secret_rotated
    printed = banner(fresh, third, "nats://n", "redis://r")
    assert "(demo-user existed: it was given this key)" in printed
    assert "(demo-jwt-user existed: it was given a new secret)" in printed
    assert await list_tools(cluster.mcp_url(SECURE_SERVER), third.api_key) == 200
    assert await list_tools(cluster.mcp_url(SECURE_SERVER), third.jwt) == 200
    # The old key's and token's cached admissions are dropped by the change event (within a second).
    await eventually(lambda: list_tools(cluster.mcp_url(SECURE_SERVER), first.api_key), lambda s: s == 401)
    await eventually(lambda: list_tools(cluster.mcp_url(SECURE_SERVER), first.jwt), lambda s: s == 401)


def test_the_admin_token_is_made_once_and_kept_for_the_owner_only(tmp_path: Path) -> None:
    run_dir = tmp_path / "state"
    first = Config.from_env({"MCPGW_RUN_DIR": str(run_dir)})
    assert first.admin_token == "" and first.state_dir == run_dir
    first.keep_admin_token()
    token_file = run_dir / "admin-token"
    assert first.admin_token_file == token_file and len(first.admin_token) >= 40
    assert token_file.read_text() == first.admin_token + "\n"
    assert (mode(token_file), mode(run_dir)) == (0o600, 0o700)
    again = Config.from_env({"MCPGW_RUN_DIR": str(run_dir)})
    again.keep_admin_token()
    assert again.admin_token == first.admin_token  # a restart finds the same token

    given = Config.from_env({"MCPGW_RUN_DIR": str(tmp_path / "other"), "MCPGW_ADMIN_TOKEN": "t1"})
    given.keep_admin_token()
    assert (given.admin_token, given.admin_token_file) == ("t1", None)
    assert not (tmp_path / "other").exists()  # nothing written when the token is given

    # The banner names the file, never the token, and tells mcpgw where this cluster is.
    assert cli_env(first) == f"MCPGW_RUN_DIR={run_dir} "
    moved = Config.from_env({"MCPGW_REGISTRY_PORT": "9081"})
    assert cli_env(moved) == "MCPGW_ADMIN_URL=http://127.0.0.1:9081 "
    assert cli_env(Config.from_env({})) == ""
    shown = banner(first, Demo(api_key="k", jwt="j"), "nats://n", "redis://r")
    assert first.admin_token not in shown and f"Admin token        in {token_file} (" in shown
    assert f"MCPGW_RUN_DIR={run_dir} " in shown


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
    assert config.admin_token == "" and config.state_dir == project_root() / ".run"
    assert (config.demo_backend_port, config.demo_mcp_port) == (8082, 8083)
    assert Config.from_env({"MCPGW_ADMIN_TOKEN": "t1"}).admin_token == "t1"
    given = Config.from_env({"MCPGW_ADMIN_TOKEN": "t1", "MCPGW_REGISTRY_ADMIN_TOKEN": "t2"})
    assert given.admin_token == "t2"
    ports = Config.from_env({"MCPGW_DEMO_BACKEND_PORT": "9000", "MCPGW_DEMO_MCP_PORT": "9001"})
    assert (ports.demo_backend_port, ports.demo_mcp_port) == (9000, 9001)
    assert Config.from_env({"NATS_URL": "nats://n:1", "MCPGW_REDIS_URL": "redis://r"}).nats_url == "nats://n:1"
