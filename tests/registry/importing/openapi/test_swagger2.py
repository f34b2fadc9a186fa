"""Swagger 2.0 normalised to the OpenAPI 3 model."""

from __future__ import annotations

import pytest

from tests.registry.importing.openapi.build import OK, args, only, props, run, swagger, tool

PET = {"type": "object", "properties": {"name": {"type": "string"}, "nick": {"type": "string", "x-nullable": True}}}


def test_host_base_path_and_schemes_make_the_base_url() -> None:
    result = run(swagger({"/a": {"get": {"responses": OK}}}))
    assert result.document.server.config == {"baseUrl": "https://api.example.com/v2"}
    only_http = run(swagger({"/a": {"get": {"responses": OK}}}, schemes=["http"]))
    assert only_http.document.server.config == {"baseUrl": "http://api.example.com/v2"}


def test_no_host_needs_a_configured_base_url() -> None:
    raw = swagger({"/a": {"get": {"responses": OK}}}, host=None, basePath="/api")
    result = run(raw)
    assert result.document.server.config["baseUrl"] == "https://base-url-not-configured.invalid/api"
    assert any("no host" in w for w in result.warnings)
    assert run(raw, base_url="https://k8s.local:6443/").document.server.config == {
        "baseUrl": "https://k8s.local:6443"}


def test_form_data_becomes_an_urlencoded_body_with_required_fields() -> None:
    params = [{"name": "id", "in": "path", "required": True, "type": "integer"},
              {"name": "name", "in": "formData", "required": True, "type": "string", "description": "The name"},
              {"name": "tags", "in": "formData", "type": "array", "items": {"type": "string"},
               "collectionFormat": "multi"}]
    spec = only(run(swagger({"/pets/{id}": {"post": {"parameters": params, "responses": OK}}})))
    assert spec.request_template.body_media_type == "application/x-www-form-urlencoded"
    assert props(spec)["name"] == {"type": "string", "description": "The name"}
    assert spec.input_schema is not None and spec.input_schema["required"] == ["id", "name"]
    a = args(spec)
    assert (a["name"].position, a["tags"].position) == ("body", "body")
    assert (a["tags"].style, a["tags"].explode) == ("form", True)


def test_a_file_parameter_makes_the_body_multipart() -> None:
    params = [{"name": "note", "in": "formData", "type": "string"},
              {"name": "file", "in": "formData", "type": "file", "required": True}]
    spec = only(run(swagger({"/up": {"post": {"parameters": params, "consumes": ["application/x-www-form-urlencoded"],
                                              "responses": OK}}})))
    assert spec.request_template.body_media_type == "multipart/form-data"
    assert props(spec)["file"]["contentEncoding"] == "base64" and args(spec)["file"].format == "binary"
    assert "format" not in props(spec)["file"]


@pytest.mark.parametrize(("fmt", "style", "explode"), [
    (None, "form", False), ("csv", "form", False), ("multi", None, None), ("ssv", "spaceDelimited", False),
    ("pipes", "pipeDelimited", False),
])
def test_collection_format_becomes_style_and_explode(fmt: str | None, style: str | None, explode: bool | None) -> None:
    param = {"name": "s", "in": "query", "type": "array", "items": {"type": "string"}}
    if fmt:
        param["collectionFormat"] = fmt
    spec = only(run(swagger({"/a": {"get": {"parameters": [param], "responses": OK}}})))
    assert (args(spec)["s"].style, args(spec)["s"].explode) == (style, explode)


def test_body_parameter_definitions_and_nullable() -> None:
    paths = {"/pets": {"post": {"consumes": ["application/xml", "application/json"],
                                "parameters": [{"name": "pet", "in": "body", "required": True,
                                                "schema": {"$ref": "#/definitions/Pet"}},
                                               {"$ref": "#/parameters/Limit"}],
                                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}}}},
             "/raw": {"put": {"consumes": ["*/*"], "parameters": [{"name": "b", "in": "body",
                                                                     "schema": {"$ref": "#/definitions/Pet"}}],
                              "produces": ["application/xml"],
                              "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}}}}}
    result = run(swagger(paths, definitions={"Pet": PET},
                         parameters={"Limit": {"name": "limit", "in": "query", "type": "integer"}}))
    post, put = result.document.tools
    assert post.request_template.body_media_type == "application/json"
    assert props(post)["nick"] == {"type": ["string", "null"]} and props(post)["limit"] == {"type": "integer"}
    assert post.output_schema is not None and set(post.output_schema["properties"]) == {"name", "nick"}
    # `*/*` with a structured schema is JSON; an XML-only response gives no output schema.
    assert put.request_template.body_media_type == "application/json" and put.output_schema is None


def test_security_definitions() -> None:
    defs = {"basic": {"type": "basic"}, "key": {"type": "apiKey", "in": "query", "name": "api_key"},
            "oauth": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://x/a",
                      "tokenUrl": "https://x/t", "scopes": {}}}
    result = run(swagger({"/a": {"get": {"responses": OK, "security": [{"oauth": ["read"]}, {"basic": []}]}}},
                         securityDefinitions=defs))
    schemes = {s.id: (s.type, s.scheme, s.in_, s.name) for s in result.document.server.security_schemes}
    assert schemes == {"basic": ("http", "basic", None, None), "key": ("apiKey", None, "query", "api_key"),
                       "oauth": ("http", "bearer", None, None)}
    assert tool(result, "get_a").request_template.security_requirements == [["oauth"], ["basic"]]
