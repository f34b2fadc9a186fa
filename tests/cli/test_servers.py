"""`mcpgw servers create|get|list|update|delete` against a running cluster, and the exit codes every
command shares (refused, usage, not found, unreachable)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.backends import petstore_yaml
from tests.cli.run import mcpgw
from tests.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]


async def test_a_server_from_create_to_delete(cluster: Cluster, tmp_path: Path) -> None:
    tools = tmp_path / "pets.yaml"
    tools.write_text(petstore_yaml("http://127.0.0.1:9"))
    ran = await mcpgw(cluster, "servers", "create", "pets", "--description", "Pets [beta]", "--tools", str(tools))
    assert ran.code == 0, ran.err
    [line] = ran.lines
    assert line.startswith("Created MCP server pets (mcp-") and line.endswith(") at /mcp-servers/pets")
    server_id = line.split("(")[1].split(")")[0]

    shown, listed, as_json = await asyncio.gather(
        mcpgw(cluster, "servers", "get", "pets"), mcpgw(cluster, "servers", "list"),
        mcpgw(cluster, "servers", "get", server_id, "--json"))
    assert shown.code == 0, shown.err
    fields = shown.fields
    assert fields["ID"] == server_id and fields["Name"] == "pets"
    assert fields["Description"] == "Pets [beta]"  # data, never rich markup
    assert fields["Tools (4)"] == "get_pet, add_pet, broken, slow" and fields["Consumer auth"] == "off"
    assert fields["Kind"].startswith("REST (RealMCP")
    assert listed.lines[0].split() == ["ID", "NAME", "KIND", "PROTOCOL", "AUTH", "PATH"]
    assert listed.lines[1].split() == [server_id, "pets", "REST", "HTTP", "off", "/mcp-servers/pets"]
    assert as_json.json()["mcpServerId"] == server_id and as_json.json()["description"] == "Pets [beta]"

    ran = await mcpgw(cluster, "servers", "update", "pets", "--consumer-auth", "on", "--list-ttl-ms", "5000")
    assert ran.code == 0, ran.err
    assert ran.out.startswith(f"Updated MCP server pets ({server_id}): revision ")
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}")
    assert status == 200
    assert body["data"]["consumerAuthInfo"] == {"enable": True} and body["data"]["listTtlMs"] == 5000
    assert body["data"]["description"] == "Pets [beta]"  # what was not given stays

    ran = await mcpgw(cluster, "servers", "delete", "pets", "--json")
    assert ran.json() == {"mcpServerId": server_id}
    gone, by_id = await asyncio.gather(mcpgw(cluster, "servers", "get", "pets"),
                                       mcpgw(cluster, "servers", "get", server_id))
    assert (gone.code, gone.out, gone.err) == (3, "", "error: no MCP server named 'pets'\n")
    assert by_id.code == 3 and by_id.err.startswith("error: NotFound (404): ")


async def test_create_from_an_openapi_document_and_list_as_json(cluster: Cluster) -> None:
    ran = await mcpgw(cluster, "servers", "create", "store", "--openapi", str(ROOT / "demo" / "openapi.yaml"))
    assert ran.code == 0, ran.err
    assert ran.lines[1:] == ["  3 tools from 3 operations", "  tools: list_pets, add_pet, get_pet"]
    await cluster.create_server("other")
    ran = await mcpgw(cluster, "--json", "servers", "list", "--name-like", "sto")
    assert [item["name"] for item in ran.json()] == ["store"]
    ran = await mcpgw(cluster, "servers", "list", "--json")
    assert [item["name"] for item in ran.json()] == ["other", "store"]  # newest first


async def test_exit_codes_scripts_can_rely_on(cluster: Cluster, tmp_path: Path) -> None:
    await cluster.create_server("pets")
    refused, taken, unchanged, bad_switch, no_file, unreachable, wrong_token, empty = await asyncio.gather(
        mcpgw(cluster, "servers", "create", "Not A Name"),
        mcpgw(cluster, "servers", "create", "pets"),
        mcpgw(cluster, "servers", "update", "pets"),
        mcpgw(cluster, "servers", "update", "pets", "--consumer-auth", "maybe"),
        mcpgw(cluster, "servers", "create", "x", "--tools", str(tmp_path / "missing.yaml")),
        mcpgw(cluster, "servers", "list", env={"MCPGW_ADMIN_URL": "http://127.0.0.1:9"}),
        mcpgw(cluster, "servers", "list", env={"MCPGW_ADMIN_TOKEN": "wrong-token"}),
        mcpgw(cluster, "consumers", "list"))
    # 1: the API refused, and its message names the field.
    assert refused.code == 1 and refused.out == ""
    assert refused.err.startswith("error: InvalidParameter (400): name: ")
    assert taken.code == 1 and taken.err.startswith("error: Conflict (409): name: ")
    assert wrong_token.code == 1 and "(401)" in wrong_token.err and "MCPGW_ADMIN_TOKEN" in wrong_token.err
    assert no_file.code == 1 and no_file.err.startswith("error: cannot read ")
    # 2: usage, ours or argparse's.
    assert unchanged.code == 2 and "nothing to change" in unchanged.err
    assert bad_switch.code == 2 and "argument --consumer-auth: invalid on/off value: 'maybe'" in bad_switch.err
    # 4: no admin API there.
    assert unreachable.code == 4 and "cannot reach the admin API at http://127.0.0.1:9" in unreachable.err
    # An empty list is no error: nothing on stdout, a note on stderr.
    assert (empty.code, empty.out, empty.err) == (0, "", "no consumers\n")
    ran = await mcpgw(cluster, "frobnicate")
    assert ran.code == 2 and "invalid choice: 'frobnicate'" in ran.err


async def test_backends_and_canaries_from_the_command_line(cluster: Cluster) -> None:
    for name, address in (("main", "10.0.0.1:80"), ("spare", "10.0.0.2:80"), ("canary", "10.0.0.3:80")):
        await cluster.create_service(address, name=name)
    ran = await mcpgw(cluster, "servers", "create", "split", "--backend", "main=70", "--backend", "spare=30",
                      "--canary", "x-canary=true@canary", "--canary", "x-mcpgw-consumer=alice@canary")
    assert ran.code == 0, ran.err
    shown = await mcpgw(cluster, "servers", "get", "split")
    assert shown.fields["Backend"] == "main (70), spare (30)"
    assert shown.fields["Canaries"] == "x-canary Exact true -> canary\nx-mcpgw-consumer Exact alice -> canary"
    server = (await mcpgw(cluster, "servers", "get", "split", "--json")).json()
    assert server["backend"]["scene"] == "MultiServiceByRatio"
    assert server["grayMcpServerConfigs"][0]["match"] == {"headers": [{"name": "x-canary", "value": "true"}]}

    ran = await mcpgw(cluster, "servers", "update", "split", "--backend", "main", "--no-canary")
    assert ran.code == 0, ran.err
    shown = await mcpgw(cluster, "servers", "get", "split")
    assert shown.fields["Backend"] == "main" and shown.fields.get("Canaries", "") == ""
    bad = await mcpgw(cluster, "servers", "update", "split", "--canary", "x-canary@canary")
    assert bad.code == 2 and "expected HEADER=VALUE@SERVICE" in bad.err
