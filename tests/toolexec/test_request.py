"""What the backend receives for a tool call: positions, encodings, bodies, credentials."""

from __future__ import annotations

import base64
import json

from mcpgw_toolexec.service import ToolexecService

from mcpgw.runtime.bus import Bus
from tests.toolexec.rig import Echo, FakeRegistry, call, publish, text_of


async def test_positioned_arguments_arrive_encoded(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: update_item
  args:
    - {name: id, position: path, required: true}
    - {name: q, position: query}
    - {name: tags, type: array, position: query}
    - {name: X-Trace-Tag, position: header}
    - {name: session, position: cookie}
    - {name: theme, position: cookie}
    - {name: note, position: body}
    - {name: count, type: integer, position: body}
  requestTemplate:
    url: "{{.config.base}}/items/{id}/edit?fixed=1&q=old"
    method: put
""")
    result = await call(bus, "s1", "update_item", {
        "id": "a/b c?d#e", "q": "x&y=z", "tags": ["t 1", "t/2"], "X-Trace-Tag": "tag-1",
        "session": "s;evil=1", "theme": "dark", "note": "hello", "count": "3", "undeclared": "dropped",
    })
    assert result["isError"] is False, result
    seen = echo.last
    assert seen.method == "PUT"
    assert seen.path == "/items/a%2Fb%20c%3Fd%23e/edit"
    # q replaces the template's own q (Higress sets, not adds); lists repeat the parameter.
    assert seen.query == "fixed=1&q=x%26y%3Dz&tags=t%201&tags=t%2F2"
    assert seen.headers["X-Trace-Tag"] == "tag-1"
    # A ";" in a value cannot start a second cookie.
    assert seen.headers["Cookie"] == "session=s%3Bevil=1; theme=dark"
    assert seen.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(seen.body) == {"note": "hello", "count": 3}
    assert seen.headers["Accept"] == "*/*"
    assert "undeclared" not in seen.query and b"undeclared" not in seen.body


async def test_arguments_cannot_change_the_backend_origin(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: by_path
  args: [{name: p, position: path}]
  requestTemplate: {url: "{{.config.base}}/files/{p}"}
- name: by_template
  args: [{name: p}]
  requestTemplate: {url: "{{.config.base}}/files/{{.args.p}}"}
- name: by_host
  args: [{name: host}]
  requestTemplate: {url: "http://{{.args.host}}/x"}
""")
    for tool, value in (("by_path", "..%2F..@evil.example:80/"), ("by_path", ".."),
                        ("by_template", "//evil.example/x"), ("by_template", "@evil.example")):
        result = await call(bus, "s1", tool, {"p": value})
        assert result["isError"] is False, result
        seen = echo.last
        assert seen.path.startswith("/files/") and "/" not in seen.path[len("/files/"):], seen.path
        assert seen.headers["Host"] == echo.url.removeprefix("http://")
    assert echo.seen[1].path == "/files/%2E%2E"  # not a dot-segment that climbs out of /files
    result = await call(bus, "s1", "by_host", {"host": "evil.example"})
    assert result["isError"] is True
    assert "misconfigured" in text_of(result) and "scheme, host or port" in text_of(result)
    assert len(echo.seen) == 4


async def test_loose_arguments_to_query_json_and_form(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: to_query
  args: [{name: a}, {name: b, type: boolean}, {name: tags, type: array}]
  requestTemplate: {url: "{{.config.base}}/q", argsToUrlParam: true}
- name: to_json
  args: [{name: a}, {name: n, type: number}, {name: extra, position: body}, {name: id, position: path}]
  requestTemplate: {url: "{{.config.base}}/j/{id}", method: POST, argsToJsonBody: true}
- name: to_form
  args: [{name: a}, {name: list, type: array}]
  requestTemplate: {url: "{{.config.base}}/f", method: POST, argsToFormBody: true}
- name: body_args_form
  args: [{name: a, position: body}]
  requestTemplate:
    url: "{{.config.base}}/bf"
    method: POST
    headers: [{key: Content-Type, value: application/x-www-form-urlencoded}]
""")
    await call(bus, "s1", "to_query", {"a": "x y", "b": "true", "tags": [1, 2]})
    assert echo.last.query == "a=x%20y&b=true&tags=1&tags=2"
    assert echo.last.body == b""

    await call(bus, "s1", "to_json", {"a": "x", "n": "2.5", "extra": {"k": [1]}, "id": "7"})
    assert echo.last.path == "/j/7"
    assert json.loads(echo.last.body) == {"a": "x", "n": 2.5, "extra": {"k": [1]}}
    assert echo.last.headers["Content-Type"] == "application/json; charset=utf-8"

    await call(bus, "s1", "to_form", {"a": "x y&z", "list": ["1", "2"]})
    assert echo.last.body == b"a=x+y%26z&list=1&list=2"
    assert echo.last.headers["Content-Type"] == "application/x-www-form-urlencoded"

    await call(bus, "s1", "body_args_form", {"a": "v=1"})
    assert echo.last.body == b"a=v%3D1"


async def test_body_template_with_to_json(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: search
  args: [{name: query}, {name: ids, type: array}, {name: limit, type: integer, default: 10}]
  requestTemplate:
    url: "{{.config.base}}/search"
    method: POST
    body: '{"q": {{toJson .args.query}}, "ids": {{toJson .args.ids}}, "limit": {{.args.limit}}}'
- name: plain
  args: [{name: who}]
  requestTemplate:
    url: "{{.config.base}}/plain"
    method: POST
    headers: [{key: Content-Type, value: text/plain}]
    body: "hello {{.args.who}}"
""")
    await call(bus, "s1", "search", {"query": 'say "hi"', "ids": [1, 2]})
    assert json.loads(echo.last.body) == {"q": 'say "hi"', "ids": [1, 2], "limit": 10}
    assert echo.last.headers["Content-Type"] == "application/json; charset=utf-8"
    await call(bus, "s1", "plain", {"who": "world"})
    assert echo.last.body == b"hello world"
    assert echo.last.headers["Content-Type"] == "text/plain"


async def test_defaults_coercion_and_validation(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: typed
  args:
    - {name: flag, type: boolean}
    - {name: count, type: integer}
    - {name: ratio, type: number}
    - {name: page, type: integer, default: 1}
    - {name: mode, enum: [fast, slow], default: fast}
    - {name: must, required: true}
  requestTemplate: {url: "{{.config.base}}/typed", argsToJsonBody: true, method: POST}
""")
    result = await call(bus, "s1", "typed", {"flag": "false", "count": 4.0, "ratio": "0.5", "must": "x"})
    assert result["isError"] is False
    assert json.loads(echo.last.body) == {
        "flag": False, "count": 4, "ratio": 0.5, "page": 1, "mode": "fast", "must": "x"}
    await call(bus, "s1", "typed", {"count": "12", "must": "x", "mode": "slow"})
    assert json.loads(echo.last.body)["count"] == 12

    sent = len(echo.seen)
    for args, message in (
        ({"flag": True}, "missing required argument: must"),
        ({"must": None}, "missing required argument: must"),
        ({"must": "x", "count": "many"}, "argument count: expected an integer"),
        ({"must": "x", "count": 1.5}, "argument count: expected an integer"),
        ({"must": "x", "flag": "yes"}, "argument flag: expected a boolean"),
        ({"must": "x", "mode": "medium"}, 'argument mode: must be one of "fast", "slow"'),
    ):
        result = await call(bus, "s1", "typed", args)
        assert result == {"content": [{"type": "text", "text": message}], "isError": True}
    assert len(echo.seen) == sent


async def test_input_schema_declares_arguments_when_args_are_absent(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: schema_only
  inputSchema:
    type: object
    properties: {a: {type: integer}, b: {type: string, default: d}}
    required: [a]
  requestTemplate: {url: "{{.config.base}}/s", argsToUrlParam: true}
""")
    await call(bus, "s1", "schema_only", {"a": "5", "zzz": 1})
    assert echo.last.query == "a=5&b=d"
    result = await call(bus, "s1", "schema_only", {})
    assert text_of(result) == "missing required argument: a"


async def test_line_breaks_in_headers_are_refused(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: by_arg
  args: [{name: X-Note, position: header}]
  requestTemplate: {url: "{{.config.base}}/h"}
- name: by_template
  args: [{name: lang}]
  requestTemplate:
    url: "{{.config.base}}/h"
    headers: [{key: Accept-Language, value: "{{.args.lang}}"}]
- name: by_cookie
  args: [{name: c, position: cookie}]
  requestTemplate: {url: "{{.config.base}}/h"}
""")
    injected = "x\r\nX-Admin: yes"
    result = await call(bus, "s1", "by_arg", {"X-Note": injected})
    assert result["isError"] is True and "header X-Note" in text_of(result)
    result = await call(bus, "s1", "by_template", {"lang": "en\nX-Admin: yes"})
    assert result["isError"] is True and "header Accept-Language" in text_of(result)
    result = await call(bus, "s1", "by_cookie", {"c": injected})
    assert result["isError"] is True and "header Cookie (c)" in text_of(result)
    assert echo.seen == []


async def test_upstream_credentials(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    schemes = """
  securitySchemes:
    - {id: basic, type: http, scheme: basic, defaultCredential: "alice:s3cret"}
    - {id: bearer, type: http, scheme: bearer, defaultCredential: default-token}
    - {id: key_header, type: apiKey, in: header, name: X-API-Key, defaultCredential: hk}
    - {id: key_query, type: apiKey, in: query, name: api_key, defaultCredential: qk}
    - {id: key_cookie, type: apiKey, in: cookie, name: sid, defaultCredential: ck}
  defaultUpstreamSecurity: {id: bearer}"""
    publish(registry, echo, """
- name: default_bearer
  requestTemplate: {url: "{{.config.base}}/a"}
- name: basic
  requestTemplate: {url: "{{.config.base}}/a", security: {id: basic}}
- name: bearer_override
  requestTemplate: {url: "{{.config.base}}/a", security: {id: bearer, credential: tool-token}}
- name: header_key
  args: [{name: X-API-Key, position: header}]
  requestTemplate: {url: "{{.config.base}}/a", security: {id: key_header}}
- name: query_key
  args: [{name: api_key, position: query}]
  requestTemplate: {url: "{{.config.base}}/a?api_key=template", security: {id: key_query}}
- name: cookie_key
  requestTemplate: {url: "{{.config.base}}/a", security: {id: key_cookie, passthrough: true}}
""", server_extra=schemes)
    await call(bus, "s1", "default_bearer")
    assert echo.last.headers["Authorization"] == "Bearer default-token"
    await call(bus, "s1", "basic")
    assert echo.last.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    await call(bus, "s1", "bearer_override")
    assert echo.last.headers["Authorization"] == "Bearer tool-token"
    # The configured credential wins over a client-supplied value in the same place.
    await call(bus, "s1", "header_key", {"X-API-Key": "client"})
    assert echo.last.headers.getall("X-API-Key") == ["hk"]
    await call(bus, "s1", "query_key", {"api_key": "client"})
    assert echo.last.query == "api_key=qk"
    await call(bus, "s1", "cookie_key")
    assert echo.last.headers["Cookie"] == "sid=ck"
    assert "Authorization" not in echo.last.headers


async def test_trace_context_reaches_the_backend(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: traced
  requestTemplate: {url: "{{.config.base}}/t"}
""")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await call(bus, "s1", "traced", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    traceparent = echo.last.headers.get("traceparent", "")
    assert traceparent.split("-")[1] == trace_id
