"""Overrides, edited-YAML read-back and the incremental merge, on hand-made generated documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest
import yaml
from mcpgw_registry.importing.edits import derive
from mcpgw_registry.importing.overrides import (
    ArgOverride,
    ServerOverride,
    ToolOverride,
    apply_document,
    enforce_hidden,
)
from mcpgw_registry.importing.reimport import merge
from mcpgw_registry.importing.render import render
from mcpgw_registry.resources.tools.document import input_schema, parse_tools

from mcpgw.contracts.errors import McpgwError
from mcpgw.contracts.tools import ToolsDocument
from tests.registry.import_docs import v1, v2


def _roundtrip(doc: ToolsDocument) -> ToolsDocument:
    return parse_tools(render(doc))


def _tool(doc: ToolsDocument, name: str):  # type: ignore[no-untyped-def]
    return next(t for t in doc.tools if t.name == name)


def test_rendered_yaml_parses_back_to_the_same_document() -> None:
    doc = apply_document(v1(), {}, None)
    assert doc == v1()
    assert _roundtrip(doc) == doc
    text = render(doc)
    assert text.startswith("# Generated from an OpenAPI document")
    assert "source:\n    method: GET\n    path: /pets\n" in text


def test_overrides_apply_to_the_generated_tools() -> None:
    overrides = {
        "GET /pets": ToolOverride(name="pets", description="All the pets",
                                  args={"limit": ArgOverride(default=5), "tenant": ArgOverride(default="acme",
                                                                                               hidden=True)}),
        "DELETE /pets/{id}": ToolOverride(disabled=True),
    }
    doc = apply_document(v1(), overrides, ServerOverride(credentials={"key": "s3cret"}))
    pets = _tool(doc, "pets")
    assert pets.description == "All the pets"
    assert [a.default for a in pets.args] == [5, "acme"]
    assert pets.input_schema == {"type": "object", "properties": {"limit": {"type": "integer", "default": 5}}}
    assert _tool(doc, "deletePet").disabled
    assert doc.server.security_schemes[0].default_credential == "s3cret"
    assert _roundtrip(doc) == doc

    # toolexec is given the hidden argument pinned to its default
    pinned = enforce_hidden(pets, overrides["GET /pets"])
    assert [(a.name, a.default, a.enum) for a in pinned.args] == [("limit", 5, None), ("tenant", "acme", ["acme"])]


def test_hidden_optional_argument_without_default_is_not_sent() -> None:
    ov = ToolOverride(args={"tenant": ArgOverride(hidden=True)})
    tool = apply_document(v1(), {"GET /pets": ov}, None).tools[0]
    assert "tenant" not in input_schema(tool)["properties"]
    assert [a.name for a in enforce_hidden(tool, ov).args] == ["limit"]


def _edit(doc: ToolsDocument, change: Callable[[dict[str, Any]], None]) -> ToolsDocument:
    """`doc` rendered, edited as data the way an operator edits the YAML, and parsed back."""
    data = yaml.safe_load(render(doc))
    change(data)
    return parse_tools(yaml.safe_dump(data, sort_keys=False))


def test_edited_yaml_is_read_back_as_overrides() -> None:
    gen = v1()

    def change(data: dict[str, Any]) -> None:
        pets, pet, delete = data["tools"]
        pets["name"] = "list_all_pets"
        pet["description"] = "Fetch one pet"
        # hide `tenant` with a default: in args with a default, out of the inputSchema
        pets["args"][1]["default"] = "acme"
        del pets["inputSchema"]["properties"]["tenant"]
        # an edit that is not an override: the URL
        delete["requestTemplate"]["url"] = "https://other.example.com/pets/{id}"

    edited = _edit(gen, change)
    derived = derive(gen, edited, {})
    assert derived.overrides == {
        "GET /pets": ToolOverride(name="list_all_pets", args={"tenant": ArgOverride(default="acme", hidden=True)}),
        "GET /pets/{id}": ToolOverride(description="Fetch one pet"),
    }
    assert derived.not_kept == [{"tool": "deletePet", "fields": ["requestTemplate"]}]
    assert derived.server is None
    # applying the overrides to the generated tools gives what was sent, for the kept fields
    again = apply_document(gen, derived.overrides, derived.server)
    assert _tool(again, "list_all_pets") == _tool(edited, "list_all_pets")


def test_server_edits_are_kept() -> None:
    gen = v1()

    def change(data: dict[str, Any]) -> None:
        data["server"]["securitySchemes"][0]["defaultCredential"] = "s3cret"
        data["server"]["config"]["region"] = "eu"
        data["allowTools"] = ["listPets"]

    derived = derive(gen, _edit(gen, change), {})
    assert derived.server == ServerOverride(config={"region": "eu"}, credentials={"key": "s3cret"},
                                            allow_tools=["listPets"])
    assert derived.not_kept == []


def test_deleting_an_imported_tool_from_the_yaml_disables_it() -> None:
    gen = v1()
    edited = msgspec.structs.replace(gen, tools=gen.tools[:2])
    assert derive(gen, edited, {}).overrides == {"DELETE /pets/{id}": ToolOverride(disabled=True)}


def test_hiding_a_required_argument_needs_a_default() -> None:
    gen = v1()

    def change(data: dict[str, Any]) -> None:
        data["tools"][1]["inputSchema"] = {"type": "object", "properties": {}}

    with pytest.raises(McpgwError) as caught:
        derive(gen, _edit(gen, change), {})
    assert caught.value.message.startswith(
        "tools[1].inputSchema: argument 'id' is left out (hidden) but it is required")


def test_reimport_keeps_overrides_and_reports_the_diff() -> None:
    overrides = {
        "GET /pets": ToolOverride(name="list_all_pets", args={"tenant": ArgOverride(default="acme", hidden=True)}),
        "GET /pets/{id}": ToolOverride(description="Fetch one pet"),
        "DELETE /pets/{id}": ToolOverride(disabled=True),
    }
    current = apply_document(v1(), overrides, None)
    hand = msgspec.structs.replace(v1().tools[0], name="hand_written", source=None)
    current = msgspec.structs.replace(current, tools=[*current.tools, hand])

    result = merge(v1(), v2(), current, overrides, None)
    assert result.added == ["createPet"]
    # operationId changed, method + path did not: changed, and the known name stays
    assert result.changed == [{"tool": "getPet", "fields": ["args", "inputSchema", "operationId"],
                               "specName": "showPetById"}]
    assert result.removed == ["deletePet"]
    assert result.unchanged == 1
    assert "DELETE /pets/{id}" not in result.overrides  # gone with its operation
    assert result.overrides["GET /pets/{id}"] == ToolOverride(name="getPet", description="Fetch one pet")
    assert [t.name for t in result.doc.tools] == ["list_all_pets", "getPet", "createPet", "hand_written"]
    assert _tool(result.doc, "getPet").description == "Fetch one pet"
    assert "tenant" not in input_schema(_tool(result.doc, "list_all_pets"))["properties"]
    assert result.tools == ["list_all_pets", "getPet", "createPet", "hand_written"]

    again = merge(v2(), v2(), result.doc, result.overrides, None)
    assert (again.added, again.changed, again.removed, again.unchanged) == ([], [], [], 3)
    assert again.doc == result.doc


def test_first_import_next_to_hand_written_tools() -> None:
    hand = msgspec.structs.replace(v1().tools[0], name="listPets", source=None)
    current = ToolsDocument(server=v1().server, tools=[hand])
    with pytest.raises(McpgwError) as caught:
        merge(None, v1(), current, {}, None)
    assert "the imported tool 'listPets' (GET /pets) has the name of a tool that did not come" in caught.value.message
    renamed = msgspec.structs.replace(hand, name="mine")
    result = merge(None, v1(), msgspec.structs.replace(current, tools=[renamed]), {}, None)
    assert result.added == ["listPets", "getPet", "deletePet"] and result.removed == []
    assert [t.name for t in result.doc.tools][-1] == "mine"


def test_a_default_edited_in_one_place_is_set_in_both() -> None:
    # Converter style: the default only in the inputSchema, not on the argument.
    gen = v1()
    pets = gen.tools[0]
    gen.tools[0] = msgspec.structs.replace(pets, args=[msgspec.structs.replace(pets.args[0], default=msgspec.UNSET),
                                                       pets.args[1]])

    def change(data: dict[str, Any]) -> None:
        data["tools"][0]["inputSchema"]["properties"]["limit"]["default"] = 50

    derived = derive(gen, _edit(gen, change), {})
    assert derived.overrides == {"GET /pets": ToolOverride(args={"limit": ArgOverride(default=50)})}
    assert derived.not_kept == []
    tool = derived.document.tools[0]
    assert tool.args[0].default == 50 and input_schema(tool)["properties"]["limit"]["default"] == 50
    assert derived.document.tools[1:] == gen.tools[1:]
