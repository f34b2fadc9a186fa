"""Loading, servers, descriptions, annotations, output schemas, and what is skipped or ignored."""

from __future__ import annotations

import msgspec
import pytest
from mcpgw_registry.importing.openapi import ImportOptions, convert

from mcpgw.contracts.errors import ErrorCode, McpgwError
from tests.registry.importing.openapi.build import OK, only, op, openapi, run


def test_json_and_yaml_are_both_read_and_yaml_dates_stay_text() -> None:
    yaml_doc = ("openapi: 3.0.0\ninfo: {title: t, version: '1'}\nservers: [{url: 'https://h'}]\npaths:\n"
                "  /a:\n    get:\n      parameters:\n        - {name: since, in: query, schema: {type: string, "
                "default: 2020-01-01}}\n      responses: {200: {description: ok, content: {application/json: "
                "{schema: {type: object, properties: {n: {type: integer}}}}}}}\n")
    spec = only(run(yaml_doc))
    assert spec.input_schema is not None and spec.input_schema["properties"]["since"]["default"] == "2020-01-01"
    assert spec.output_schema is not None  # an unquoted 200 (an int key in YAML) still counts
    assert only(run(msgspec.json.encode(msgspec.yaml.decode(yaml_doc.replace("2020-01-01", "'x'"))))).name == "get_a"


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "document: is empty"),
    (b"[1, 2]", "document: must be a mapping (an OpenAPI or Swagger object)"),
    (b"{\"info\": {}}", "document: is not an OpenAPI 3.x or Swagger 2.0 document (no `openapi` or `swagger` field)"),
    (b"{\"openapi\": \"4.0.0\"}", "document.openapi: version '4.0.0' is not supported (3.0 or 3.1)"),
    (b"a: [1\n", "document: is neither JSON nor YAML at line 2"),
])
def test_unusable_documents(raw: bytes, message: str) -> None:
    with pytest.raises(McpgwError) as caught:
        convert(raw)
    assert caught.value.code == ErrorCode.INVALID_PARAMETER and caught.value.message.startswith(message)


def test_size_cap() -> None:
    with pytest.raises(McpgwError) as caught:
        convert(openapi({"/a": op()}), ImportOptions(max_bytes=100))
    assert caught.value.code == ErrorCode.PAYLOAD_TOO_LARGE and "more than the limit of 100" in caught.value.message


def test_servers_variables_overrides_and_operation_servers() -> None:
    servers = [{"url": "https://{region}.api.example.com/{version}",
                "variables": {"region": {"default": "eu"}, "version": {"enum": ["v2", "v3"], "default": "v2"}}}]
    paths = {"/a": op(), "/files": op("post", servers=[{"url": "https://files.example.com/"}]),
             "/same": {"servers": [{"url": "https://eu.api.example.com/v2"}], **op()}}
    result = run(openapi(paths, servers=servers))
    assert result.document.server.config == {"baseUrl": "https://eu.api.example.com/v2"}
    urls = [t.request_template.url for t in result.document.tools]
    assert urls == ["{{.config.baseUrl}}/a", "https://files.example.com/files", "{{.config.baseUrl}}/same"]
    overridden = run(openapi(paths, servers=servers), base_url="http://localhost:8080/mock")
    assert overridden.document.server.config == {"baseUrl": "http://localhost:8080/mock"}
    with pytest.raises(McpgwError, match="baseUrl: must be an absolute http or https URL"):
        run(openapi(paths), base_url="/relative")


def test_a_relative_server_needs_configuration() -> None:
    result = run(openapi({"/a": op()}, servers=[{"url": "/api/v31"}]))
    assert result.document.server.config == {"baseUrl": "https://base-url-not-configured.invalid/api/v31"}
    assert result.warnings == ["the server URL '/api/v31' is relative; set the base URL"]


def test_descriptions_titles_and_deprecation() -> None:
    paths = {"/a": op(summary="Get <b>things</b>", description="<p>Long &amp; <i>winding</i></p><ul><li>one</li></ul>"
                                                                + " word" * 300),
             "/old": op(deprecated=True, summary="Old")}
    result = run(openapi(paths), description_limit=120)
    a, old = result.document.tools
    assert a.title == "Get things"
    assert a.description.startswith("Get things\n\nLong & winding\n\n- one\nword word")
    assert len(a.description) <= 120 and a.description.endswith(" …")
    assert old.description == "[DEPRECATED] Old"
    excluded = run(openapi(paths), include_deprecated=False)
    assert [t.source.path for t in excluded.document.tools if t.source] == ["/a"]
    assert excluded.skipped[0].operation == "GET /old" and "deprecated" in excluded.skipped[0].reason
    assert excluded.operations == 2


def test_annotations_follow_the_method() -> None:
    paths = {"/r": {m: {"responses": OK} for m in ("get", "put", "post", "delete", "patch")}}
    hints = {t.source.method: t.annotations for t in run(openapi(paths)).document.tools if t.source}
    assert hints["GET"] == {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True,
                            "openWorldHint": True}
    assert hints["PUT"] == {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": True,
                            "openWorldHint": True}
    assert hints["DELETE"] == hints["PUT"]
    assert hints["PATCH"] == {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False,
                              "openWorldHint": True}
    assert hints["POST"] == {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False,
                             "openWorldHint": True}


def test_output_schemas() -> None:
    def answer(status: str, schema: object, media: str = "application/json") -> dict[str, object]:
        return {status: {"description": "x", "content": {media: {"schema": schema}}}}

    obj = {"type": "object", "properties": {"id": {"type": "integer"}}}
    paths = {
        "/object": op(responses=answer("200", obj)),
        "/array": op(responses=answer("200", {"type": "array", "items": obj})),
        "/created": op("post", responses={**answer("201", obj), **answer("default", {"type": "string"})}),
        "/empty": op("delete", responses={"204": {"description": "gone"}}),
        "/xml": op(responses=answer("200", obj, "application/xml")),
        "/any": op(responses=answer("200", {})),
    }
    out = {t.source.path: t.output_schema for t in run(openapi(paths)).document.tools if t.source}
    assert out["/object"] == {"type": "object", "properties": {"id": {"type": "integer"}}}
    assert out["/array"] == {"type": "object", "properties": {"result": {"type": "array", "items": obj}},
                             "required": ["result"]}
    assert out["/created"] == out["/object"]
    assert out["/empty"] is None and out["/xml"] is None and out["/any"] is None
    assert all(t.output_schema is None for t in run(openapi(paths), output_schemas=False).document.tools)


def test_what_is_skipped_and_what_is_ignored() -> None:
    paths = {"/r": {"get": {"responses": OK, "callbacks": {"onEvent": {}}}, "head": {"responses": OK},
                    "options": {"responses": OK}, "trace": {"responses": OK}}}
    result = run(openapi(paths, version="3.1.0", webhooks={"newPet": {"post": {"responses": OK}}}))
    assert [t.name for t in result.document.tools] == ["get_r"]
    assert [s.operation for s in result.skipped] == ["OPTIONS /r", "HEAD /r", "TRACE /r"]
    assert result.operations == 4
    assert [i.operation for i in result.ignored] == ["CALLBACK GET /r onEvent", "WEBHOOK POST newPet"]
