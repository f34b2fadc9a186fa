"""Local `$ref`s (components, parameters, path items, 3.1 `$id`/`$anchor`), cycles, external refs."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from mcpgw_registry.importing.openapi.refs import Resolver

from mcpgw.contracts.errors import ErrorCode, McpgwError
from tests.registry.importing.openapi.build import OK, args, only, op, openapi, props, run

PET = {"type": "object", "required": ["name"],
       "properties": {"name": {"type": "string"}, "tag": {"$ref": "#/components/schemas/Tag"}}}
TAG = {"type": "object", "properties": {"label": {"type": "string"}}}


def test_component_references_resolve_everywhere() -> None:
    paths = {
        "/pets/{id}": {"$ref": "#/components/pathItems/PetItem"},
        "/other": {"post": {"parameters": [{"$ref": "#/components/parameters/Limit"}],
                            "requestBody": {"$ref": "#/components/requestBodies/Pet"},
                            "responses": {"200": {"$ref": "#/components/responses/Pet"}}}},
    }
    components = {
        "schemas": {"Pet": PET, "Tag": TAG},
        "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                       "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}},
        "requestBodies": {"Pet": {"required": True,
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
        "responses": {"Pet": {"description": "a pet",
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
        "pathItems": {"PetItem": {"parameters": [{"$ref": "#/components/parameters/Id"}], "get": {"responses": OK}}},
    }
    result = run(openapi(paths, components, version="3.1.0"))
    get, post = result.document.tools
    assert get.request_template.url == "{{.config.baseUrl}}/pets/{id}" and args(get)["id"].position == "path"
    assert set(props(post)) == {"limit", "name", "tag"}
    assert props(post)["tag"] == {"type": "object", "properties": {"label": {"type": "string"}}}
    assert post.input_schema is not None and post.input_schema["required"] == ["name"]
    assert post.output_schema is not None and post.output_schema["properties"]["name"] == {"type": "string"}


def test_a_missing_reference_fails_the_import_naming_it() -> None:
    raw = openapi({"/a": op(parameters=[{"name": "x", "in": "query",
                                         "schema": {"$ref": "#/components/schemas/Nope"}}])})
    with pytest.raises(McpgwError) as caught:
        run(raw)
    assert caught.value.code == ErrorCode.INVALID_PARAMETER
    assert caught.value.message == "$ref '#/components/schemas/Nope': not found"


@pytest.mark.parametrize("ref", ["https://x/y.json#/a", "./other.yaml#/Pet", "file:///etc/passwd"])
def test_external_references_are_refused_by_name(ref: str) -> None:
    raw = openapi({"/a": op(parameters=[{"name": "x", "in": "query", "schema": {"$ref": ref}}])})
    with pytest.raises(McpgwError) as caught:
        run(raw)
    assert caught.value.message == f"$ref {ref!r}: external references are not allowed"


def test_allowed_external_references_stay_unresolved_and_are_reported() -> None:
    raw = openapi({"/a": op(parameters=[{"name": "x", "in": "query", "schema": {"$ref": "https://x/y.json#/a"}}])})
    result = run(raw, allow_external_refs=True)
    assert "$ref" not in props(only(result))["x"]
    assert "external references are not allowed" in result.degraded[0].reason


def test_an_external_reference_nothing_uses_is_ignored() -> None:
    extra: dict[str, Any] = {"x-topics": [{"content": {"$ref": "./docs/getting-started.md"}}]}
    raw = openapi({"/a": op()}, **extra)
    assert len(run(raw).document.tools) == 1


def test_recursive_schemas_become_defs_and_terminate() -> None:
    children = {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
    node = {"type": "object", "properties": {"value": {"type": "string"}, "children": children,
                                             "parent": {"$ref": "#/components/schemas/Other"}}}
    other = {"type": "object", "properties": {"back": {"$ref": "#/components/schemas/Node"}}}
    raw = openapi({"/tree": op("post", requestBody={"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Node"}}}})}, {"schemas": {"Node": node, "Other": other}})
    spec = only(run(raw))
    schema = spec.input_schema
    assert schema is not None
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert set(schema["$defs"]) == {"Node", "Other"}
    jsonschema.Draft202012Validator.check_schema(schema)
    # The schema describes what it should: a valid tree validates, a wrong leaf does not.
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"children": [{"value": "a", "parent": {"back": {"value": "b"}}}]})
    assert not validator.is_valid({"children": [{"value": 1}]})


def test_a_reference_cycle_without_a_schema_is_an_error() -> None:
    components = {"parameters": {"A": {"$ref": "#/components/parameters/B"},
                                 "B": {"$ref": "#/components/parameters/A"}}}
    with pytest.raises(McpgwError) as caught:
        run(openapi({"/a": op(parameters=[{"$ref": "#/components/parameters/A"}])}, components))
    assert "is circular" in caught.value.message


def test_schema_alias_cycles_terminate() -> None:
    components = {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}}
    result = run(openapi({"/a": op(parameters=[{"name": "x", "in": "query",
                                                "schema": {"$ref": "#/components/schemas/A"}}])}, components))
    jsonschema.Draft202012Validator.check_schema(only(result).input_schema or {})


ID_DOC = {
    "schemas": {
        "Pet": {"type": "object", "properties": {
            "details": {"$ref": "/components/schemas/petdetails"},
            "detailsId": {"$ref": "/components/schemas/petdetails#pet_details_id"},
            "tag": {"$ref": "#/components/schemas/Tag"}}},
        "PetDetails": {"$id": "/components/schemas/petdetails", "type": "object", "properties": {
            "id": {"$anchor": "pet_details_id", "type": "integer", "format": "int64"},
            "tag": {"$ref": "#/components/schemas/Tag"}}},
        "Tag": {"$id": "/components/schemas/tag", "type": "object", "properties": {"name": {"type": "string"}}},
    },
}


def test_31_id_and_anchor_references_resolve_within_the_document() -> None:
    raw = openapi({"/pets": op("post", requestBody={"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Pet"}}}})}, ID_DOC, version="3.1.0")
    p = props(only(run(raw)))
    assert p["detailsId"] == {"type": "integer", "format": "int64"}
    assert p["details"]["properties"]["tag"] == {"type": "object", "properties": {"name": {"type": "string"}}}
    assert "$id" not in str(p) and "$anchor" not in str(p)


def test_an_unresolvable_id_reference_skips_only_that_operation() -> None:
    raw = openapi({"/a": op(parameters=[{"name": "x", "in": "query",
                                         "schema": {"$ref": "/components/schemas/missing#nope"}}]),
                   "/b": op()}, ID_DOC, version="3.1.0")
    result = run(raw)
    assert [t.source.path for t in result.document.tools if t.source] == ["/b"]
    assert result.skipped[0].operation == "GET /a"
    assert "/components/schemas/missing#nope" in result.skipped[0].reason


def test_a_ref_that_is_not_a_string_is_reported_not_fatal() -> None:
    # `$ref: #/x` in YAML is a comment: the key holds null (Petstore 3.1 has this).
    raw = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n" \
          "        - name: x\n          in: query\n          schema:\n            $ref: #/components/schemas/X\n" \
          "      responses: {'200': {description: ok}}\n"
    result = run(raw, base_url="https://example.com")
    assert props(only(result))["x"] == {}
    assert "$ref None: is not a reference string" in result.degraded[0].reason


def test_pointer_escapes_and_percent_encoding() -> None:
    root = {"paths": {"/a/b": {"get": {"x": 1}}}, "c%d": {"e~f": 2}}
    resolver = Resolver(root, ids=False)
    assert resolver.resolve("#/paths/~1a~1b/get/x").node == 1
    assert resolver.resolve("#/c%25d/e~0f").node == 2
