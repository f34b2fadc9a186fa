"""Every admin route that reads a body answers a body it cannot use with a 400 naming the problem —
not multipart, cut short, empty, not UTF-8, not an object, numbers no type holds, nested too deep —
and never a 500 with a traceback in the registry's log."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pytest

from tests.logs import failures
from tests.registry.conftest import Api
from tests.registry.openapi_docs import v1

MULTIPART = "multipart/form-data; boundary=xyz"
FILE_PART = (b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="pets.yaml"\r\n'
             b"Content-Type: application/yaml\r\n\r\n")


def _nested(levels: int, leaf: str = "1") -> str:
    return "[" * levels + leaf + "]" * levels


def _nested_yaml(levels: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(levels)) + "  " * levels + "1\n"


@dataclass
class Ids:
    server: str
    hosted: str
    consumer: str
    service: str


@pytest.fixture
async def ids(api: Api, caplog: pytest.LogCaptureFixture) -> Ids:
    caplog.set_level(logging.INFO)
    server = await api.create_server("bodies")
    consumer = (await api.ok("POST", "/v1/consumers", json={"name": "c1"}))["consumerId"]
    service = await api.create_service("svc1", "upstream.test:80")
    hosted = await api.create_server("hosted", type="RealMCP", createFromType="ApiGatewayMcpHosting",
                                     protocol="StreamableHTTP", exposedUriPath="/mcp",
                                     backendConfig={"scene": "SingleService",
                                                    "services": [{"serviceId": service, "weight": 100}]})
    return Ids(server, hosted, consumer, service)


def _json_routes(ids: Ids) -> list[tuple[str, str]]:
    return [("POST", "/v1/mcp-servers"), ("PUT", f"/v1/mcp-servers/{ids.server}"), ("POST", "/v1/consumers"),
            ("PUT", f"/v1/consumers/{ids.consumer}"), ("POST", "/v1/authorization-rules"),
            ("POST", f"/v1/consumers/{ids.consumer}/authorization-rules"), ("POST", "/v1/services"),
            ("PUT", f"/v1/services/{ids.service}"), ("PATCH", f"/v1/mcp-servers/{ids.server}/tools/x"),
            ("PUT", f"/v1/mcp-servers/{ids.hosted}/consumers/{ids.consumer}/upstream-credential")]


# A body, and what the 400's message must say about it, whichever fields the route has.
JSON_BODIES = {
    "empty": (b"", "body: a JSON object is required"),
    "not UTF-8": (b'{"\xff\xfe": 1}', "body: malformed JSON: invalid UTF-8"),
    "cut short": (b'{"na', "body: malformed JSON: input data was truncated"),
    "not JSON": (b'{"name" 1}', "body: malformed JSON: JSON is malformed"),
    "an array": (b"[1, 2]", "body: expected `object`, got `array`"),
    "a string": (b'"x"', "body: expected `object`, got `str`"),
    "null": (b"null", "body: expected `object`, got `null`"),
    "nested 100,000 levels": (_nested(100_000).encode(), "body: nesting too deep (more than 128 levels"),
    "nested 129 levels in a field": (b'{"name":' + _nested(128).encode() + b"}", "body: nesting too deep"),
}


@pytest.mark.parametrize("case", list(JSON_BODIES))
async def test_every_json_route_refuses_a_body_it_cannot_use(api: Api, ids: Ids, caplog: pytest.LogCaptureFixture,
                                                             case: str) -> None:
    body, message = JSON_BODIES[case]
    for method, path in _json_routes(ids):
        reply = await api.call(method, path, data=body, headers={"Content-Type": "application/json"})
        assert reply.status == 400, (method, path, reply.body)
        assert reply.body["code"] == "InvalidParameter" and reply.message.startswith(message), (method, path,
                                                                                             reply.message)
    assert failures(caplog) == []


async def test_numbers_no_type_holds_name_their_field(api: Api, ids: Ids, caplog: pytest.LogCaptureFixture) -> None:
    for path in ("/v1/mcp-servers", "/v1/consumers"):
        for number, problem in ((b"1e999", "number out of range"), (b"9" * 5000, "number out of range")):
            reply = await api.call("POST", path, data=b'{"name":' + number + b"}",
                                   headers={"Content-Type": "application/json"})
            assert (reply.status, reply.message) == (400, f"name: {problem}"), (path, reply.message)
    assert failures(caplog) == []


@pytest.mark.parametrize("route", ["tools/import", "tools/import:preview"])
async def test_an_import_whose_multipart_body_is_not_multipart_is_a_400(api: Api, ids: Ids, route: str,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    path = f"/v1/mcp-servers/{ids.server}/{route}"
    whole = FILE_PART + v1().encode() + b"\r\n--xyz--\r\n"
    cases = {
        "no boundary parameter": ("multipart/form-data", whole, "boundary missed"),
        "not multipart at all": (MULTIPART, v1().encode(), "Could not find starting boundary"),
        "cut short": (MULTIPART, whole[:len(FILE_PART) + 20], "it ends inside the `file` part"),
        "cut in its boundary": (MULTIPART, whole[:-9], "it ends inside the `file` part"),
        "empty": (MULTIPART, b"", "Could not find starting boundary"),
        "a part that is multipart itself": (MULTIPART, b'--xyz\r\nContent-Type: multipart/mixed\r\n'
                                            b'Content-Disposition: form-data; name="file"\r\n\r\nx\r\n--xyz--\r\n',
                                            "boundary missed"),
    }
    for case, (content_type, body, problem) in cases.items():
        reply = await api.call("POST", path, data=body, headers={"Content-Type": content_type})
        assert (reply.status, reply.body["code"]) == (400, "InvalidParameter"), (case, reply.body)
        assert reply.message.startswith("body: not a valid multipart/form-data body: ") \
            and problem in reply.message, (case, reply.message)
    data = await api.ok("POST", path, data=whole, headers={"Content-Type": MULTIPART})
    assert data["operations"] == 3
    assert failures(caplog) == []


async def test_tools_documents_nested_too_deep_or_holding_unreadable_values_are_refused(
        api: Api, ids: Ids, caplog: pytest.LogCaptureFixture) -> None:
    path = f"/v1/mcp-servers/{ids.server}/tools"
    yaml_cases = {
        "a YAML mapping 129 levels deep": (_nested_yaml(129), "body: nesting too deep"),
        "YAML flow 500 levels deep": ("server: " + _nested(500), "body: nesting too deep"),
        "YAML that contains itself": ("server: &a [*a]\n", "body: nesting too deep"),
        "a 5000-digit integer": ("server: {name: " + "9" * 5000 + "}", "body: invalid YAML: an integer has too many"),
        "a date no calendar has": ("server: {name: 2024-13-01}", "body: invalid YAML: a value cannot be read"),
        # "******" makes the registry look for stored credentials before it validates anything.
        "deep, with a masked credential": ('server: {name: "******", x: ' + _nested(500) + "}",
                                           "body: nesting too deep"),
    }
    for case, (text, message) in yaml_cases.items():
        reply = await api.call("PUT", path, data=text, headers={"Content-Type": "application/yaml"})
        assert (reply.status, reply.message[:len(message)]) == (400, message), (case, reply.message)
    for text in ('{"server":' + _nested(100_000) + "}", '{"credential":"******","x":' + _nested(100_000) + "}"):
        reply = await api.call("PUT", path, data=text, headers={"Content-Type": "application/json"})
        assert (reply.status, reply.message[:22]) == (400, "body: nesting too deep"), reply.message
    spec = {"name": "spec", "mcpServerConfig": {"mcpServerSpec": _nested_yaml(200)}}
    reply = await api.call("POST", "/v1/mcp-servers", json=spec)
    assert (reply.status, reply.message[:47]) == (400, "mcpServerConfig.mcpServerSpec: nesting too deep")
    assert failures(caplog) == []


async def test_openapi_documents_nested_too_deep_or_holding_unreadable_values_are_refused(
        api: Api, ids: Ids, caplog: pytest.LogCaptureFixture) -> None:
    path = f"/v1/mcp-servers/{ids.server}/tools/import:preview"
    schema: object = {"type": "string"}
    for _ in range(70):  # 140 levels of JSON: properties, then the property's schema
        schema = {"type": "object", "properties": {"p": schema}}
    document = {"openapi": "3.0.3", "info": {"title": "deep", "version": "1"}, "paths": {"/x": {"post": {
        "operationId": "x", "requestBody": {"content": {"application/json": {"schema": schema}}},
        "responses": {"200": {"description": "ok"}}}}}}
    cases = {
        "JSON": (json.dumps(document), "application/json", "document: nesting too deep"),
        "JSON 100,000 levels deep": ('{"openapi":' + _nested(100_000) + "}", "application/json",
                                     "document: nesting too deep"),
        "YAML": (_nested_yaml(200), "application/yaml", "document: nesting too deep"),
        "a 5000-digit integer": ('{"openapi": ' + "9" * 5000 + "}", "application/json",
                                 "document: is neither JSON nor YAML: an integer has too many digits"),
    }
    for case, (text, content_type, message) in cases.items():
        reply = await api.call("POST", path, data=text, headers={"Content-Type": content_type})
        assert (reply.status, reply.message[:len(message)]) == (400, message), (case, reply.message)
    swagger = {"name": "deep-swagger", "mcpServerConfig": {"swaggerConfig": json.dumps(document)}}
    reply = await api.call("POST", "/v1/mcp-servers", json=swagger)
    assert (reply.status, "nesting too deep" in reply.message) == (400, True), reply.message
    assert failures(caplog) == []


async def test_a_remote_jwks_given_as_json_nested_too_deep_is_malformed(api: Api, ids: Ids,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    config = {"type": "Jwt", "secretType": "Asymmetry", "issuer": "i", "remoteJwks": '{"uri":' + _nested(30_000) + "}"}
    reply = await api.call("POST", "/v1/consumers", json={"name": "jwt", "jwtIdentityConfig": config})
    assert (reply.status, reply.message) == (400, 'jwtIdentityConfig.remoteJwks: must be {"uri": "https://…"} '
                                                  "(malformed JSON)")
    config = {"type": "Jwt", "secretType": "Asymmetry", "issuer": "i", "jwks": '{"keys":' + _nested(30_000) + "}"}
    reply = await api.call("POST", "/v1/consumers", json={"name": "jwt", "jwtIdentityConfig": config})
    assert reply.status == 400 and "malformed JSON" in reply.message
    assert failures(caplog) == []
