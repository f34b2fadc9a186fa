"""The `mcpgw` command line against a running cluster: as a separate process and in-process."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from pathlib import Path
from unittest import mock

import pytest
import yaml
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcpgw import cli
from tests.backends import Backend, petstore_yaml
from tests.cluster import ADMIN_TOKEN, Cluster
from tests.registry.openapi_docs import v1, v2
from tests.specs import write
from tests.upstream.fixture_server import running_fixture

IMPORT_KEYS = {"tools", "added", "changed", "removed", "skipped"}


async def _run(cluster: Cluster, *args: str, stdin: bytes | None = None,
               env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`python -m mcpgw.cli ARGS` as its own process, talking to the cluster's admin API."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcpgw.cli", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "MCPGW_ADMIN_URL": cluster.admin_url, "MCPGW_ADMIN_TOKEN": ADMIN_TOKEN, **(env or {})})
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _main(cluster: Cluster, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`cli.main(ARGS)` in-process (in a thread: it runs its own event loop)."""
    with mock.patch.dict(os.environ, {"MCPGW_ADMIN_TOKEN": ADMIN_TOKEN}):
        code = await asyncio.to_thread(cli.main, ["--admin-url", cluster.admin_url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_import_petstore_preview_then_apply_as_json(cluster: Cluster, tmp_path: Path) -> None:
    petstore_v3 = write("petstore-v3.openapi.yaml", tmp_path)
    server_id = await cluster.create_server("petstore")

    code, out, err = await _run(cluster, "tools", "import", "petstore", str(petstore_v3), "--preview", "--json")
    assert code == 0, err
    preview = json.loads(out)  # exactly one JSON object
    assert IMPORT_KEYS <= set(preview)
    assert preview["tools"] and preview["added"] == preview["tools"]
    assert preview["changed"] == [] and preview["removed"] == []
    assert all(set(s) == {"operation", "reason"} for s in preview["skipped"])
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}/tools/import")
    assert status == 200 and body["data"]["imported"] is False  # the preview changed nothing

    code, out, err = await _run(cluster, "tools", "import", server_id, str(petstore_v3), "--json",
                                "--base-url", "https://petstore.internal/v3")
    assert code == 0, err
    applied = json.loads(out)
    assert applied["tools"] == preview["tools"] and applied["applied"] is True

    code, out, err = await _run(cluster, "tools", "get", "petstore")
    assert code == 0, err
    assert "https://petstore.internal/v3" in out and "source:" in out


async def test_human_report_of_an_incremental_import(cluster: Cluster, capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    await cluster.create_server("pets")
    first, second = tmp_path / "v1.yaml", tmp_path / "v2.json"
    first.write_text(v1())
    second.write_text(json.dumps(yaml.safe_load(v2())))  # JSON works the same

    code, out, _ = await _main(cluster, capsys, "tools", "import", "pets", str(first))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Imported into pets (revision ")
    assert lines[1:4] == ["  3 tools from 3 operations", "  added (3): listPets, getPet, deletePet", "  unchanged: 0"]

    code, out, _ = await _main(cluster, capsys, "tools", "import", "pets", str(second), "--preview")
    assert code == 0
    assert out.splitlines() == [
        "Preview of importing into pets (nothing was changed):",
        "  3 tools from 3 operations",
        "  added (1): createPet",
        "  removed (1): deletePet",
        "  changed (1): getPet (args, inputSchema, operationId) [name kept; the spec now says showPetById]",
        "  unchanged: 1",
    ]


async def test_stdin_servers_list_and_example(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    server_id = await cluster.create_server("pets")
    await cluster.create_server("other")
    code, out, err = await _run(cluster, "tools", "import", "pets", "-", "--json", "--skip-deprecated",
                                stdin=v1().encode())
    assert code == 0, err
    assert json.loads(out)["tools"] == ["listPets", "getPet", "deletePet"]

    code, out, _ = await _main(cluster, capsys, "servers", "list")
    assert code == 0
    assert [line.split()[1] for line in out.splitlines()] == ["other", "pets"]
    code, out, _ = await _main(cluster, capsys, "servers", "list", "--json", "--name-like", "pe")
    assert [s["mcpServerId"] for s in json.loads(out)] == [server_id]

    code, out, _ = await _main(cluster, capsys, "tools", "example")
    assert code == 0 and out.startswith("# An mcpgw tools document")
    code, out, _ = await _main(cluster, capsys, "tools", "example", "--openapi")
    assert code == 0 and "openapi: 3.0.3" in out


async def test_errors_and_usage(cluster: Cluster, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    await cluster.create_server("pets")
    doc = tmp_path / "v1.yaml"
    doc.write_text(v1())

    code, out, err = await _main(cluster, capsys, "tools", "import", "pet", str(doc))  # substring, not a name
    assert (code, out) == (1, "") and err == "error: no MCP server named 'pet'\n"

    broken = tmp_path / "broken.yaml"
    broken.write_text(v1().replace("schema: {type: string}", "schema: {$ref: '#/components/schemas/Nope'}"))
    code, out, err = await _main(cluster, capsys, "tools", "import", "pets", str(broken), "--json")
    assert code == 1 and out == ""
    assert err.startswith("error: InvalidParameter (400): ") and "#/components/schemas/Nope" in err

    code, _, err = await _main(cluster, capsys, "tools", "import", "pets", str(tmp_path / "missing.yaml"))
    assert code == 1 and err.startswith("error: cannot read ")

    code, _, err = await _run(cluster, "tools", "get", "pets", env={"MCPGW_ADMIN_URL": "http://127.0.0.1:9"})
    assert code == 1 and "cannot reach the admin API at http://127.0.0.1:9" in err

    code, _, err = await _run(cluster, "tools", "import", "pets")  # missing <file>
    assert code == 2 and "usage: mcpgw tools import" in err
    code, _, err = await _run(cluster, "frobnicate")
    assert code == 2


async def test_host_an_mcp_server_assemble_it_and_list_services(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with running_fixture() as fixture:
        code, out, err = await _run(cluster, "servers", "host", "fixture", fixture.url)
        assert code == 0, err
        assert "hosting " + fixture.url in out and "/mcp-servers/fixture" in out
        code, out, err = await _run(cluster, "servers", "assemble", "both", "petstore=get_pet",
                                    "fixture=test_simple_text", "--alias", "fixture:test_simple_text=hello")
        assert code == 0, err
        async with streamable_http_client(cluster.mcp_url("both")) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            assert sorted(t.name for t in (await session.list_tools()).tools) == ["get_pet", "hello"]
            result = await session.call_tool("hello", {})
            assert not result.is_error, result

    code, out, err = await _run(cluster, "services", "list")
    assert code == 0, err
    assert "fixture-upstream" in out and "VIP" in out

    code, _, err = await _run(cluster, "servers", "host", "bad", "ftp://example.com/mcp")
    assert code == 1 and "not an http(s) URL" in err
    code, _, err = await _run(cluster, "servers", "assemble", "x", "petstore", "--alias", "nope:a=b")
    assert code == 1 and "--alias nope:a=b" in err



async def test_secrets_never_reach_the_output(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    await cluster.create_server("keyed", "server:\n  name: keyed\n  config: {baseUrl: 'https://api.example', "
                                         "apiKey: cli-secret-1, tenant: cli-secret-2}\n  secretConfig: [tenant]\n"
                                         "tools: []\n")
    code, out, err = await _main(cluster, capsys, "tools", "get", "keyed")
    assert code == 0, err
    config = yaml.safe_load(out)["server"]["config"]
    assert config == {"baseUrl": "https://api.example", "apiKey": "******", "tenant": "******"}
    code, out, err = await _main(cluster, capsys, "servers", "list", "--json")
    assert code == 0, err
    listed = base64.b64decode(json.loads(out)[0]["mcpServerConfig"]).decode()
    assert "https://api.example" in listed and "cli-secret" not in listed
