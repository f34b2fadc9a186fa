"""`mcpgw tools get|put|import|example` against a running cluster: as a separate process, and in-process
where only the rendering is under test."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path
from typing import Any
from unittest import mock

import msgspec
import pytest
import yaml

from mcpgw import cli
from tests.backends import petstore_yaml
from tests.cli.run import mcpgw
from tests.cluster import ADMIN_TOKEN, Cluster
from tests.registry.openapi_docs import v1, v2
from tests.specs import write

IMPORT_KEYS = {"tools", "added", "changed", "removed", "skipped"}


async def _main(cluster: Cluster, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`cli.main(ARGS)` in-process (in a thread: it runs its own event loop)."""
    with mock.patch.dict(os.environ, {"MCPGW_ADMIN_TOKEN": ADMIN_TOKEN}):
        code = await asyncio.to_thread(cli.main, ["--admin-url", cluster.admin_url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def many_operations(kept: int, skipped: int) -> bytes:
    """An OpenAPI document of `kept` plain operations and `skipped` that need a header no gateway can send."""
    paths: dict[str, Any] = {}
    for n in range(kept):
        paths[f"/items{n:02d}"] = {"get": {"operationId": f"op{n:02d}", "responses": {"200": {"description": "ok"}}}}
    for n in range(skipped):
        paths[f"/bad{n:02d}"] = {"get": {"operationId": f"bad{n:02d}", "responses": {"200": {"description": "ok"}},
                                         "parameters": [{"name": "X Bad", "in": "header", "required": True,
                                                         "schema": {"type": "string"}}]}}
    return msgspec.json.encode({"openapi": "3.0.3", "info": {"title": "Many", "version": "1"},
                                "servers": [{"url": "https://many.example.com"}], "paths": paths})


async def test_import_petstore_preview_then_apply_as_json(cluster: Cluster, tmp_path: Path) -> None:
    petstore_v3 = write("petstore-v3.openapi.yaml", tmp_path)
    server_id = await cluster.create_server("petstore")

    ran = await mcpgw(cluster, "tools", "import", "petstore", str(petstore_v3), "--preview", "--json")
    preview = ran.json()  # exactly one JSON document
    assert IMPORT_KEYS <= set(preview)
    assert preview["tools"] and preview["added"] == preview["tools"]
    assert preview["changed"] == [] and preview["removed"] == []
    assert all(set(s) == {"operation", "reason"} for s in preview["skipped"])
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}/tools/import")
    assert status == 200 and body["data"]["imported"] is False  # the preview changed nothing

    ran = await mcpgw(cluster, "tools", "import", server_id, str(petstore_v3), "--json",
                      "--base-url", "https://petstore.internal/v3")
    applied = ran.json()
    assert applied["tools"] == preview["tools"] and applied["applied"] is True

    ran = await mcpgw(cluster, "tools", "get", "petstore")
    assert ran.code == 0, ran.err
    assert "https://petstore.internal/v3" in ran.out and "source:" in ran.out


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


async def test_a_large_import_is_summarized_and_verbose_lists_all(cluster: Cluster) -> None:
    await cluster.create_server("many")
    document = many_operations(kept=25, skipped=12)
    short, verbose = await asyncio.gather(
        mcpgw(cluster, "tools", "import", "many", "-", "--preview", stdin=document),
        mcpgw(cluster, "tools", "import", "many", "-", "--preview", "--verbose", stdin=document))
    assert short.code == 0, short.err
    lines = short.lines
    assert lines[1] == "  25 tools from 37 operations"
    first = ", ".join(f"op{n:02d}" for n in range(10))
    assert lines[2] == f"  added (25): {first}, … 15 more (--verbose lists all)"
    start = lines.index("  skipped (12):")
    assert [line.split(":")[0] for line in lines[start + 1:start + 11]] == [f"    GET /bad{n:02d}" for n in range(10)]
    assert lines[start + 11] == "    … 2 more (--verbose lists all)"
    assert len(lines) == start + 12

    assert verbose.code == 0, verbose.err
    assert verbose.lines[2] == "  added (25): " + ", ".join(f"op{n:02d}" for n in range(25))
    assert sum(line.startswith("    GET /bad") for line in verbose.lines) == 12


async def test_put_get_and_example(cluster: Cluster, tmp_path: Path) -> None:
    await cluster.create_server("pets")
    document = tmp_path / "tools.yaml"
    document.write_text(petstore_yaml("http://127.0.0.1:9"))
    put = await mcpgw(cluster, "tools", "put", "pets", str(document))
    assert put.code == 0, put.err
    assert put.out.startswith("Put 4 tools into pets (revision ")
    assert put.out.rstrip().endswith("): get_pet, add_pet, broken, slow")

    as_yaml, as_json, example, openapi = await asyncio.gather(
        mcpgw(cluster, "tools", "get", "pets"), mcpgw(cluster, "tools", "get", "pets", "--json"),
        mcpgw(cluster, "tools", "example"), mcpgw(cluster, "tools", "example", "--openapi"))
    assert yaml.safe_load(as_yaml.out) == yaml.safe_load(petstore_yaml("http://127.0.0.1:9"))
    assert as_json.json() == yaml.safe_load(as_yaml.out)
    assert example.code == 0 and example.out.startswith("# An mcpgw tools document")
    assert openapi.code == 0 and "openapi: 3.0.3" in openapi.out

    # An example put back as it came (stdin) is a valid tools document.
    ran = await mcpgw(cluster, "tools", "put", "pets", "-", "--json", stdin=example.out.encode())
    assert ran.json()["tools"]


async def test_errors_name_the_field(cluster: Cluster, tmp_path: Path) -> None:
    await cluster.create_server("pets")
    broken = tmp_path / "broken.yaml"
    broken.write_text(v1().replace("schema: {type: string}", "schema: {$ref: '#/components/schemas/Nope'}"))
    bad_tools = tmp_path / "bad-tools.yaml"
    bad_tools.write_text("server: {name: pets}\ntools:\n- name: t\n  requestTemplate: {method: GET}\n")
    substring, bad_import, bad_put, missing_file, no_file_arg = await asyncio.gather(
        mcpgw(cluster, "tools", "import", "pet", str(broken)),  # a substring, not a name
        mcpgw(cluster, "tools", "import", "pets", str(broken), "--json"),
        mcpgw(cluster, "tools", "put", "pets", str(bad_tools)),
        mcpgw(cluster, "tools", "import", "pets", str(tmp_path / "missing.yaml")),
        mcpgw(cluster, "tools", "import", "pets"))
    assert (substring.code, substring.out, substring.err) == (3, "", "error: no MCP server named 'pet'\n")
    assert bad_import.code == 1 and bad_import.out == ""
    assert bad_import.err.startswith("error: InvalidParameter (400): ")
    assert "#/components/schemas/Nope" in bad_import.err
    assert bad_put.code == 1 and bad_put.err.startswith("error: InvalidParameter (400): tools[0].responseTemplate.body")
    assert missing_file.code == 1 and missing_file.err.startswith("error: cannot read ")
    assert no_file_arg.code == 2 and "usage: mcpgw tools import" in no_file_arg.err


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
    code, out, err = await _main(cluster, capsys, "servers", "get", "keyed")
    assert code == 0, err
    assert "cli-secret" not in out
