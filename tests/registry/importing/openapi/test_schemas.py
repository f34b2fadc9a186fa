"""The flat inputSchema: clashes, readOnly, nullable, allOf, oneOf, wrapped bodies, 2020-12 hygiene."""

from __future__ import annotations

from typing import Any

import jsonschema
from mcpgw_registry.importing.openapi.schema_nodes import NESTING_LIMIT
from mcpgw_registry.importing.openapi.schema_tree import measure
from mcpgw_registry.importing.openapi.schemas import INPUT_BUDGET

from tests.registry.importing.openapi import metaschema
from tests.registry.importing.openapi.build import args, only, op, openapi, props, run


def _body(schema: dict[str, Any], media: str = "application/json", required: bool = True,
          components: dict[str, Any] | None = None, method: str = "post", **extra: Any) -> bytes:
    return openapi({"/things/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        **op(method, requestBody={"required": required, "content": {media: {"schema": schema}}}, **extra)}},
        components)


def test_clashing_names_get_location_suffixes() -> None:
    params = [{"name": "id", "in": "query", "schema": {"type": "string"}},
              {"name": "id", "in": "header", "schema": {"type": "string"}},
              {"name": "dryRun", "in": "query", "description": "Query flag", "schema": {"type": "boolean"}}]
    raw = _body({"type": "object", "properties": {"dryRun": {"type": "boolean"}, "name": {"type": "string"}}},
                parameters=params)
    spec = only(run(raw))
    a = args(spec)
    assert list(a) == ["id__path", "id__query", "id__header", "dryRun__query", "dryRun", "name"]
    assert (a["id__path"].wire_name, a["id__query"].wire_name, a["id__header"].wire_name) == ("id", "id", "id")
    assert a["dryRun"].wire_name is None and a["dryRun"].position == "body"
    assert props(spec)["dryRun__query"]["description"] == "Query flag (Query parameter)"
    assert spec.request_template.url == "{{.config.baseUrl}}/things/{id__path}"


def test_read_only_properties_leave_inputs_and_write_only_leave_outputs() -> None:
    thing = {"type": "object", "required": ["id", "name"], "properties": {
        "id": {"type": "string", "readOnly": True}, "name": {"type": "string"},
        "secret": {"type": "string", "writeOnly": True}, "meta": {"$ref": "#/components/schemas/Meta"}}}
    meta = {"type": "object", "readOnly": True, "properties": {"created": {"type": "string"}}}
    raw = _body({"$ref": "#/components/schemas/Thing"}, method="put", components={"schemas": {"Thing": thing,
                                                                                                "Meta": meta}},
                responses={"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Thing"}}}}})
    spec = only(run(raw))
    # The readOnly body `id` is gone, so the path `id` keeps its plain name (Jira PUT /component/{id}).
    assert list(args(spec)) == ["id", "name", "secret"]
    assert spec.input_schema is not None and spec.input_schema["required"] == ["id", "name"]
    assert spec.output_schema is not None and set(spec.output_schema["properties"]) == {"id", "name", "meta"}


def test_nullable_becomes_a_type_union() -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": "string", "nullable": True},
        "b": {"type": "string", "enum": ["x", "y"], "nullable": True},
        "c": {"nullable": True, "description": "no type"},
        "d": {"$ref": "#/components/schemas/E", "nullable": True},
        "e": {"type": ["integer", "null"]},
        "f": {"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True}}}
    raw = _body(schema, components={"schemas": {"E": {"type": "string", "enum": ["p", "q"], "title": "E"}}})
    p = props(only(run(raw)))
    assert p["a"] == {"type": ["string", "null"]}
    assert p["b"] == {"type": ["string", "null"], "enum": ["x", "y", None]}
    assert p["c"] == {"description": "no type"}  # never `type: null`
    assert p["d"] == {"anyOf": [{"type": "string", "enum": ["p", "q"], "title": "E"}, {"type": "null"}]}
    assert p["e"] == {"type": ["integer", "null"]}
    assert p["f"] == {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}


def test_all_of_objects_merge_and_one_of_becomes_any_of() -> None:
    base = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
    schema = {"allOf": [{"$ref": "#/components/schemas/Base"},
                        {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}],
              "properties": {"kind": {"oneOf": [{"type": "string"}, {"type": "integer"}],
                                      "discriminator": {"propertyName": "x"}},
                             "ref": {"allOf": [{"$ref": "#/components/schemas/Small"}], "description": "beside"}}}
    raw = _body(schema, components={"schemas": {"Base": base, "Small": {"type": "string", "format": "uuid"}}})
    spec = only(run(raw))
    assert list(props(spec)) == ["id__path", "id", "name", "kind", "ref"]
    assert spec.input_schema is not None and spec.input_schema["required"] == ["id__path", "id", "name"]
    assert props(spec)["kind"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert props(spec)["ref"] == {"type": "string", "format": "uuid", "description": "beside"}


def test_non_object_bodies_are_wrapped() -> None:
    array = only(run(_body({"type": "array", "items": {"type": "string"}}, required=True)))
    assert props(array)["body"]["type"] == "array"
    assert (args(array)["body"].wire_name, args(array)["body"].position) == ("$body", "body")
    assert array.input_schema is not None and array.input_schema["required"] == ["id", "body"]

    text = only(run(_body({"type": "string"}, media="text/plain", required=False)))
    assert props(text)["body"]["type"] == "string" and text.request_template.body_media_type == "text/plain"
    assert text.input_schema is not None and text.input_schema["required"] == ["id"]

    raw = only(run(_body({"type": "string", "format": "binary"}, media="application/octet-stream")))
    assert props(raw)["body"]["contentEncoding"] == "base64" and args(raw)["body"].format == "binary"

    free = only(run(_body({"type": "object", "additionalProperties": {"type": "string"}})))
    assert props(free)["body"]["additionalProperties"] == {"type": "string"}


def test_an_optional_body_makes_its_fields_optional() -> None:
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
    spec = only(run(_body(schema, required=False)))
    assert spec.input_schema is not None and spec.input_schema["required"] == ["id"]
    assert args(spec)["a"].required is False


def test_a_union_at_the_body_root_offers_every_field_optional() -> None:
    schema = {"oneOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
                        {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}}]}
    result = run(_body(schema))
    spec = only(result)
    assert list(props(spec)) == ["id", "a", "b"]
    assert spec.input_schema is not None and spec.input_schema["required"] == ["id"]
    assert "one of 2 shapes" in result.degraded[0].reason


def test_media_type_preference() -> None:
    content = {m: {"schema": {"type": "object", "properties": {"a": {"type": "string"}}}}
               for m in ("application/xml", "application/x-www-form-urlencoded", "application/json")}
    raw = openapi({"/a": op("put", requestBody={"content": content})})
    assert only(run(raw)).request_template.body_media_type == "application/json"
    patch = {m: {"schema": {"type": "object"}} for m in (
        "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json")}
    raw = openapi({"/a": op("patch", requestBody={"content": patch})})
    assert only(run(raw)).request_template.body_media_type == "application/merge-patch+json"


def test_openapi_only_keywords_are_dropped_and_the_result_is_2020_12() -> None:
    schema = {"type": "object", "properties": {
        "n": {"type": "integer", "format": "int64", "minimum": 1, "exclusiveMinimum": True, "example": 5,
              "xml": {"name": "n"}, "x-extra": 1},
        "list": {"type": "array", "default": "one"},
        "p": {"type": "string", "pattern": "^\\p{L}+$"},
        "untyped": {"properties": {"x": {"type": "string"}}}}}
    result = run(_body(schema, externalDocs={"url": "https://x"}))
    p = props(only(result))
    assert p["n"] == {"type": "integer", "format": "int64", "exclusiveMinimum": 1, "examples": [5]}
    assert p["list"] == {"type": "array", "default": ["one"], "items": {}}
    assert p["p"] == {"type": "string"}  # not a pattern Python (nor the registry) can compile
    assert p["untyped"]["type"] == "object"
    assert "pattern" in result.degraded[0].reason
    jsonschema.Draft202012Validator.check_schema(only(result).input_schema or {})


def test_oversized_schemas_are_simplified_within_the_budget() -> None:
    schemas = {f"S{i}": {"type": "object", "properties": {
        **{f"f{j}": {"type": "string"} for j in range(60)},
        "next": {"$ref": f"#/components/schemas/S{i + 1}"}}} for i in range(70)}
    schemas["S70"] = {"type": "string"}
    result = run(_body({"$ref": "#/components/schemas/S0"}, components={"schemas": schemas}))
    spec = only(result)
    assert spec.input_schema is not None
    assert measure(spec.input_schema)[0] <= INPUT_BUDGET
    assert "too large" in result.degraded[0].reason
    metaschema.check_schema(spec.input_schema)


def test_a_chain_of_references_deeper_than_the_limit_skips_its_operation_only() -> None:
    # Shallow as JSON, but 3000 schema levels once the references are followed: it used to raise
    # RecursionError and fail the whole import.
    chain = {f"S{i}": {"type": "object", "properties": {"next": {"$ref": f"#/components/schemas/S{i + 1}"}}}
             for i in range(3000)}
    chain["S3000"] = {"type": "string"}
    paths = {"/deep": op("post", operationId="deep", requestBody={"content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/S0"}}}}),
             "/shallow": op("post", operationId="shallow", requestBody={"content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/S2990"}}}})}
    result = run(openapi(paths, {"schemas": chain}))
    assert [t.name for t in result.document.tools] == ["shallow"]
    assert [(s.operation, s.reason) for s in result.skipped] == [
        ("POST /deep", f"its schemas nest deeper than {NESTING_LIMIT} levels (counting $ref hops)")]
