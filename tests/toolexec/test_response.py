"""What the model gets back: rendered results, backend failures as isError results."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json

import pytest
from aiohttp import web
from mcpgw_toolexec.service import ToolexecService

from mcpgw.devcluster import free_port
from mcpgw.runtime.bus import Bus
from mcpgw.untrusted import MAX_DEPTH
from tests.logs import failures
from tests.toolexec.conftest import StartToolexec
from tests.toolexec.rig import Echo, FakeRegistry, call, publish, text_of

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def reply(status: int = 200, body: bytes = b"", content_type: str = "application/json",
          **headers: str) -> web.Response:
    return web.Response(status=status, body=body, headers={"Content-Type": content_type, **headers})


async def test_backend_http_errors_are_tool_errors_with_a_bounded_excerpt(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    async def fail(request: web.Request) -> web.Response:
        return reply(500, b'{"error": "database on fire"}')

    async def missing(request: web.Request) -> web.Response:
        return reply(404, ("é" * 100).encode(), "text/plain")  # 200 bytes, cut inside no character

    async def moved(request: web.Request) -> web.Response:
        return reply(302, b"", Location="/elsewhere")

    echo.routes.update({"/fail": fail, "/missing": missing, "/moved": moved})
    publish(registry, echo, """
- name: fail
  requestTemplate: {url: "{{.config.base}}/fail"}
- name: missing
  requestTemplate: {url: "{{.config.base}}/missing"}
- name: moved
  requestTemplate: {url: "{{.config.base}}/moved"}
- name: templated
  requestTemplate: {url: "{{.config.base}}/fail"}
  errorResponseTemplate: "lookup failed ({{ _headers[':status'] }}): {{.error}}"
""")
    result = await call(bus, "s1", "fail")
    assert result == {"content": [{"type": "text", "text":
                      'backend returned HTTP 500 Internal Server Error: {"error": "database on fire"}'}],
                      "isError": True}
    text = text_of(await call(bus, "s1", "missing"))
    # error_excerpt_bytes=64: 32 two-byte characters, then the truncation mark.
    assert text == "backend returned HTTP 404 Not Found: " + "é" * 32 + "… (truncated)"
    result = await call(bus, "s1", "moved")
    assert result["isError"] is True
    assert text_of(result) == "backend returned HTTP 302 Found: redirect to /elsewhere was not followed"
    assert [s.path for s in echo.seen].count("/elsewhere") == 0
    result = await call(bus, "s1", "templated")
    assert result == {"content": [{"type": "text", "text": "lookup failed (500): database on fire"}],
                      "isError": True}


async def test_timeouts_unreachable_backends_and_oversized_answers(
        start_toolexec: StartToolexec, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    await start_toolexec(backend_timeout=0.3, max_response_bytes=1000)
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await asyncio.wait_for(release.wait(), 10)
        return reply(200, b"{}")

    async def big(request: web.Request) -> web.Response:
        return reply(200, b"x" * 5000, "text/plain")

    async def big_stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(10):
            await resp.write(b"y" * 500)
        await resp.write_eof()
        return resp

    echo.routes.update({"/hang": hang, "/big": big, "/big_stream": big_stream})
    closed = free_port()
    publish(registry, echo, f"""
- name: hang
  requestTemplate: {{url: "{{{{.config.base}}}}/hang"}}
- name: big
  requestTemplate: {{url: "{{{{.config.base}}}}/big"}}
- name: big_stream
  requestTemplate: {{url: "{{{{.config.base}}}}/big_stream"}}
- name: unreachable
  requestTemplate: {{url: "http://127.0.0.1:{closed}/x", security: {{id: tok}}}}
""", server_extra="""
  securitySchemes: [{id: tok, type: http, scheme: bearer, defaultCredential: sekret-token}]""")
    try:
        result = await call(bus, "s1", "hang")
        assert result == {"content": [{"type": "text", "text": "backend did not answer within 0.3s"}],
                          "isError": True}
    finally:
        release.set()
    result = await call(bus, "s1", "unreachable")
    assert result["isError"] is True
    assert text_of(result) == f"backend unreachable: cannot connect to 127.0.0.1:{closed}: Connection refused"
    assert "sekret" not in json.dumps(result)
    for tool in ("big", "big_stream"):
        result = await call(bus, "s1", tool)
        assert result == {"content": [{"type": "text", "text": "backend response larger than 1000 bytes"}],
                          "isError": True}


async def test_structured_content_images_and_compressed_bodies(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    async def pet(request: web.Request) -> web.Response:
        return reply(200, b'{"id": 7, "name": "Rex"}')

    async def pets(request: web.Request) -> web.Response:
        return reply(200, b'[{"id": 7}]')

    async def image(request: web.Request) -> web.Response:
        return reply(200, PNG, "image/png")

    async def zipped(request: web.Request) -> web.Response:
        return reply(200, gzip.compress(b"hello " * 50), "text/plain", **{"Content-Encoding": "gzip"})

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    echo.routes.update({"/pet": pet, "/pets": pets, "/image": image, "/zipped": zipped, "/empty": empty})
    publish(registry, echo, """
- name: pet
  requestTemplate: {url: "{{.config.base}}/pet"}
  outputSchema: {type: object, properties: {id: {type: integer}, name: {type: string}}}
- name: pets
  requestTemplate: {url: "{{.config.base}}/pets"}
  outputSchema: {type: object, properties: {result: {type: array}}}
- name: image
  requestTemplate: {url: "{{.config.base}}/image"}
- name: zipped
  requestTemplate: {url: "{{.config.base}}/zipped"}
- name: empty
  requestTemplate: {url: "{{.config.base}}/empty", method: DELETE}
""")
    result = await call(bus, "s1", "pet")
    assert result == {"content": [{"type": "text", "text": '{"id": 7, "name": "Rex"}'}], "isError": False,
                      "structuredContent": {"id": 7, "name": "Rex"}}
    result = await call(bus, "s1", "pets")
    assert result["structuredContent"] == {"result": [{"id": 7}]}
    result = await call(bus, "s1", "image")
    assert result == {"content": [{"type": "image", "data": base64.b64encode(PNG).decode(),
                                   "mimeType": "image/png"}], "isError": False}
    assert text_of(await call(bus, "s1", "zipped")) == "hello " * 50
    assert text_of(await call(bus, "s1", "empty")) == "success"


async def test_response_templates(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    async def weather(request: web.Request) -> web.Response:
        return reply(200, b'{"city": "Oslo", "temp": -3, "tags": ["cold", "dark"], "args": "backend"}')

    async def plain(request: web.Request) -> web.Response:
        return reply(200, b"plain answer", "text/plain")

    echo.routes.update({"/weather": weather, "/plain": plain})
    publish(registry, echo, """
- name: weather
  args: [{name: units, default: C}]
  requestTemplate: {url: "{{.config.base}}/weather"}
  responseTemplate:
    body: "{{.city}}: {{.temp}}°{{.config.unit_suffix}} {{toJson .tags}} ({{.args}})"
- name: framed
  args: [{name: q}]
  requestTemplate: {url: "{{.config.base}}/plain"}
  responseTemplate: {prependBody: "<<{{.args.q}}|", appendBody: "|{{.config.base | upper}}>>"}
- name: fails_to_render
  requestTemplate: {url: "{{.config.base}}/weather"}
  responseTemplate: {body: "{{ city.foo() }}"}
""")
    # The backend's own top-level "args" key wins over the call's arguments.
    assert text_of(await call(bus, "s1", "weather")) == 'Oslo: -3° ["cold","dark"] (backend)'
    assert text_of(await call(bus, "s1", "framed", {"q": "hi"})) == (
        f"<<hi|plain answer|{echo.url.upper()}>>")
    result = await call(bus, "s1", "fails_to_render")
    assert result["isError"] is True and text_of(result).startswith("responseTemplate: template failed")


async def test_direct_response_tools_call_nothing(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    publish(registry, echo, """
- name: hello
  args: [{name: who, required: true}]
  responseTemplate: {body: "Hello {{.args.who}}, served by {{.config.base}}"}
- name: as_json
  args: [{name: n, type: integer}]
  responseTemplate: {body: '{"doubled": {{.args.n}}{{.args.n}}}'}
  outputSchema: {type: object}
""")
    assert text_of(await call(bus, "s1", "hello", {"who": "Ada"})) == f"Hello Ada, served by {echo.url}"
    result = await call(bus, "s1", "as_json", {"n": "4"})
    assert result["structuredContent"] == {"doubled": 44}
    assert text_of(await call(bus, "s1", "hello")) == "missing required argument: who"
    assert echo.seen == []


async def test_response_templates_range_over_the_answer_and_keep_its_number_text(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    async def readings(request: web.Request) -> web.Response:
        return reply(200, b'{"station": "north", "temp": 21.0, '
                          b'"hits": [{"at": "09:00", "mm": 0.50}, {"at": "10:00"}]}')

    echo.routes["/readings"] = readings
    publish(registry, echo, """
- name: readings
  requestTemplate: {url: "{{.config.base}}/readings"}
  responseTemplate:
    body: >-
      {{.station}} {{.temp}}:{{range $i, $h := .hits}} {{$i}}@{{$h.at}}={{with $h.mm}}{{.}}{{else}}none{{end}}{{end}}
""")
    # Higress prints a backend's number as the backend wrote it: 21.0 and 0.50, not 21 and 0.5.
    assert text_of(await call(bus, "s1", "readings")) == "north 21.0: 0@09:00=0.50 1@10:00=none"


async def test_a_backend_answer_nested_too_deep_is_text(toolexec: ToolexecService, registry: FakeRegistry,
                                                        echo: Echo, bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    # Decoded, it would recurse past the interpreter's limit (100,000 levels) or feed templates and
    # structuredContent more than any walk of it should take (129).
    bodies = {f"/deep{levels}": b"[" * levels + b"]" * levels for levels in (MAX_DEPTH + 1, 100_000)}

    async def deep(request: web.Request) -> web.Response:
        return reply(200, bodies[request.path])

    echo.routes.update({path: deep for path in bodies})
    publish(registry, echo, "".join(f"""
- name: deep{path[5:]}
  requestTemplate: {{url: "{{{{.config.base}}}}{path}"}}
  outputSchema: {{type: object, properties: {{result: {{type: array}}}}}}
- name: deep{path[5:]}_templated
  requestTemplate: {{url: "{{{{.config.base}}}}{path}"}}
  responseTemplate: {{body: "got: {{{{.result}}}}"}}
""" for path in bodies))
    for path, body in bodies.items():
        result = await call(bus, "s1", "deep" + path[5:])
        assert result == {"content": [{"type": "text", "text": body.decode()}], "isError": False}
        # Not JSON to the template either: it has nothing named `result`.
        assert text_of(await call(bus, "s1", f"deep{path[5:]}_templated")) == "got: "
    assert failures(caplog) == []
