"""One operation the converter cannot express never fails the import: it is converted, or skipped
with its reason. Path templates (repeated, in-segment, undeclared, empty placeholders), parameter
and body names the gateway cannot send, names that clean to the same argument, server URLs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcpgw_registry.importing.openapi import ImportResult
from mcpgw_registry.resources.tools.document import invalid_tools

from mcpgw.contracts.errors import McpgwError
from tests.registry.importing.openapi.build import OK, args, only, op, openapi, props, run, swagger, tool

ARG_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _param(name: str, where: str = "query", required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": {"type": "string"}, **extra}


def _sound(result: ImportResult) -> None:
    """Every tool made is one the registry accepts, with argument names every client accepts."""
    assert invalid_tools(result.document) == {}
    for spec in result.document.tools:
        assert all(ARG_NAME.match(a.name) for a in spec.args), [a.name for a in spec.args]
        assert [a.name for a in spec.args] == list(props(spec))
    assert len(result.document.tools) + len(result.skipped) == result.operations


def _reasons(result: ImportResult) -> dict[str, str]:
    return {s.operation: s.reason for s in result.skipped}


def _notes(result: ImportResult) -> dict[str, str]:
    return {d.operation: d.reason for d in result.degraded}


def test_a_repeated_and_in_segment_path_parameter_is_one_argument_filling_every_place() -> None:
    path = "/subscriptions/{sub}/providers/System.{location}/locations/{location}/usages"
    result = run(openapi({path: op(parameters=[_param("sub", "path", True), _param("location", "path", True)])}))
    _sound(result)
    spec = only(result)
    assert list(args(spec)) == ["sub", "location"]
    assert spec.request_template.url == \
        "{{.config.baseUrl}}/subscriptions/{sub}/providers/System.{location}/locations/{location}/usages"
    assert spec.input_schema is not None and spec.input_schema["required"] == ["sub", "location"]
    assert result.degraded == []


def test_undeclared_placeholders_become_arguments_and_unplaced_parameters_are_left_out() -> None:
    result = run(openapi({
        "/a/{thing}": op(operationId="undeclared"),
        "/b": op(operationId="unplaced", parameters=[_param("ghost", "path", True)]),
        "/c/{my param}/{a.b}/{größe}/{x[0]}": op(operationId="oddPlaceholders"),
        "/d/{a{b}}": op(operationId="nested"),
    }))
    _sound(result)
    undeclared = tool(result, "undeclared")
    assert args(undeclared)["thing"].required and undeclared.request_template.url.endswith("/a/{thing}")
    assert tool(result, "unplaced").args == []
    odd = tool(result, "oddPlaceholders")
    assert [(a.name, a.wire_name) for a in odd.args] == [
        ("my_param", "my param"), ("a.b", None), ("gr_e", "größe"), ("x_0", "x[0]")]
    assert odd.request_template.url == "{{.config.baseUrl}}/c/{my_param}/{a.b}/{gr_e}/{x_0}"
    # The placeholder is the innermost `{...}`; the braces around it stay text (encoded).
    assert tool(result, "nested").request_template.url == "{{.config.baseUrl}}/d/%7Ba{b}%7D"
    notes = _notes(result)
    assert notes["GET /a/{thing}"] == "path placeholder {thing} has no parameter; added as a required string"
    assert notes["GET /b"] == "path parameter 'ghost' does not appear in the path; left out"


@pytest.mark.parametrize(("param", "outcome"), [
    (_param(""), "query parameter '' has an empty name; left out"),
    (_param("", required=True), "skip: required query parameter '' has an empty name, so no call could succeed"),
    (_param("", "header"), "header parameter '' has an empty name; left out"),
    (_param("X Trace", "header"), "header parameter 'X Trace' is not a valid HTTP header name; left out"),
    (_param("X-Ä", "header", True),
     "skip: required header parameter 'X-Ä' is not a valid HTTP header name, so no call could succeed"),
    (_param("line\nbreak", "header"), "header parameter 'line\\nbreak' is not a valid HTTP header name; left out"),
    (_param("Content-Length", "header", True),
     "header parameter 'Content-Length' is a header the HTTP client sets itself; left out"),
    (_param("Host", "header"), "header parameter 'Host' is a header the HTTP client sets itself; left out"),
    (_param("a;b", "cookie"), "cookie parameter 'a;b' is not a valid cookie name; left out"),
    (_param("sess id", "cookie", True),
     "skip: required cookie parameter 'sess id' is not a valid cookie name, so no call could succeed"),
    # Query names are percent-encoded on the way: any non-empty one travels.
    (_param("filter[name]"), "arg filter_name"),
    (_param("a b.c"), "arg a_b.c"),
    (_param("größe"), "arg gr_e"),
    (_param("tab\there"), "arg tab_here"),
    (_param("X-Trace", "header"), "arg X-Trace"),
])
def test_parameters_the_gateway_cannot_send(param: dict[str, Any], outcome: str) -> None:
    result = run(openapi({"/a": op(parameters=[param, _param("keep")]), "/b": op()}))
    _sound(result)
    assert "GET /b" not in _reasons(result)  # the rest of the document always imports
    if outcome.startswith("skip: "):
        assert _reasons(result) == {"GET /a": outcome.removeprefix("skip: ")}
        assert [t.name for t in result.document.tools] == ["get_b"]
        return
    spec = tool(result, "get_a")
    if outcome.startswith("arg "):
        arg = args(spec)[outcome.removeprefix("arg ")]
        assert (arg.wire_name or arg.name, arg.position) == (param["name"], param["in"])
        assert _notes(result) == {}
    else:
        assert list(args(spec)) == ["keep"]
        assert _notes(result) == {"GET /a": outcome}


def test_an_empty_placeholder_skips_only_its_operation() -> None:
    result = run(openapi({"/things/{}": op(), "/things": op()}))
    _sound(result)
    assert _reasons(result) == {"GET /things/{}": "the path has a placeholder without a name ({})"}
    assert [t.name for t in result.document.tools] == ["get_things"]


@pytest.mark.parametrize("reverse", [False, True])
def test_names_that_clean_to_the_same_argument_never_collide(reverse: bool) -> None:
    params = [_param("a b", description="spaced"), _param("a_b"), _param("a[b]"), _param("a b", "path", True)]
    properties: dict[str, Any] = {"c d": {"type": "string"}, "c_d": {"type": "integer"}}
    if reverse:
        params.reverse()
        properties = dict(reversed(properties.items()))
    body = {"type": "object", "properties": properties}
    result = run(openapi({"/a/{a b}": op("post", parameters=params, requestBody={
        "content": {"application/json": {"schema": body}}})}))
    _sound(result)
    spec = only(result)
    placed = {a.name: (a.position, a.wire_name or a.name) for a in spec.args}
    # Names already valid keep them, whatever the order; the cleaned ones get a suffix and say
    # in their description which parameter they are.
    assert placed == {
        "a_b": ("query", "a_b"),
        "a_b__query": ("query", "a b"),
        "a_b__query_b433e7": ("query", "a[b]"),
        "a_b__path": ("path", "a b"),
        "c_d": ("body", "c_d"),
        "c_d_4e82dd": ("body", "c d"),
    }
    assert spec.request_template.url == "{{.config.baseUrl}}/a/{a_b__path}"
    p = props(spec)
    assert p["a_b__query"]["description"] == "spaced (Query parameter 'a b')"
    assert p["a_b__query_b433e7"]["description"] == "(Query parameter 'a[b]')"
    assert p["a_b__path"]["description"] == "(Path parameter 'a b')"
    assert p["c_d_4e82dd"]["description"] == "(Body field 'c d')"
    assert "description" not in p["a_b"] and "description" not in p["c_d"]


def test_body_properties_with_empty_names() -> None:
    def body(required: bool) -> dict[str, Any]:
        schema = {"type": "object", "properties": {"": {"type": "string"}, "name": {"type": "string"}},
                  "required": [""] if required else []}
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    result = run(openapi({"/optional": op("post", requestBody=body(False)),
                          "/required": op("post", requestBody=body(True))}))
    _sound(result)
    assert list(args(tool(result, "post_optional"))) == ["name"]
    assert _notes(result) == {"POST /optional": "a request body property with an empty name was left out"}
    assert _reasons(result) == {
        "POST /required": "a required request body property has an empty name, so no call could succeed"}


def test_swagger2_parameters_follow_the_same_rules() -> None:
    result = run(swagger({
        "/a/{id}/x.{id}": {"post": {"parameters": [
            {"name": "id", "in": "path", "required": True, "type": "string"},
            {"name": "X Bad", "in": "header", "type": "string"},
            {"name": "", "in": "formData", "type": "string"},
            {"name": "note", "in": "formData", "type": "string"}], "responses": OK}},
        "/b": {"get": {"parameters": [{"name": "", "in": "query", "required": True, "type": "string"}],
                       "responses": OK}}}))
    _sound(result)
    spec = only(result)
    assert list(args(spec)) == ["id", "note"]
    assert spec.request_template.url == "{{.config.baseUrl}}/a/{id}/x.{id}"
    assert _notes(result)["POST /a/{id}/x.{id}"] == (
        "header parameter 'X Bad' is not a valid HTTP header name; left out; "
        "a request body property with an empty name was left out")
    assert _reasons(result) == {"GET /b": "required query parameter '' has an empty name, so no call could succeed"}


def test_server_urls_that_are_no_urls() -> None:
    result = run(openapi({"/ipv6": op(servers=[{"url": "https://[::1/v1"}]),
                          "/port": op(servers=[{"url": "http://h:99999/v1"}]),
                          "/fine": op()}))
    _sound(result)
    assert _reasons(result) == {"GET /ipv6": "its server URL 'https://[::1/v1' is not a valid URL",
                                "GET /port": "its server URL 'http://h:99999/v1' is not a valid URL"}
    # The document's own server: its tools wait for a configured base URL instead.
    result = run(openapi({"/fine": op()}, servers=[{"url": "https://[::1"}]))
    assert result.warnings == ["the server URL 'https://[::1' is not a valid URL; set the base URL"]
    assert only(result).request_template.url == "{{.config.baseUrl}}/fine"
    result = run(swagger({"/fine": op()}, host="h:99999"))
    assert result.warnings == ["the host 'h:99999' does not make a valid URL; set the base URL"]
    assert invalid_tools(result.document) == {}
    with pytest.raises(McpgwError) as caught:
        run(openapi({"/fine": op()}), base_url="https://[::1")
    assert caught.value.message == "baseUrl: must be an absolute http or https URL (got 'https://[::1')"
