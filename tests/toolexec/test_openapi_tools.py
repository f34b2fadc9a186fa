"""Imported OpenAPI tools, end to end: the converter's YAML, toolexec on the real bus, aiohttp backends.

Each test imports a real document (Petstore v2 / v3, the 3.1 Museum API) or a small one written
for the encodings the real ones lack, points it at a recording backend, and checks exactly what
the backend received: method, raw path, raw query, headers and body.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
from typing import Any

import msgspec
import yaml
from aiohttp import web
from mcpgw_registry.importing.openapi import ImportOptions, convert
from mcpgw_toolexec.service import ToolexecService

from mcpgw.runtime.bus import Bus
from tests.specs import raw as spec
from tests.toolexec.rig import Echo, FakeRegistry, call, text_of


def install(registry: FakeRegistry, raw: bytes | str, base_url: str, credentials: dict[str, str] | None = None,
            *, server_id: str = "s1", server: dict[str, Any] | None = None) -> dict[str, Any]:
    """Import, fill in the operator's credentials, and publish through YAML as the registry stores it."""
    result = convert(raw, ImportOptions(base_url=base_url, server_name="imported"))
    doc = msgspec.to_builtins(result.document)
    doc["server"].update(server or {})
    for scheme in doc["server"].get("securitySchemes", []):
        if credentials and scheme["id"] in credentials:
            scheme["defaultCredential"] = credentials[scheme["id"]]
    registry.publish(server_id, 1, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return {tool["name"]: tool for tool in doc["tools"]}


def parts(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(field name, file name, content) of each part of a multipart body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    out: list[tuple[str, str | None, bytes]] = []
    for part in message.iter_parts():
        disposition: Any = part.get("Content-Disposition")
        payload: Any = part.get_payload(decode=True)
        out.append((disposition.params["name"], disposition.params.get("filename"), payload))
    return out


async def _json(request: web.Request, value: Any) -> web.StreamResponse:
    return web.json_response(value)


# -- Swagger 2.0: Petstore v2 ---------------------------------------------------------------


async def test_petstore_v2(toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    pets = [{"id": 1, "name": "Rex", "photoUrls": []}, {"id": 2, "name": "Tom", "photoUrls": []}]
    echo.routes["/v2/pet/findByStatus"] = lambda request: _json(request, pets)
    tools = install(registry, spec("petstore-v2.swagger.json"), echo.url + "/v2",
                    {"api_key": "key-123", "petstore_auth": "oauth-token"})
    assert "api_key" not in {a["name"] for a in tools["deletePet"]["args"]}  # the scheme's, not the model's

    # collectionFormat multi: one `status=` per value; the response array becomes {result: [...]}.
    result = await call(bus, "s1", "findPetsByStatus", {"status": ["available", "sold"]})
    assert result["isError"] is False, result
    seen = echo.last
    assert (seen.method, seen.path, seen.query) == ("GET", "/v2/pet/findByStatus", "status=available&status=sold")
    assert seen.headers["Authorization"] == "Bearer oauth-token"
    assert seen.body == b""
    assert result["structuredContent"] == {"result": pets}

    # `api_key OR petstore_auth`: the first alternative with a credential, the api_key header.
    await call(bus, "s1", "getPetById", {"petId": 7})
    seen = echo.last
    assert (seen.method, seen.path, seen.query) == ("GET", "/v2/pet/7", "")
    assert seen.headers["api_key"] == "key-123" and "Authorization" not in seen.headers

    # A JSON body from flattened fields (nested objects stay objects).
    pet = {"id": 10, "name": "doggie", "category": {"id": 1, "name": "Dogs"}, "photoUrls": ["u1"],
           "tags": [{"id": 3, "name": "t"}], "status": "available"}
    await call(bus, "s1", "addPet", pet)
    seen = echo.last
    assert (seen.method, seen.path) == ("POST", "/v2/pet")
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == pet

    # formData -> application/x-www-form-urlencoded
    await call(bus, "s1", "updatePetWithForm", {"petId": "5", "name": "Rex Jr", "status": "sold&gone"})
    seen = echo.last
    assert (seen.method, seen.path, seen.query) == ("POST", "/v2/pet/5", "")
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.body == b"name=Rex+Jr&status=sold%26gone"

    # formData with `type: file` -> multipart, the base64 argument decoded into a file part.
    image = bytes(range(256))
    await call(bus, "s1", "uploadFile", {"petId": 5, "additionalMetadata": "a photo",
                                          "file": base64.b64encode(image).decode()})
    seen = echo.last
    assert (seen.method, seen.path) == ("POST", "/v2/pet/5/uploadImage")
    assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert parts(seen.headers["Content-Type"], seen.body) == [
        ("additionalMetadata", None, b"a photo"), ("file", "file", image)]

    # A non-object body (array root) is the `body` argument, sent as the JSON array itself.
    users = [{"username": "a"}, {"username": "b"}]
    await call(bus, "s1", "createUsersWithArrayInput", {"body": users})
    assert json.loads(echo.last.body) == users and echo.last.path == "/v2/user/createWithArray"

    # Path values are percent-encoded; query values too.
    await call(bus, "s1", "getUserByName", {"username": "a b/c?"})
    assert echo.last.path == "/v2/user/a%20b%2Fc%3F"
    await call(bus, "s1", "loginUser", {"username": "u&1", "password": "p w"})
    assert echo.last.query == "username=u%261&password=p%20w"

    # DELETE with a path parameter; the api_key header parameter is not an argument.
    await call(bus, "s1", "deletePet", {"petId": 9, "api_key": "from-the-model"})
    seen = echo.last
    assert (seen.method, seen.path, seen.body) == ("DELETE", "/v2/pet/9", b"")
    assert "api_key" not in seen.headers and seen.headers["Authorization"] == "Bearer oauth-token"


# -- OpenAPI 3.0: Petstore v3 ---------------------------------------------------------------


async def test_petstore_v3(toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    tools = install(registry, spec("petstore-v3.openapi.yaml"), echo.url + "/api/v3", {"api_key": "k3"})

    # Query array, form + explode (the 3.x default).
    await call(bus, "s1", "findPetsByTags", {"tags": ["a b", "c,d"]})
    seen = echo.last
    assert (seen.method, seen.path, seen.query) == ("GET", "/api/v3/pet/findByTags", "tags=a%20b&tags=c%2Cd")
    # petstore_auth has no credential configured: sent without one.
    assert "Authorization" not in seen.headers

    # application/octet-stream: the base64 `body` argument is the raw request body.
    payload = b"\x89PNG\r\n\x1a\n\x00binary"
    await call(bus, "s1", "uploadFile", {"petId": 3, "additionalMetadata": "meta data",
                                          "body": base64.b64encode(payload).decode()})
    seen = echo.last
    assert (seen.method, seen.path, seen.query) == ("POST", "/api/v3/pet/3/uploadImage",
                                                    "additionalMetadata=meta%20data")
    assert seen.headers["Content-Type"] == "application/octet-stream"
    assert seen.body == payload

    # A path parameter and a body field both named `username`: the parameter becomes username__path.
    assert {a["name"]: a.get("wireName") for a in tools["updateUser"]["args"]}["username__path"] == "username"
    await call(bus, "s1", "updateUser", {"username__path": "old name", "username": "new", "email": "e@x"})
    seen = echo.last
    assert (seen.method, seen.path) == ("PUT", "/api/v3/user/old%20name")
    assert json.loads(seen.body) == {"username": "new", "email": "e@x"}

    # Query parameters on a POST without body; api_key header from the scheme.
    await call(bus, "s1", "updatePetWithForm", {"petId": 4, "name": "n", "status": "sold"})
    assert (echo.last.method, echo.last.path, echo.last.query) == ("POST", "/api/v3/pet/4", "name=n&status=sold")
    await call(bus, "s1", "getInventory")
    assert echo.last.headers["api_key"] == "k3" and echo.last.path == "/api/v3/store/inventory"

    # Optional arguments sent as null are omitted, never sent as "null".
    await call(bus, "s1", "loginUser", {"username": "u", "password": None})
    assert echo.last.query == "username=u"


# -- OpenAPI 3.1: the Museum API ------------------------------------------------------------


async def test_museum_openapi_31(toolexec: ToolexecService, registry: FakeRegistry, echo: Echo,
                                 bus: Bus) -> None:
    png = b"\x89PNG\r\n\x1a\nqr"

    async def qr(request: web.Request) -> web.StreamResponse:
        return web.Response(body=png, content_type="image/png")

    echo.routes["/museum/tickets/t-1/qr"] = qr
    install(registry, spec("museum-api.openapi31.yaml"), echo.url + "/museum",
            {"MuseumPlaceholderAuth": "curator:s3cret"})
    basic = "Basic " + base64.b64encode(b"curator:s3cret").decode()

    # `$ref` parameters (components/parameters) resolved into query arguments; a documented
    # default fills a missing argument, as in any Higress tool.
    await call(bus, "s1", "listSpecialEvents", {"startDate": "2024-01-01", "limit": 5})
    seen = echo.last
    assert (seen.method, seen.path, seen.query) == ("GET", "/museum/special-events",
                                                    "startDate=2024-01-01&page=1&limit=5")
    assert seen.headers["Authorization"] == basic

    event = {"name": "Pirate Coding", "location": "Seven Seas Gallery", "eventDescription": "Arr",
             "dates": ["2024-10-29", "2024-10-30"], "price": 25}
    await call(bus, "s1", "createSpecialEvent", event)
    seen = echo.last
    assert (seen.method, seen.path, seen.headers["Content-Type"]) == (
        "POST", "/museum/special-events", "application/json")
    assert json.loads(seen.body) == event

    await call(bus, "s1", "updateSpecialEvent", {"eventId": "e 1", "price": 30})
    seen = echo.last
    assert (seen.method, seen.path) == ("PATCH", "/museum/special-events/e%201")
    assert json.loads(seen.body) == {"price": 30}

    result = await call(bus, "s1", "getTicketCode", {"ticketId": "t-1"})
    assert result["content"] == [{"type": "image", "data": base64.b64encode(png).decode(), "mimeType": "image/png"}]


# -- The encodings the acceptance documents do not use ----------------------------------------

STYLES = """
openapi: 3.0.3
info: {title: styles, version: "1"}
servers: [{url: "https://styles.example/api"}]
components:
  securitySchemes:
    key_query: {type: apiKey, in: query, name: key}
    session: {type: apiKey, in: cookie, name: sid}
    token: {type: http, scheme: bearer}
paths:
  /items/{ids}/{label}/{matrix}:
    parameters:
      - {name: ids, in: path, required: true, schema: {type: array, items: {type: integer}}}
    get:
      operationId: styles
      security: [{token: []}, {key_query: [], session: []}]
      parameters:
        - {name: label, in: path, required: true, style: label, explode: true, schema: {type: array, items: {}}}
        - {name: matrix, in: path, required: true, style: matrix, schema: {type: array, items: {}}}
        - {name: filter, in: query, style: deepObject, explode: true, schema: {type: object}}
        - {name: csv, in: query, explode: false, schema: {type: array, items: {type: string}}}
        - {name: pipes, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {}}}
        - {name: spaces, in: query, style: spaceDelimited, explode: false, schema: {type: array, items: {}}}
        - {name: point, in: query, schema: {type: object, properties: {x: {type: integer}, y: {type: integer}}}}
        - {name: flag, in: query, schema: {type: boolean}}
        - {name: X-Tags, in: header, schema: {type: array, items: {type: string}}}
        - {name: theme, in: cookie, schema: {type: string}}
        - {name: id, in: query, schema: {type: string}}
        - {name: id, in: header, schema: {type: string}}
        - {name: Accept, in: header, schema: {type: string}}
      responses: {"200": {description: ok}}
  /forms:
    post:
      operationId: form
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                metadata: {type: object, additionalProperties: {type: string}}
                items: {type: array, items: {type: object}}
                expand: {type: array, items: {type: string}}
                tags: {type: array, items: {type: string}}
                note: {type: string}
                "odd name!": {type: string}
            encoding:
              expand: {style: deepObject, explode: true}
      responses: {"200": {description: ok}}
  /notes:
    post:
      operationId: note
      requestBody:
        required: true
        content:
          text/plain: {schema: {type: string}}
      responses: {"200": {description: ok}}
"""


async def test_styles_bodies_and_security(toolexec: ToolexecService, registry: FakeRegistry, echo: Echo,
                                          bus: Bus) -> None:
    tools = install(registry, STYLES, echo.url + "/api", {"key_query": "qk", "session": "s-1"})
    args = {a["name"]: a for a in tools["styles"]["args"]}
    assert {"id__query", "id__header"} <= args.keys() and "Accept" not in args

    await call(bus, "s1", "styles", {
        "ids": [1, 2], "label": ["a", "b c"], "matrix": ["x", "y"],
        "filter": {"status": "open", "created": {"gte": 5}, "tags": ["p", "q"]},
        "csv": ["a", "b,c"], "pipes": ["1", "2"], "spaces": ["s", "t"], "point": {"x": 1, "y": 2}, "flag": True,
        "X-Tags": ["t1", "t2"], "theme": "dark mode", "id__query": "q", "id__header": "h",
    })
    seen = echo.last
    assert seen.path == "/api/items/1,2/.a.b%20c/;matrix=x,y"
    assert seen.query == ("filter[status]=open&filter[created][gte]=5&filter[tags][0]=p&filter[tags][1]=q"
                          "&csv=a,b%2Cc&pipes=1|2&spaces=s%20t&x=1&y=2&flag=true&id=q&key=qk")
    assert seen.headers["X-Tags"] == "t1,t2" and seen.headers["id"] == "h"
    # Both schemes of the AND alternative (bearer, listed first, has no credential).
    assert seen.headers["Cookie"] == "theme=dark%20mode; sid=s-1"
    assert "Authorization" not in seen.headers

    await call(bus, "s1", "form", {"metadata": {"order_id": "6735", "note": "a&b"}, "items": [{"price": "p1"}],
                                   "expand": ["customer", "invoice"], "tags": ["x", "y"], "note": "",
                                   "odd_name": "v"})
    seen = echo.last
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.body.decode() == ("metadata[order_id]=6735&metadata[note]=a%26b&items[0][price]=p1"
                                  "&expand[0]=customer&expand[1]=invoice&tags=x&tags=y&note=&odd+name%21=v")

    await call(bus, "s1", "note", {"body": "plain text\nsecond line"})
    seen = echo.last
    assert seen.headers["Content-Type"] == "text/plain" and seen.body == b"plain text\nsecond line"
    result = await call(bus, "s1", "note", {})
    assert result["isError"] is True and text_of(result) == "missing required argument: body"


async def test_requirements_without_credentials_fall_back_to_the_server_default(
        toolexec: ToolexecService, registry: FakeRegistry, echo: Echo, bus: Bus) -> None:
    install(registry, STYLES, echo.url + "/api", server={
        "securitySchemes": [{"id": "key_query", "type": "apiKey", "in": "query", "name": "key"},
                            {"id": "session", "type": "apiKey", "in": "cookie", "name": "sid"},
                            {"id": "token", "type": "http", "scheme": "bearer"},
                            {"id": "gateway", "type": "apiKey", "in": "header", "name": "X-Gateway-Key"}],
        "defaultUpstreamSecurity": {"id": "gateway", "credential": "gw"}})
    await call(bus, "s1", "styles", {"ids": [1], "label": ["a"], "matrix": ["b"]})
    seen = echo.last
    assert seen.headers["X-Gateway-Key"] == "gw" and seen.query == "" and "Cookie" not in seen.headers
    # `form` has no security requirement at all: the server default applies as to any YAML tool.
    await call(bus, "s1", "form", {"note": "n"})
    assert echo.last.headers["X-Gateway-Key"] == "gw"


async def test_bad_base64_is_a_tool_error(toolexec: ToolexecService, registry: FakeRegistry, echo: Echo,
                                          bus: Bus) -> None:
    install(registry, spec("petstore-v3.openapi.yaml"), echo.url + "/api/v3")
    result = await call(bus, "s1", "uploadFile", {"petId": 1, "body": "not base64!"})
    assert result["isError"] is True and text_of(result) == "argument body: not valid base64"
    assert echo.seen == []
