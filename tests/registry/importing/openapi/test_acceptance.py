"""Every acceptance document imports with no error and no silent drop, validly and reproducibly."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import msgspec
import pytest
import yaml
from mcpgw_registry.importing.openapi import convert
from mcpgw_registry.resources.tools.document import parse_tools, validate_document

from mcpgw.contracts.tools import ToolSpec
from tests.registry.importing.openapi import metaschema
from tests.registry.importing.openapi.specs import converted, reconverted
from tests.specs import operation_counts, raw, spec_names

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Small enough to round-trip through the admin API's YAML parser quickly; the large imports
# exceed that parser's node budget (MAX_DOCUMENT_NODES), which guards hand-written YAML.
ROUND_TRIP = ("petstore-v2.swagger.json", "petstore-v3.openapi.yaml", "petstore-v31.openapi.yaml",
              "museum-api.openapi31.yaml", "petstore-v2-fake-endpoints.swagger.yaml")


@pytest.mark.parametrize("name", spec_names())
def test_every_operation_is_a_tool_or_skipped_with_a_reason(name: str) -> None:
    result = converted(name)
    assert result.operations == operation_counts()[name]
    assert len(result.document.tools) + len(result.skipped) == result.operations
    assert all(s.reason and s.operation for s in result.skipped)
    for entry in result.skipped:
        method = entry.operation.split(" ", 1)[0]
        # Only what the rules exclude is skipped: OPTIONS / HEAD / TRACE here.
        assert method in ("OPTIONS", "HEAD", "TRACE"), entry


@pytest.mark.parametrize("name", spec_names())
def test_schemas_names_and_registry_validation(name: str) -> None:
    result = converted(name)
    names = set()
    for tool in result.document.tools:
        assert NAME.match(tool.name), tool.name
        names.add(tool.name)
        schema = tool.input_schema
        assert schema is not None and schema["type"] == "object" and isinstance(schema["properties"], dict)
        assert not {"anyOf", "oneOf", "allOf"} & schema.keys()
        metaschema.check_schema(schema)
        _defs_are_exactly_what_is_referenced(schema)
        if tool.output_schema is not None:
            assert tool.output_schema["type"] == "object"
            metaschema.check_schema(tool.output_schema)
            _defs_are_exactly_what_is_referenced(tool.output_schema)
        assert tool.source is not None and tool.annotations is not None
        placed = {a.name for a in tool.args}
        assert placed == set(schema["properties"]), tool.name
    assert len(names) == len(result.document.tools)
    # The library's own (slow) check on a sample, as a cross-check of the fast equivalent.
    for tool in result.document.tools[:8]:
        jsonschema.Draft202012Validator.check_schema(tool.input_schema or {})
        if tool.output_schema is not None:
            jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    validate_document(result.document)  # what the admin API runs on every tools document


def _defs_are_exactly_what_is_referenced(schema: dict[str, Any]) -> None:
    """Every `$ref` points into the schema's own `$defs`, and every definition is used."""
    refs: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    defs = schema.get("$defs", {})
    assert refs == {f"#/$defs/{name}" for name in defs}, sorted(refs ^ {f"#/$defs/{n}" for n in defs})[:5]


@pytest.mark.parametrize("name", spec_names())
def test_a_second_import_is_identical(name: str) -> None:
    assert msgspec.json.encode(converted(name)) == msgspec.json.encode(reconverted(name))


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_yaml_round_trip_through_the_admin_parser(name: str) -> None:
    document = converted(name).document
    text = yaml.safe_dump(msgspec.to_builtins(document), sort_keys=False, allow_unicode=True)
    assert parse_tools(text) == document


def test_order_of_operations_does_not_change_names() -> None:
    """Names depend on each operation (and its clashes), never on where it sits in the document."""
    doc = msgspec.json.decode(raw("kubernetes-1.12.swagger.json"))
    doc["paths"] = dict(reversed(list(doc["paths"].items())))
    reordered = convert(msgspec.json.encode(doc))
    def keyed(tools: list[ToolSpec]) -> dict[tuple[str, str], bytes]:
        return {(t.source.method, t.source.path): msgspec.json.encode(t) for t in tools if t.source is not None}

    assert keyed(converted("kubernetes-1.12.swagger.json").document.tools) == keyed(reordered.document.tools)
