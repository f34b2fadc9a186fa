"""Tools documents: validation messages, the YAML round trip, and what the data plane is given."""

from __future__ import annotations

import base64
import json

import jsonschema
import msgspec
import pytest
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.servers.snapshots import build_snapshot
from mcpgw_registry.resources.tools.document import invalid_tools, parse_tools, validate_document

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.contracts.registry import ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.tools_samples import WEATHER_YAML, WEATHER_YAML_MASKED, one_tool

YAML = {"Content-Type": "application/yaml"}


def _fails(text: str, fmt: str = "yaml") -> str:
    with pytest.raises(McpgwError) as caught:
        parse_tools(text, fmt)  # type: ignore[arg-type]
    assert caught.value.code is ErrorCode.INVALID_PARAMETER
    return caught.value.message


def _tool(body: str) -> str:
    """A document with one tool whose fields are the indented `body` lines."""
    return "server:\n  name: s\n  config: {base: 'https://api.example.com'}\ntools:\n  - name: t\n" + body


@pytest.mark.parametrize(("text", "message"), [
    ("", "body: the tools document is empty"),
    ("- a\n- b\n", "body: must be a mapping"),
    ("server:\n  name: s\n tools: [\n", "body: invalid YAML at line 3"),
    ("tools: []\n", "server: is required"),
    ("server:\n  name: s\n  nmae: x\n", "server.nmae: unknown field"),
    ("server: {name: s, type: quark-search}\n", "server.type: only `rest` is supported"),
    (one_tool(url="https://{{.args.host}}/x"), "tools[0].requestTemplate.url: arguments may not determine"),
    (one_tool(url="https://api.example.com:{{.args.port}}/x"), "tools[0].requestTemplate.url: arguments may not"),
    # "/relative" is a path on the server's backendConfig (checked with the server); "//" never is.
    (one_tool(url="//relative"), "tools[0].requestTemplate.url: must be an absolute http or https URL"),
    (one_tool(url="ftp://host/x"), "tools[0].requestTemplate.url: must be an absolute http or https URL"),
    (one_tool(url="https://h/{{ .args.x "), "tools[0].requestTemplate.url: template syntax error"),
    ("server: {name: s}\ntools:\n  - name: t\n    requestTemplate: {url: 5}\n",
     "tools[0].requestTemplate.url: expected `str`, got `int`"),
    (one_tool(method="FETCH"), "tools[0].requestTemplate.method: must be one of GET, POST"),
    (one_tool(argsToJsonBody="true", argsToUrlParam="true"), "tools[0].requestTemplate: only one of argsToJsonBody"),
    (one_tool(headers="[{key: 'Bad Header', value: x}]"), "tools[0].requestTemplate.headers[0].key: must be a valid"),
    (one_tool(headers="[{key: X-A, value: \"a\\r\\nb\"}]"), "tools[0].requestTemplate.headers[0].value: must not"),
    (one_tool(headers="[{key: X-A, value: '{{ if }}'}]"), "tools[0].requestTemplate.headers[0].value: template"),
    (one_tool(body="'{{ .args.x '"), "tools[0].requestTemplate.body: template syntax error"),
    (one_tool(security="{id: nope}"), "tools[0].requestTemplate.security.id: refers to no server.securitySchemes"),
    (_tool("    description: x\n"), "tools[0].responseTemplate.body: is required when requestTemplate.url is empty"),
    (_tool("    responseTemplate: {body: a, appendBody: b}\n"),
     "tools[0].responseTemplate.body: cannot be combined with prependBody or appendBody"),
    (_tool("    responseTemplate: {prependBody: '{{ .x '}\n    requestTemplate: {url: 'https://h/'}\n"),
     "tools[0].responseTemplate.prependBody: template syntax error"),
    (_tool("    args: [{name: a}, {name: a}]\n    responseTemplate: {body: x}\n"),
     "tools[0].args[1].name: duplicates another argument"),
    (_tool("    args: [{name: id, position: path}]\n    requestTemplate: {url: 'https://h/items'}\n"),
     "tools[0].args[0].position: is path but requestTemplate.url has no {id} placeholder"),
    (_tool("    args: [{name: a, type: text}]\n    responseTemplate: {body: x}\n"),
     "tools[0].args[0].type: invalid enum value 'text'"),
    (_tool("    args: [{name: a, type: array, items: {type: strng}}]\n    responseTemplate: {body: x}\n"),
     "tools[0].args[0].items.type: must be one of"),
    (_tool("    args: [{name: a, type: object, properties: {p: 5}}]\n    responseTemplate: {body: x}\n"),
     "tools[0].args[0].properties.p: must be a JSON Schema object or boolean"),
    (_tool("    inputSchema: {type: array}\n    responseTemplate: {body: x}\n"),
     "tools[0].inputSchema.type: must be \"object\""),
    (_tool("    outputSchema: {type: object, required: x}\n    responseTemplate: {body: x}\n"),
     "tools[0].outputSchema.required: must be a list of property names"),
    (_tool("    annotations: {readOnlyHint: maybe}\n    responseTemplate: {body: x}\n"),
     "tools[0].annotations.readOnlyHint: must be true or false"),
    ("server: {name: s}\ntools:\n  - {name: 'bad name', responseTemplate: {body: x}}\n",
     "tools[0].name: must be 1 to 128 characters"),
    ("server: {name: s}\ntools:\n  - {name: a, responseTemplate: {body: x}}\n"
     "  - {name: a, responseTemplate: {body: y}}\n", "tools[1].name: duplicates the name of tools[0]"),
    ("server:\n  name: s\n  securitySchemes: [{id: b, type: http}]\n", "server.securitySchemes[0].scheme: is required"),
    ("server:\n  name: s\n  securitySchemes: [{id: k, type: apiKey, name: X-Key}]\n",
     "server.securitySchemes[0].in: is required"),
    ("server:\n  name: s\n  securitySchemes: [{id: k, type: apiKey, in: header}]\n",
     "server.securitySchemes[0].name: is required"),
    ("server:\n  name: s\n  defaultUpstreamSecurity: {id: x}\n",
     "server.defaultUpstreamSecurity.id: refers to no server.securitySchemes entry"),
    ("server: {name: s}\ntoolSet: {name: x}\n", "toolSet: is not supported"),
    ('{"server": {"name": "s"}, "tools": [{"name": "t", "requestTemplate": {"url": "nope"}}]}',
     "tools[0].requestTemplate.url: must be an absolute"),
])
def test_validation_messages_start_with_the_field(text: str, message: str) -> None:
    got = _fails(text)
    assert got.startswith(message), got


def test_tools_checked_already_are_not_walked_again_and_edited_ones_are() -> None:
    valid = parse_tools(one_tool("https://api.example.com/{id}", method="GET").replace(
        "    requestTemplate:", "    args: [{name: id, position: path}]\n    requestTemplate:"))
    tool = valid.tools[0]
    edited = msgspec.structs.replace(valid, tools=[
        msgspec.structs.replace(tool, args=[msgspec.structs.replace(tool.args[0], name="other")])])
    assert invalid_tools(edited) == {0: "args[0].position: is path but requestTemplate.url has no {other} placeholder"}
    with pytest.raises(McpgwError, match=r"^tools\[0\]\.args\[0\]\.position: is path"):
        validate_document(edited, checked=valid.tools)  # differs from what was checked: walked
    validate_document(edited, checked=edited.tools)  # the caller vouches for these: only names and server


def test_json_documents_and_alias_bombs() -> None:
    assert _fails("{not json", "json").startswith("body: malformed JSON")
    doc = parse_tools(json.dumps({"server": {"name": "s"}, "tools": []}), "json")
    assert doc.server.name == "s"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    assert _fails(bomb).startswith("body: document is too large")


def test_snapshot_listing_and_schemas_are_valid() -> None:
    record = ServerRecord(id="mcp-aaaaaaaaaaaaaaaa", name="weather", tools_text=WEATHER_YAML,
                          consumer_auth=True, statistics=True, description="d")
    snapshot = build_snapshot(record, 7)
    assert (snapshot.server_id, snapshot.name, snapshot.revision) == ("mcp-aaaaaaaaaaaaaaaa", "weather", 7)
    assert snapshot.consumer_auth and snapshot.statistics and snapshot.server is not None
    assert snapshot.server.config == {"base": "https://api.example.com"}
    # `hidden` is disabled; methods reach the data plane upper-cased.
    assert [t.name for t in snapshot.tools] == ["get_forecast", "echo.text"]
    assert snapshot.tools[0].request_template.method == "GET"
    entries = [json.loads(bytes(item.entry)) for item in snapshot.listing]
    assert [item.name for item in snapshot.listing] == [e["name"] for e in entries]
    forecast, echo = entries
    assert forecast["title"] == "Forecast" and forecast["annotations"] == {"readOnlyHint": True}
    assert forecast["inputSchema"] == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "days": {"type": "integer", "enum": [1, 3, 7], "default": 3},
            "tags": {"type": "array", "items": {"type": "string"}},
            "region": {"type": "string"},
            "opts": {"type": "object", "properties": {"metric": {"type": "boolean"}}},
        },
        "required": ["city", "region"],
    }
    assert echo["outputSchema"]["properties"] == {"said": {"type": "string"}}
    assert "title" not in echo and echo["description"] == "Answers without calling a backend"
    for entry in entries:
        jsonschema.Draft202012Validator.check_schema(entry["inputSchema"])
        if "outputSchema" in entry:
            jsonschema.Draft202012Validator.check_schema(entry["outputSchema"])


def test_allow_tools_and_no_required() -> None:
    text = ("server: {name: s}\nallowTools: [b]\ntools:\n"
            "  - {name: a, responseTemplate: {body: x}}\n"
            "  - {name: b, args: [{name: q}], responseTemplate: {body: y}}\n")
    record = ServerRecord(id="mcp-bbbbbbbbbbbbbbbb", name="s", tools_text=text)
    snapshot = build_snapshot(record, 1)
    assert [t.name for t in snapshot.tools] == ["b"]
    entry = json.loads(bytes(snapshot.listing[0].entry))
    assert entry["inputSchema"] == {"type": "object", "properties": {"q": {"type": "string"}}}
    jsonschema.Draft202012Validator.check_schema(entry["inputSchema"])
    # A snapshot crosses the bus as JSON; it must encode and decode cleanly.
    assert msgspec.json.decode(msgspec.json.encode(snapshot), type=type(snapshot)).tools[0].name == "b"


async def test_put_and_get_round_trip_verbatim(api: Api) -> None:
    server_id = await api.create_server("weather")
    empty = await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")
    assert empty.status == 200 and empty.headers["Content-Type"] == "application/yaml"
    assert empty.body == "server:\n  name: weather\ntools: []\n"
    parse_tools(empty.body)  # the minimal document is itself valid

    put = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML.encode(), headers=YAML)
    assert put["mcpServerId"] == server_id and put["tools"] == ["get_forecast", "echo.text", "hidden"]
    got = await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")
    assert got.status == 200 and got.body == WEATHER_YAML_MASKED
    assert got.headers["Content-Type"] == "application/yaml"
    resource = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert resource["mcpServerConfig"] == base64.b64encode(WEATHER_YAML_MASKED.encode()).decode()
    assert resource["revision"] == put["revision"]

    as_json = json.dumps({"server": {"name": "j"}, "tools": [{"name": "z", "responseTemplate": {"body": "ok"}}]})
    put = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=as_json,
                       headers={"Content-Type": "application/json"})
    assert put["tools"] == ["z"]
    assert (await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")).body == as_json


async def test_put_tools_errors(api: Api) -> None:
    server_id = await api.create_server("tools-errors")
    path = f"/v1/mcp-servers/{server_id}/tools"
    wrong_type = await api.call("PUT", path, data=WEATHER_YAML, headers={"Content-Type": "text/plain"})
    assert (wrong_type.status, wrong_type.body["code"]) == (415, "UnsupportedMediaType")
    bad_field = await api.call("PUT", path, data="server: {name: s}\ntools:\n  - name: t\n"
                                                 "    requestTemplate: {url: [1]}\n", headers=YAML)
    assert bad_field.status == 400 and bad_field.message.startswith("tools[0].requestTemplate.url: ")
    host = await api.call("PUT", path, data=one_tool(url="https://{{.args.host}}/x"), headers=YAML)
    assert host.status == 400 and host.message.startswith("tools[0].requestTemplate.url: arguments may not")
    broken = await api.call("PUT", path, data="server:\n  name: [\n", headers={"Content-Type": "text/yaml"})
    assert broken.status == 400 and broken.message.startswith("body: invalid YAML at line 2")
    not_utf8 = await api.call("PUT", path, data=b"\xff\xfe", headers=YAML)
    assert not_utf8.status == 400 and not_utf8.message == "body: must be UTF-8 text"
    # None of that changed the server.
    assert (await api.call("GET", path)).body == "server:\n  name: tools-errors\ntools: []\n"


async def test_compiled_tools_larger_than_a_nats_message(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("big-compiled")
    # A small document whose aliases expand past the NATS message size once compiled: the lookup
    # reply travels compressed and chunked (tests/registry/stores/test_server_storage.py has the bound).
    long_text = "x" * 100_000
    tools = "".join(f"  - {{name: t{i}, description: *d, responseTemplate: {{body: ok}}}}\n" for i in range(15))
    text = f"server:\n  name: s\n  config: {{blob: &d {long_text}}}\ntools:\n{tools}"
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=text, headers=YAML)
    assert (await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")).body == text
    reply = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                              ServerLookupReply)
    assert reply.server is not None and len(reply.server.tools) == 15
    assert len(msgspec.json.encode(reply)) > bus.nc.max_payload
    assert all(t.description == long_text for t in reply.server.tools)
