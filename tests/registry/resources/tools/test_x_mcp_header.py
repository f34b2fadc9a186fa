"""`x-mcp-header` (MCP 2026-07-28, SEP-2243): declared on YAML args or in an inputSchema, made by import."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from mcpgw_registry.importing.openapi.inputs import Field, _mirror_headers
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.servers.snapshots import build_snapshot
from mcpgw_registry.resources.tools.document import parse_tools

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.contracts.tools import ToolArg
from tests.registry.conftest import Api
from tests.registry.importing.openapi.build import args, only, op, openapi, props, run, swagger

YAML = {"Content-Type": "application/yaml"}


def _doc(tool_body: str) -> str:
    return ("server:\n  name: s\n  config: {base: 'https://api.example.com'}\ntools:\n  - name: t\n"
            "    requestTemplate: {url: '{{.config.base}}/x'}\n" + tool_body)


def _fails(text: str) -> str:
    with pytest.raises(McpgwError) as caught:
        parse_tools(text)
    assert caught.value.code is ErrorCode.INVALID_PARAMETER
    return caught.value.message


def _listed(text: str) -> dict[str, Any]:
    snapshot = build_snapshot(ServerRecord(id="mcp-cccccccccccccccc", name="s", tools_text=text), 1)
    entry: dict[str, Any] = json.loads(bytes(snapshot.listing[0].entry))
    return entry


# -- YAML args -----------------------------------------------------------------------------


def test_an_arg_declares_its_header_and_the_listing_carries_it() -> None:
    text = _doc("    args:\n"
                "      - {name: region, type: string, required: true, position: header, x-mcp-header: Region}\n"
                "      - {name: limit, type: integer, x-mcp-header: Limit}\n"
                "      - {name: dry, type: boolean, x-mcp-header: Dry-Run}\n"
                "      - {name: q}\n")
    doc = parse_tools(text)
    assert [a.x_mcp_header for a in doc.tools[0].args] == ["Region", "Limit", "Dry-Run", ""]
    schema = _listed(text)["inputSchema"]
    assert schema["properties"] == {
        "region": {"type": "string", "x-mcp-header": "Region"},
        "limit": {"type": "integer", "x-mcp-header": "Limit"},
        "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"},
        "q": {"type": "string"},
    }
    # The field is additive: a YAML without it encodes as before, with it under its YAML key.
    assert msgspec.json.encode(ToolArg(name="q")) == b'{"name":"q"}'
    assert b'"x-mcp-header":"Region"' in msgspec.json.encode(doc.tools[0].args[0])


@pytest.mark.parametrize(("args_yaml", "message"), [
    ("[{name: a, x-mcp-header: 'Bad Name'}]", "tools[0].args[0].x-mcp-header: must be a valid HTTP header name"),
    ("[{name: a, x-mcp-header: \"A\\r\\nB\"}]", "tools[0].args[0].x-mcp-header: must be a valid HTTP header name"),
    ("[{name: a, x-mcp-header: \"Region\\n\"}]", "tools[0].args[0].x-mcp-header: must be a valid HTTP header name"),
    ("[{name: a, type: number, x-mcp-header: A}]",
     "tools[0].args[0].x-mcp-header: is allowed only on a string, integer or boolean argument"),
    ("[{name: a, type: array, x-mcp-header: A}]",
     "tools[0].args[0].x-mcp-header: is allowed only on a string, integer or boolean argument"),
    ("[{name: a, x-mcp-header: Tenant}, {name: b, x-mcp-header: tenant}]",
     "tools[0].args[1].x-mcp-header: duplicates the x-mcp-header of argument 'a'"),
    ("[{name: a, x-mcp-header: 5}]", "tools[0].args[0].x-mcp-header: expected `str`, got `int`"),
])
def test_arg_headers_are_checked_when_written(args_yaml: str, message: str) -> None:
    got = _fails(_doc(f"    args: {args_yaml}\n"))
    assert got.startswith(message), got


def test_an_arg_header_beside_an_input_schema_is_refused() -> None:
    text = _doc("    args: [{name: a, x-mcp-header: A}]\n"
                "    inputSchema: {type: object, properties: {a: {type: string}}}\n")
    assert _fails(text).startswith("tools[0].args[0].x-mcp-header: has no effect when the tool has an inputSchema")


# -- explicit inputSchema ------------------------------------------------------------------


def test_input_schema_annotations_on_properties_are_accepted() -> None:
    schema = {"type": "object", "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"},
        "opts": {"type": "object", "properties": {"tenant": {"type": "integer", "x-mcp-header": "Tenant"}}}}}
    text = _doc(f"    inputSchema: {json.dumps(schema)}\n")
    assert _listed(text)["inputSchema"] == schema


@pytest.mark.parametrize(("schema", "message"), [
    ({"type": "object", "x-mcp-header": "Root"},
     "tools[0].inputSchema.x-mcp-header: is allowed only on a property reached from the schema root"),
    ({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}},
     "tools[0].inputSchema.properties.a.items.x-mcp-header: is allowed only on a property reached"),
    ({"type": "object", "properties": {"a": {"anyOf": [{"type": "object", "properties": {
        "b": {"type": "string", "x-mcp-header": "B"}}}]}}},
     "tools[0].inputSchema.properties.a.anyOf[0].properties.b.x-mcp-header: is allowed only on a property"),
    ({"type": "object", "$defs": {"D": {"type": "string", "x-mcp-header": "D"}}},
     "tools[0].inputSchema.$defs.D.x-mcp-header: is allowed only on a property reached"),
    ({"type": "object", "properties": {"a": {"type": "number", "x-mcp-header": "A"}}},
     "tools[0].inputSchema.properties.a.x-mcp-header: is allowed only on a string, integer or boolean"),
    ({"type": "object", "properties": {"a": {"type": ["string", "null"], "x-mcp-header": "A"}}},
     "tools[0].inputSchema.properties.a.x-mcp-header: is allowed only on a string, integer or boolean"),
    ({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "A:B"}}},
     "tools[0].inputSchema.properties.a.x-mcp-header: must be a valid HTTP header name"),
    ({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": ""}}},
     "tools[0].inputSchema.properties.a.x-mcp-header: must be a valid HTTP header name"),
    ({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "X"},
                                       "b": {"type": "string", "x-mcp-header": "x"}}},
     "duplicates the x-mcp-header at tools[0].inputSchema.properties."),
])
def test_input_schema_annotations_are_checked_when_written(schema: dict[str, Any], message: str) -> None:
    got = _fails(_doc(f"    inputSchema: {json.dumps(schema)}\n"))
    assert got.startswith(message) or (message.startswith("duplicates") and message in got), got


async def test_put_tools_names_the_field(api: Api) -> None:
    server_id = await api.create_server("xmcp-errors")
    bad = await api.call("PUT", f"/v1/mcp-servers/{server_id}/tools", headers=YAML,
                         data=_doc("    args: [{name: a, type: object, x-mcp-header: A}]\n"))
    assert bad.status == 400 and bad.message.startswith("tools[0].args[0].x-mcp-header: is allowed only on")
    good = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", headers=YAML,
                        data=_doc("    args: [{name: a, x-mcp-header: A}]\n"))
    assert good["tools"] == ["t"]


# -- OpenAPI import ------------------------------------------------------------------------


def test_primitive_header_parameters_are_mirrored() -> None:
    params = [{"name": "X-Tenant", "in": "header", "required": True, "schema": {"type": "string"}},
              {"name": "X-Count", "in": "header", "schema": {"type": "integer"}},
              {"name": "X-Dry-Run", "in": "header", "schema": {"type": "boolean"}},
              {"name": "X-Ratio", "in": "header", "schema": {"type": "number"}},
              {"name": "X-List", "in": "header", "schema": {"type": "array", "items": {"type": "string"}}},
              {"name": "X-Maybe", "in": "header", "schema": {"type": "string", "nullable": True}},
              {"name": "X-Request-Id", "in": "header", "schema": {"$ref": "#/components/schemas/RequestId"}},
              {"name": "q", "in": "query", "schema": {"type": "string"}}]
    result = run(openapi({"/a": op(parameters=params)}, {"schemas": {"RequestId": {"type": "string",
                                                                                    "format": "uuid"}}}))
    spec = only(result)
    p = props(spec)
    mirrored = {name: prop.get("x-mcp-header") for name, prop in p.items()}
    assert mirrored == {"X-Tenant": "X-Tenant", "X-Count": "X-Count", "X-Dry-Run": "X-Dry-Run", "X-Ratio": None,
                        "X-List": None, "X-Maybe": None, "X-Request-Id": "X-Request-Id", "q": None}
    # A named primitive is inlined so the property has its own type.
    assert p["X-Request-Id"] == {"type": "string", "format": "uuid", "x-mcp-header": "X-Request-Id"}
    assert result.degraded == []
    # The parameter map is unchanged: the annotation lives in the schema only.
    assert all(not a.x_mcp_header for a in spec.args)
    # The imported document passes the registry's own check.
    parse_tools(msgspec.json.encode(result.document).decode(), "json")


def test_a_renamed_header_argument_mirrors_the_header_name() -> None:
    params = [{"name": "id", "in": "query", "schema": {"type": "string"}},
              {"name": "id", "in": "header", "schema": {"type": "string"}}]
    spec = only(run(openapi({"/a": op(parameters=params)})))
    assert args(spec)["id__header"].wire_name == "id"
    assert props(spec)["id__header"]["x-mcp-header"] == "id"
    assert "x-mcp-header" not in props(spec)["id__query"]


def test_swagger2_header_parameters_are_mirrored() -> None:
    raw = swagger({"/a": {"get": {"parameters": [
        {"name": "X-Region", "in": "header", "type": "string"},
        {"name": "X-Page", "in": "header", "type": "integer"}], "responses": {"200": {"description": "ok"}}}}})
    p = props(only(run(raw)))
    assert (p["X-Region"]["x-mcp-header"], p["X-Page"]["x-mcp-header"]) == ("X-Region", "X-Page")


def test_credentials_and_invalid_names_are_not_mirrored() -> None:
    params = [{"name": "X-Auth-Token", "in": "header", "schema": {"type": "string"}},
              {"name": "X-Api-Key", "in": "header", "schema": {"type": "string"}},
              {"name": "X-Client-Secret", "in": "header", "schema": {"type": "string"}},
              {"name": "X-Pin", "in": "header", "schema": {"type": "string", "format": "password"}},
              {"name": "Bad Name", "in": "header", "schema": {"type": "string"}}]
    result = run(openapi({"/a": op(parameters=params)}))
    assert all("x-mcp-header" not in prop for prop in props(only(result)).values())
    # A header toolexec cannot send is no argument at all (sendable.py), so nothing is left to mirror.
    assert "Bad_Name" not in props(only(result))
    assert [d.reason for d in result.degraded] == [
        "header parameter 'Bad Name' is not a valid HTTP header name; left out"]


def test_header_names_are_mirrored_once_case_insensitively() -> None:
    # The importer already merges parameters that differ only in case; the rule holds on its own too.
    schema: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    fields = [Field(wire="X-Tenant", location="header", schema={}, required=False, arg="a"),
              Field(wire="x-tenant", location="header", schema={}, required=False, arg="b")]
    notes: list[str] = []
    out = _mirror_headers(schema, fields, notes)
    assert out["properties"] == {"a": {"type": "string", "x-mcp-header": "X-Tenant"}, "b": {"type": "string"}}
    assert notes == ["header parameter 'x-tenant' is the same header as 'X-Tenant'; clients mirror only the first "
                     "(x-mcp-header)"]
    assert schema["properties"]["a"] == {"type": "string"}  # converted schemas are shared: never mutated
