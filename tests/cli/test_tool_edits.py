"""`mcpgw tools edit|imported|detach`: an imported tool edited, the edit kept by a re-import, shown,
and the tools detached from their document."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from tests.cli.run import mcpgw
from tests.cluster import Cluster
from tests.registry.openapi_docs import v1


async def test_an_edit_survives_a_reimport_until_the_tools_are_detached(cluster: Cluster, tmp_path: Path) -> None:
    await cluster.create_server("pets")
    document = tmp_path / "v1.yaml"
    document.write_text(v1())
    assert (await mcpgw(cluster, "tools", "import", "pets", str(document))).code == 0

    ran = await mcpgw(cluster, "tools", "edit", "pets", "getPet", "--rename", "get_pet", "--description", "One pet",
                      "--default", "tag=dog", "--hide", "tag")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Edited tool get_pet of pets (revision ")
    assert '"name": "get_pet"' in ran.out and '"default": "dog"' in ran.out

    assert (await mcpgw(cluster, "tools", "import", "pets", str(document))).code == 0  # the same document again
    tools = {t["name"]: t for t in (await mcpgw(cluster, "tools", "get", "pets", "--json")).json()["tools"]}
    assert set(tools) == {"listPets", "get_pet", "deletePet"}
    assert tools["get_pet"]["description"] == "One pet"
    [tag] = [a for a in tools["get_pet"]["args"] if a["name"] == "tag"]
    assert tag["default"] == "dog"

    shown, as_json = await asyncio.gather(mcpgw(cluster, "tools", "imported", "pets"),
                                          mcpgw(cluster, "tools", "imported", "pets", "--json"))
    assert shown.fields["Operations"] == "3" and shown.fields["Edits (1)"].startswith("GET /pets/{petId}: {")
    assert as_json.json()["imported"] is True and list(as_json.json()["overrides"]) == ["GET /pets/{petId}"]

    missing, nothing, malformed, not_json = await asyncio.gather(
        mcpgw(cluster, "tools", "edit", "pets", "getPet", "--disable"),  # renamed: its name is get_pet now
        mcpgw(cluster, "tools", "edit", "pets", "get_pet"),
        mcpgw(cluster, "tools", "edit", "pets", "get_pet", "--default", "tag"),
        mcpgw(cluster, "tools", "edit", "pets", "get_pet", "--rename", "no spaces"))
    assert missing.code == 3 and "tool: MCP server 'pets' has no tool 'getPet'" in missing.err
    assert nothing.code == 2 and "nothing to change" in nothing.err
    assert malformed.code == 2 and "--default tag: expected ARG=VALUE" in malformed.err
    assert not_json.code == 1 and not_json.err.startswith("error: InvalidParameter (400): name: ")

    ran = await mcpgw(cluster, "tools", "detach", "pets")
    assert ran.code == 0 and ran.out.startswith("Detached the tools of pets from their OpenAPI document")
    ran = await mcpgw(cluster, "tools", "imported", "pets")
    assert ran.out == "pets: its tools were not imported from an OpenAPI document\n"
    document_now = yaml.safe_load((await mcpgw(cluster, "tools", "get", "pets")).out)
    assert [t["name"] for t in document_now["tools"]] == ["listPets", "get_pet", "deletePet"]  # they stay
