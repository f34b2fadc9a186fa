"""The admin API's OpenAPI document: valid OpenAPI 3.1, served without the token, and the router's twin."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import msgspec
import schemathesis
from mcpgw_registry.app import create_app
from mcpgw_registry.http.apispec.document import PATH_PARAMETERS, api_path, build
from mcpgw_registry.service import RegistryService

from tests.registry.conftest import settings_for

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item if method in METHODS}


def _routed() -> set[tuple[str, str]]:
    """(method, path) of every route the registry's aiohttp app has, paths with the API's parameter names."""
    app = create_app(settings_for("nats://127.0.0.1:1", "unused"))
    routes = {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource is not None}
    # aiohttp answers HEAD wherever GET is (a GET without the body); the document says so once
    # instead of listing a HEAD twin of every GET.
    heads = {path for method, path in routes if method == "HEAD"}
    assert heads == {path for method, path in routes if method == "GET"}
    # The console's files (/console/...) are a web page, not operations of the API.
    return {(method, api_path(path)) for method, path in routes if method != "HEAD" and not path.startswith("/console")}


def test_every_route_is_documented_and_every_documented_operation_is_a_route() -> None:
    documented, routed = _documented(build()), _routed()
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented operations no route serves"
    assert len(routed) == 52


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = build()
    schemathesis.openapi.from_dict(doc).validate()
    assert doc["openapi"] == "3.1.0"
    operations = [op for item in doc["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for path, item in doc["paths"].items():
        for op in item.values():
            declared = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            assert declared == re.findall(r"\{([^}]+)\}", path), (path, declared)
    # Generated clients name classes after components: no module-qualified msgspec names.
    assert all(re.fullmatch(r"[A-Za-z]+", name) for name in doc["components"]["schemas"]), \
        doc["components"]["schemas"].keys()
    assert {name for name, _ in PATH_PARAMETERS.values()} == {
        "mcpServerId", "consumerId", "consumerAuthorizationRuleId", "serviceId", "domainId", "toolName",
        "revision"}


def test_bodies_are_the_structs_the_handlers_decode() -> None:
    doc = build()
    schemas = doc["components"]["schemas"]
    body = doc["paths"]["/v1/mcp-servers"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CreateServer"}
    create = schemas["CreateServer"]
    assert create["required"] == ["name"] and create["additionalProperties"] is False
    assert create["properties"]["listTtlMs"]["anyOf"][0] == {"type": "integer", "minimum": 0, "maximum": 86_400_000}
    upload = doc["paths"]["/v1/mcp-servers/{mcpServerId}/tools/import"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["required"] == ["file"]
    assert {"application/json", "application/yaml", "text/plain"} <= set(upload)
    tools = doc["paths"]["/v1/mcp-servers/{mcpServerId}/tools"]
    assert set(tools["put"]["requestBody"]["content"]) == {
        "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/json"}
    assert tools["get"]["responses"]["200"]["content"]["application/yaml"]["schema"] == {
        "$ref": "#/components/schemas/ToolsDocument"}


def test_errors_and_security() -> None:
    doc = build()
    assert doc["security"] == [{"adminToken": []}]
    assert doc["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    open_ops = {(method, path) for path, item in doc["paths"].items() for method, op in item.items()
                if op.get("security") == []}
    assert open_ops == {("get", "/healthz"), ("get", "/v1/openapi.json")}
    get_server = doc["paths"]["/v1/mcp-servers/{mcpServerId}"]["get"]["responses"]
    assert set(get_server) == {"200", "401", "404", "5XX"}
    put_tools = doc["paths"]["/v1/mcp-servers/{mcpServerId}/tools"]["put"]["responses"]
    assert set(put_tools) == {"200", "400", "401", "404", "409", "413", "415", "5XX"}
    not_found = doc["components"]["responses"]["NotFound"]["content"]["application/json"]["schema"]
    assert not_found["allOf"][1]["properties"]["code"] == {"enum": ["NotFound"]}


async def test_served_without_the_token(registry: RegistryService) -> None:
    base = f"http://127.0.0.1:{registry.port}"
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=10)) as http:
        async with http.get("/v1/openapi.json") as resp:
            assert resp.status == 200 and resp.content_type == "application/json"
            assert msgspec.json.decode(await resp.read()) == msgspec.json.decode(msgspec.json.encode(build()))
        async with http.get("/v1/mcp-servers") as resp:
            assert resp.status == 401
