"""The OpenAPI import workflow over the admin API: preview, apply, incremental re-import with overrides."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import msgspec
import pytest
import yaml
from mcpgw_registry.resources.tools.document import parse_tools
from mcpgw_registry.service import RegistryService

from tests.registry.conftest import Api, settings_for
from tests.registry.openapi_docs import v1, v2

YAML = {"Content-Type": "application/yaml"}


def _tools(path: str) -> str:
    return f"{path}/tools"


async def _server(api: Api, name: str = "pets") -> str:
    return await api.create_server(name)


async def _import(api: Api, server_id: str, doc: str, *, preview: bool = False, query: str = "") -> Any:
    action = "import:preview" if preview else "import"
    return await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/{action}{query}", data=doc, headers=YAML)


async def _yaml(api: Api, server_id: str) -> dict[str, Any]:
    reply = await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/yaml")
    parse_tools(reply.body)  # always a valid document
    data: dict[str, Any] = yaml.safe_load(reply.body)
    return data


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in doc["tools"]}


async def _revision(api: Api, server_id: str) -> int:
    return int((await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["revision"])


async def test_preview_changes_nothing(api: Api) -> None:
    server_id = await _server(api)
    before = await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")
    revision = await _revision(api, server_id)

    data = await _import(api, server_id, v1(), preview=True)
    assert data["tools"] == ["listPets", "getPet", "deletePet"]
    assert data["added"] == ["listPets", "getPet", "deletePet"]
    assert (data["changed"], data["removed"], data["unchanged"]) == ([], [], 0)
    assert data["skipped"] == [] and data["operations"] == 3
    assert data["applied"] is False and data["revision"] == revision
    preview_doc = parse_tools(data["yaml"])
    assert [t.source.operation_id for t in preview_doc.tools if t.source] == ["listPets", "getPet", "deletePet"]

    assert await _revision(api, server_id) == revision
    after = await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")
    assert after.body == before.body
    assert (await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import")) == {
        "mcpServerId": server_id, "imported": False, "revision": revision}


async def test_incremental_update_keeps_overrides(api: Api) -> None:
    server_id = await _server(api)
    first = await _import(api, server_id, v1())
    assert first["applied"] is True and first["tools"] == ["listPets", "getPet", "deletePet"]

    # Overrides through edited YAML: rename getPet and edit its description.
    doc = await _yaml(api, server_id)
    tools = _by_name(doc)
    tools["getPet"]["name"] = "fetch_pet"
    tools["getPet"]["description"] = "Fetch one pet by its id"
    put = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=yaml.safe_dump(doc, sort_keys=False),
                       headers=YAML)
    assert put["tools"] == ["listPets", "fetch_pet", "deletePet"] and put["notKept"] == []

    # ... and through PATCH: rename listPets, edit its description, a default and a hidden argument.
    patched = await api.ok("PATCH", f"/v1/mcp-servers/{server_id}/tools/listPets", json={
        "name": "list_pets", "description": "Every pet", "args": {"limit": {"default": 5, "hidden": True}}})
    assert patched["tool"] == "list_pets" and patched["source"] == "GET /pets"
    assert patched["override"] == {"name": "list_pets", "description": "Every pet",
                                   "args": {"limit": {"default": 5, "hidden": True}}}

    view = await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import")
    assert view["imported"] is True and view["operations"] == 3
    assert view["overrides"] == {
        "GET /pets": {"name": "list_pets", "description": "Every pet",
                      "args": {"limit": {"default": 5, "hidden": True}}},
        "GET /pets/{petId}": {"name": "fetch_pet", "description": "Fetch one pet by its id"},
    }

    revision = await _revision(api, server_id)
    preview = await _import(api, server_id, v2(), preview=True)
    assert preview["added"] == ["createPet"]
    assert preview["removed"] == ["deletePet"]
    assert preview["changed"] == [{"tool": "fetch_pet", "fields": ["args", "inputSchema", "operationId"]}]
    assert preview["unchanged"] == 1
    assert preview["tools"] == ["list_pets", "createPet", "fetch_pet"]
    assert await _revision(api, server_id) == revision

    applied = await _import(api, server_id, v2())
    assert {k: applied[k] for k in ("added", "changed", "removed", "unchanged", "tools")} == \
        {k: preview[k] for k in ("added", "changed", "removed", "unchanged", "tools")}
    assert applied["applied"] is True and applied["revision"] > revision
    tools = _by_name(await _yaml(api, server_id))
    assert set(tools) == {"list_pets", "fetch_pet", "createPet"}
    assert tools["fetch_pet"]["description"] == "Fetch one pet by its id"
    assert tools["fetch_pet"]["source"]["operationId"] == "showPetById"
    assert "fields" in tools["fetch_pet"]["inputSchema"]["properties"]
    assert tools["list_pets"]["description"] == "Every pet"
    assert "limit" not in tools["list_pets"]["inputSchema"].get("properties", {})
    assert next(a for a in tools["list_pets"]["args"] if a["name"] == "limit")["default"] == 5
    view = await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import")
    assert set(view["overrides"]) == {"GET /pets", "GET /pets/{petId}"}

    again = await _import(api, server_id, v2())
    assert (again["added"], again["changed"], again["removed"], again["unchanged"]) == ([], [], [], 3)
    assert again["applied"] is False and again["revision"] == applied["revision"]


async def test_an_operation_id_change_keeps_the_tool_name(api: Api) -> None:
    server_id = await _server(api)
    await _import(api, server_id, v1())
    data = await _import(api, server_id, v2())
    assert data["changed"] == [{"tool": "getPet", "fields": ["args", "inputSchema", "operationId"],
                                "specName": "showPetById"}]
    assert "getPet" in data["tools"] and "showPetById" not in data["tools"]
    # Renaming to the spec's name is an explicit PATCH.
    renamed = await api.ok("PATCH", f"/v1/mcp-servers/{server_id}/tools/getPet", json={"name": None})
    assert renamed["tool"] == "showPetById" and renamed["override"] == {}


async def test_patch_rules(api: Api) -> None:
    server_id = await _server(api)
    base = f"/v1/mcp-servers/{server_id}/tools"
    plain = await api.call("PATCH", f"{base}/x", json={"name": "y"})
    assert plain.status == 400 and plain.message.startswith("mcpServerId: MCP server 'pets' has no tools from an")
    await _import(api, server_id, v1())

    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("nope", {"name": "x"}, 404, "tool: MCP server 'pets' has no tool 'nope'"),
        ("getPet", {"name": "bad name"}, 400, "name: must be 1 to 128 characters"),
        ("getPet", {"name": "listPets"}, 409, "name: MCP server 'pets' already has a tool named 'listPets'"),
        ("getPet", {"args": {"nope": {"hidden": True}}}, 400, "args.nope: the tool has no argument 'nope'"),
        ("getPet", {"args": {"petId": {"hidden": True}}}, 400,
         "args.petId.hidden: argument 'petId' is required and has no default"),
        ("getPet", {"colour": "red"}, 400, "colour: unknown field"),
        ("getPet", {"disabled": "yes"}, 400, "disabled: expected `bool | null`"),
    ]
    for name, body, status, message in cases:
        reply = await api.call("PATCH", f"{base}/{name}", json=body)
        assert (reply.status, reply.message[:len(message)]) == (status, message), (name, body, reply.body)

    # set, then clear with null: back to what the document says
    await api.ok("PATCH", f"{base}/getPet", json={"description": "mine", "disabled": True,
                                                 "args": {"petId": {"default": 1, "hidden": True}}})
    tool = _by_name(await _yaml(api, server_id))["getPet"]
    assert tool["description"] == "mine" and tool["disabled"] is True
    assert "petId" not in tool["inputSchema"]["properties"]
    cleared = await api.ok("PATCH", f"{base}/getPet", json={"description": None, "disabled": None,
                                                           "args": {"petId": {"default": None, "hidden": False}}})
    assert cleared["override"] == {}
    tool = _by_name(await _yaml(api, server_id))["getPet"]
    assert tool["description"] == "Get a pet" and "disabled" not in tool
    assert tool["inputSchema"]["required"] == ["petId"]

    # A hand-written tool (no source) is edited with PUT, not PATCH.
    doc = await _yaml(api, server_id)
    doc["tools"].append({"name": "mine", "responseTemplate": {"body": "hi"}})
    await api.ok("PUT", base, data=yaml.safe_dump(doc), headers=YAML)
    reply = await api.call("PATCH", f"{base}/mine", json={"description": "x"})
    assert reply.status == 400 and reply.message.startswith("tool: 'mine' was not imported (it has no source)")


async def test_put_yaml_reports_edits_a_reimport_replaces(api: Api) -> None:
    server_id = await _server(api)
    await _import(api, server_id, v1())
    doc = await _yaml(api, server_id)
    tools = _by_name(doc)
    tools["getPet"]["requestTemplate"]["headers"] = [{"key": "X-Extra", "value": "1"}]
    # deleting an imported tool from the YAML disables it for good
    doc["tools"] = [t for t in doc["tools"] if t["name"] != "deletePet"]
    put = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=yaml.safe_dump(doc), headers=YAML)
    assert put["notKept"] == [{"tool": "getPet", "fields": ["requestTemplate"]}]
    view = await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import")
    assert view["overrides"] == {"DELETE /pets/{petId}": {"disabled": True}}

    again = await _import(api, server_id, v1())
    assert again["tools"] == ["listPets", "getPet"]  # deletePet stays disabled
    assert again["changed"] == [] and again["unchanged"] == 3
    tools = _by_name(await _yaml(api, server_id))
    assert tools["deletePet"]["disabled"] is True
    assert "headers" not in tools["getPet"]["requestTemplate"]


async def test_document_forms_and_errors(api: Api) -> None:
    server_id = await _server(api)
    path = f"/v1/mcp-servers/{server_id}/tools/import:preview"
    as_json = msgspec.json.encode(yaml.safe_load(v1()))
    data = await api.ok("POST", path, data=as_json, headers={"Content-Type": "application/json"})
    assert data["tools"] == ["listPets", "getPet", "deletePet"]

    form = aiohttp.FormData()
    form.add_field("file", v1().encode(), filename="pets.yaml", content_type="application/yaml")
    data = await api.ok("POST", path, data=form)
    assert data["operations"] == 3

    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="notes.txt")
    reply = await api.call("POST", path, data=form)  # type: ignore[arg-type]
    assert (reply.status, reply.message) == (400, "file: the multipart upload has no `file` part with the "
                                                  "OpenAPI document")

    reply = await api.call("POST", path, data=b"<xml/>", headers={"Content-Type": "application/xml"})
    assert reply.status == 415 and reply.body["code"] == "UnsupportedMediaType"
    reply = await api.call("POST", path, data=b"  ", headers=YAML)
    assert (reply.status, reply.message) == (400, "body: the OpenAPI document is empty")

    broken = v1().replace("schema: {type: string}", "schema: {$ref: '#/components/schemas/Tag'}")
    reply = await api.call("POST", path, data=broken, headers=YAML)
    assert reply.status == 400 and reply.body["code"] == "InvalidParameter"
    assert "#/components/schemas/Tag" in reply.message and "not found" in reply.message

    for query, message in [("?dryRun=true", "dryRun: unknown query parameter"),
                           ("?includeDeprecated=maybe", "includeDeprecated: must be true or false"),
                           ("?descriptionLimit=0", "descriptionLimit: must be an integer between 1")]:
        reply = await api.call("POST", path + query, data=v1(), headers=YAML)
        assert reply.status == 400 and reply.message.startswith(message), reply.body

    missing = await api.call("POST", "/v1/mcp-servers/mcp-0000000000000000/tools/import", data=v1(), headers=YAML)
    assert missing.status == 404


async def test_options_are_remembered(api: Api) -> None:
    server_id = await _server(api)
    await _import(api, server_id, v1(), query="?baseUrl=https://internal.example.com/api&descriptionLimit=5")
    doc = await _yaml(api, server_id)
    assert "https://internal.example.com/api" in yaml.safe_dump(doc["server"]["config"])
    view = await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import")
    assert view["options"] == {"baseUrl": "https://internal.example.com/api", "includeDeprecated": True,
                               "descriptionLimit": 5}
    again = await _import(api, server_id, v1())
    assert again["changed"] == [] and again["applied"] is False


async def test_upload_size_cap(nats_url: str, root: str) -> None:
    settings = msgspec.structs.replace(settings_for(nats_url, root), max_body_bytes=4096)
    service = RegistryService(settings)
    await service.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{service.port}",
                                         timeout=aiohttp.ClientTimeout(total=10)) as http:
            api = Api(http, service)
            server_id = await _server(api)
            big = v1() + "# " + "x" * 5000 + "\n"
            reply = await api.call("POST", f"/v1/mcp-servers/{server_id}/tools/import", data=big, headers=YAML)
            assert (reply.status, reply.body["code"]) == (413, "PayloadTooLarge")
            form = aiohttp.FormData()
            form.add_field("file", big.encode(), filename="pets.yaml")
            reply = await api.call("POST", f"/v1/mcp-servers/{server_id}/tools/import", data=form)  # type: ignore[arg-type]
            assert (reply.status, reply.body["code"]) == (413, "PayloadTooLarge")
    finally:
        await service.stop()


async def test_swagger_config_on_create_and_update(api: Api) -> None:
    created = await api.ok("POST", "/v1/mcp-servers", json={"name": "pets", "mcpServerConfig": {
        "swaggerConfig": v1()}})
    server_id = created["mcpServerId"]
    assert created["import"]["tools"] == ["listPets", "getPet", "deletePet"]
    assert created["import"]["skipped"] == [] and created["import"]["operations"] == 3
    server = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert "operationId: getPet" in base64.b64decode(server["mcpServerConfig"]).decode()
    await api.ok("PATCH", f"/v1/mcp-servers/{server_id}/tools/getPet", json={"description": "kept"})

    # swaggerConfig on update is a re-import: overrides stay
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"mcpServerConfig": {"swaggerConfig": v2()}})
    tools = _by_name(await _yaml(api, server_id))
    assert set(tools) == {"listPets", "getPet", "createPet"}
    assert tools["getPet"]["description"] == "kept"

    bad = await api.call("POST", "/v1/mcp-servers", json={"name": "bad", "mcpServerConfig": {
        "swaggerConfig": "just text"}})
    assert (bad.status, bad.message) == (400, "mcpServerConfig.swaggerConfig: document: must be a mapping "
                                              "(an OpenAPI or Swagger object)")
    assert (await api.call("GET", "/v1/mcp-servers?nameLike=bad")).data["totalSize"] == 0  # nothing written


async def test_overrides_survive_a_registry_restart(nats_url: str, root: str) -> None:
    timeout = aiohttp.ClientTimeout(total=10)
    service = RegistryService(settings_for(nats_url, root))
    await service.start()
    async with aiohttp.ClientSession(f"http://127.0.0.1:{service.port}", timeout=timeout) as http:
        api = Api(http, service)
        server_id = await _server(api)
        await _import(api, server_id, v1())
        await api.ok("PATCH", f"/v1/mcp-servers/{server_id}/tools/getPet", json={"name": "fetch_pet"})
    await service.stop()

    service = RegistryService(settings_for(nats_url, root))
    await service.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{service.port}", timeout=timeout) as http:
            api = Api(http, service)
            view = await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import")
            assert view["overrides"] == {"GET /pets/{petId}": {"name": "fetch_pet"}}
            data = await _import(api, server_id, v2(), preview=True)
            # diffed against the stored generated tools of v1, not against the current YAML
            assert data["changed"] == [{"tool": "fetch_pet", "fields": ["args", "inputSchema", "operationId"]}]
    finally:
        await service.stop()


async def test_forget_import_and_delete(api: Api) -> None:
    server_id = await _server(api)
    await _import(api, server_id, v1())
    await api.ok("PATCH", f"/v1/mcp-servers/{server_id}/tools/getPet", json={"name": "fetch_pet"})
    before = await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")
    forgot = await api.ok("DELETE", f"/v1/mcp-servers/{server_id}/tools/import")
    assert forgot["revision"] > 0
    assert (await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import"))["imported"] is False
    assert (await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")).body == before.body
    again = await api.call("DELETE", f"/v1/mcp-servers/{server_id}/tools/import")
    assert again.status == 400
    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")


async def test_examples_are_valid(api: Api) -> None:
    reply = await api.call("GET", "/v1/mcp-servers/tools/import/example")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/yaml")
    assert reply.body.startswith("#")
    server_id = await _server(api)
    put = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=reply.body, headers=YAML)
    assert put["tools"] == ["get_forecast", "report_issue"]

    reply = await api.call("GET", "/v1/mcp-servers/tools/import/example?kind=openapi")
    assert reply.status == 200 and "openapi: 3.0.3" in reply.body
    other = await _server(api, "weather")
    data = await _import(api, other, reply.body)
    assert data["tools"] == ["get_forecast", "report_issue"] and data["skipped"] == []

    bad = await api.call("GET", "/v1/mcp-servers/tools/import/example?kind=pdf")
    assert bad.status == 400


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_wrong_methods_on_import_routes(api: Api, method: str) -> None:
    server_id = await _server(api)
    reply = await api.call(method, f"/v1/mcp-servers/{server_id}/tools/import:preview")
    assert reply.status == 405 and reply.body["code"] == "MethodNotAllowed"


async def test_put_keeps_the_operators_text_unless_it_needs_normalizing(api: Api) -> None:
    server_id = await _server(api)
    await _import(api, server_id, v1())
    path = f"/v1/mcp-servers/{server_id}/tools"
    text = (await api.call("GET", path)).body.replace("- name: getPet\n", "- name: fetch_pet  # ours\n")
    await api.ok("PUT", path, data=text, headers=YAML)
    assert (await api.call("GET", path)).body == text  # comments and layout survive

    # A default edited only in the inputSchema is set on the argument too, so it is sent as well.
    doc = await _yaml(api, server_id)
    _by_name(doc)["listPets"]["inputSchema"]["properties"]["limit"]["default"] = 50
    put = await api.ok("PUT", path, data=yaml.safe_dump(doc), headers=YAML)
    assert put["notKept"] == []
    limit = _by_name(await _yaml(api, server_id))["listPets"]["args"][0]
    assert (limit["name"], limit["default"]) == ("limit", 50)
    view = await api.ok("GET", f"{path}/import")
    assert view["overrides"] == {"GET /pets": {"args": {"limit": {"default": 50}}},
                                 "GET /pets/{petId}": {"name": "fetch_pet"}}


async def test_the_report_never_shows_credentials(api: Api) -> None:
    server_id = await _server(api)
    doc = v1().replace("servers:", "components:\n  securitySchemes:\n    key: {type: apiKey, in: header, "
                                   "name: X-Key}\nsecurity: [{key: []}]\nservers:")
    await _import(api, server_id, doc)
    tools = await _yaml(api, server_id)
    assert tools["server"]["securitySchemes"][0]["id"] == "key"
    tools["server"]["securitySchemes"][0]["defaultCredential"] = "s3cret-value"
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=yaml.safe_dump(tools), headers=YAML)
    view = await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import")
    assert view["serverOverrides"] == {"credentials": {"key": "******"}}

    data = await _import(api, server_id, doc, preview=True)
    assert "s3cret-value" not in data["yaml"]
    assert yaml.safe_load(data["yaml"])["server"]["securitySchemes"][0]["defaultCredential"] == "******"


@pytest.mark.parametrize(("content_type", "body", "reason"), [
    ("multipart/form-data; boundary=xyz", b"not multipart at all", "Could not find starting boundary"),
    ("multipart/form-data", b"--xyz\r\n\r\nx\r\n--xyz--\r\n", "boundary missed"),
    # A control character in a part's header: found by Schemathesis (tests/registry/http/apispec).
    ("multipart/form-data; boundary=xyz",
     b'--xyz\r\nContent-Disposition: form-data; name="\x15"\r\n\r\nx\r\n--xyz--\r\n', "a part's headers are malformed"),
])
async def test_a_body_that_is_not_multipart_is_a_400(api: Api, content_type: str, body: bytes, reason: str) -> None:
    server_id = await _server(api)
    for action in ("import", "import:preview"):
        reply = await api.call("POST", f"/v1/mcp-servers/{server_id}/tools/{action}", data=body,
                               headers={"Content-Type": content_type})
        assert reply.status == 400, reply.body
        assert reply.message.startswith("body: not a valid multipart/form-data body: "), reply.message
        assert reason in reply.message
