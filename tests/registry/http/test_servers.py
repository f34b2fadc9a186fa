"""The MCP server resource over the admin API: CRUD, paging, validation messages, no half writes."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.registry.conftest import Api
from tests.registry.tools_samples import WEATHER_YAML, WEATHER_YAML_MASKED, one_tool


async def test_create_get_update_delete(api: Api) -> None:
    service_id = await api.create_service("backend", "10.0.0.1:8080", source_type="VIP")
    domain_id = (await api.ok("POST", "/v1/domains", json={"name": "abc.com"}))["domainId"]
    created = await api.ok("POST", "/v1/mcp-servers", json={
        "name": "fetch-time", "description": "mcp tool fetch time", "gatewayId": "gw-1",
        "match": {"path": {"type": "Prefix", "value": "/mcp-servers/fetch-time"}, "methods": ["POST"]},
        "backendConfig": {"scene": "SingleService",
                          "services": [{"serviceId": service_id, "port": 8080, "protocol": "HTTP", "weight": 100}]},
        "consumerAuthInfo": {"enable": True}, "mcpStatisticsEnable": True, "domainIds": [domain_id],
    })
    server_id = created["mcpServerId"]
    assert created["name"] == "fetch-time"
    assert server_id.startswith("mcp-") and len(server_id) == 20

    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert got["mcpServerId"] == server_id
    assert got["type"] == "RealMCP" and got["protocol"] == "HTTP"
    assert got["createFromType"] == "ApiGatewayHttpToMCP"
    assert got["mcpServerPath"] == "/mcp-servers/fetch-time"
    assert got["deployStatus"] == "Deployed"
    assert got["mcpServerConfig"] == ""
    assert got["backend"]["services"][0] == {"serviceId": service_id, "name": "backend", "port": 8080,
                                             "protocol": "HTTP", "weight": 100}
    assert got["match"]["path"] == {"type": "Prefix", "value": "/mcp-servers/fetch-time"}
    assert got["consumerAuthInfo"] == {"enable": True}
    assert got["mcpStatisticsEnable"] is True and got["gatewayId"] == "gw-1"
    assert got["domainIds"] == [domain_id]
    assert got["domainInfos"] == [{"domainId": domain_id, "name": "abc.com", "protocol": "HTTP"}]
    assert got["createTimestamp"] == got["updateTimestamp"] > 0
    first_revision = got["revision"]

    # Partial update: present fields replace, absent ones stay.
    updated = await api.ok("PUT", f"/v1/mcp-servers/{server_id}",
                           json={"description": "new", "consumerAuthInfo": {"enable": False}, "name": "fetch-time"})
    assert updated["revision"] > first_revision
    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert got["description"] == "new" and got["consumerAuthInfo"] == {"enable": False}
    assert got["backend"]["services"][0]["serviceId"] == service_id
    assert got["mcpStatisticsEnable"] is True
    assert got["revision"] == updated["revision"]

    renamed = await api.call("PUT", f"/v1/mcp-servers/{server_id}", json={"name": "other"})
    assert (renamed.status, renamed.body["code"], renamed.message) == (400, "InvalidParameter",
                                                                       "name: cannot be changed")

    deleted = await api.call("DELETE", f"/v1/mcp-servers/{server_id}")
    assert deleted.status == 200 and "data" not in deleted.body
    gone = await api.call("GET", f"/v1/mcp-servers/{server_id}")
    assert (gone.status, gone.body["code"]) == (404, "NotFound")
    # The name is free again.
    await api.create_server("fetch-time")


async def test_list_filters_and_paging(api: Api) -> None:
    ids = [await api.create_server(f"srv-{i}") for i in range(5)]
    await api.create_server("assembled", type="AssemblyMCP", createFromType="ApiGatewayAssembly",
                            assembledSources=[{"mcpServerId": ids[0]}])

    everything = await api.ok("GET", "/v1/mcp-servers")
    assert everything["totalSize"] == 6 and everything["pageNumber"] == 1 and everything["pageSize"] == 10
    assert "grayMcpServerConfigs" not in everything["items"][0]

    pages = [await api.ok("GET", f"/v1/mcp-servers?pageSize=4&pageNumber={n}") for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [4, 2, 0]
    seen = [item["mcpServerId"] for p in pages for item in p["items"]]
    assert len(set(seen)) == 6 and set(ids) <= set(seen)

    like = await api.ok("GET", "/v1/mcp-servers?nameLike=SRV-")
    assert like["totalSize"] == 5
    assembly = await api.ok("GET", "/v1/mcp-servers?type=AssemblyMCP")
    assert [i["name"] for i in assembly["items"]] == ["assembled"]
    by_source = await api.ok("GET", "/v1/mcp-servers?createFromTypes=ApiGatewayAssembly,NacosMcpHosting")
    assert by_source["totalSize"] == 1
    deployed = await api.ok("GET", "/v1/mcp-servers?deployStatuses=Deployed")
    assert deployed["totalSize"] == 6


@pytest.mark.parametrize(("query", "field"), [
    ("pageNumber=0", "pageNumber"),
    ("pageNumber=x", "pageNumber"),
    ("pageSize=0", "pageSize"),
    ("pageSize=101", "pageSize"),
    ("pageSize=-1", "pageSize"),
    ("type=Bogus", "type"),
    ("createFromTypes=ApiGatewayHttpToMCP,Nope", "createFromTypes"),
])
async def test_bad_list_parameters_name_the_parameter(api: Api, query: str, field: str) -> None:
    reply = await api.call("GET", f"/v1/mcp-servers?{query}")
    assert reply.status == 400 and reply.body["code"] == "InvalidParameter"
    assert reply.message.startswith(f"{field}: ")


@pytest.mark.parametrize("name", ["Upper", "-lead", "trail-", "under_score", "sp ace", "a..b", "", "x" * 65])
async def test_name_rule(api: Api, name: str) -> None:
    reply = await api.call("POST", "/v1/mcp-servers", json={"name": name})
    assert reply.status == 400 and reply.body["code"] == "InvalidParameter"
    assert reply.message.startswith("name: ")


async def test_name_limits_and_uniqueness(api: Api) -> None:
    await api.create_server("a" * 64)
    await api.create_server("dotted.name-1.x")
    again = await api.call("POST", "/v1/mcp-servers", json={"name": "dotted.name-1.x"})
    assert (again.status, again.body["code"]) == (409, "Conflict")
    assert again.message.startswith("name: ")


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "x", "colour": "red"}, "colour: unknown field"),
    ({"name": 5}, "name: expected `str`, got `int`"),
    ({"name": "x", "match": {"path": {"type": "Fuzzy", "value": "/"}}}, "match.path.type: invalid enum value"),
    ({"name": "x", "match": {"path": {"type": "Prefix", "value": "no-slash"}}}, "match.path.value: must start"),
    ({"name": "x", "match": {"path": {"type": "Regex", "value": "("}}}, "match.path.value: is not a valid regular"),
    ({"name": "x", "match": {"pth": {}}}, "match.pth: unknown field"),
    ({"name": "x", "backendConfig": {"services": [{"serviceId": "s", "weight": 101}]}},
     "backendConfig.services[0].weight: expected `int` <= 100"),
    ({"name": "x", "backendConfig": {"services": [{"port": 1}]}}, "backendConfig.services[0].serviceId: is required"),
    ({"name": "x", "backendConfig": {"services": [{"serviceId": "svc-x"}]}},
     "backendConfig.services[0].serviceId: service svc-x not found"),
    ({"name": "x", "protocol": "FTP"}, "protocol: invalid enum value"),
    ({"name": "x", "type": "AssemblyMCP"}, "assembledSources: is required"),
    ({"name": "x", "protocol": "SSE"}, "exposedUriPath: is required"),
    ({"name": "x", "protocol": "SSE", "exposedUriPath": "/sse"}, "backendConfig: is required when protocol is SSE"),
    ({"name": "x", "createFromType": "ApiGatewayAssembly"}, "createFromType: ApiGatewayAssembly does not fit"),
    ({"name": "x", "upstreamCredential": {"type": "Bearer", "value": "t"}},
     "upstreamCredential: only a hosted MCP server"),
    ({"name": "x", "createFromType": "Bogus"}, "createFromType: invalid enum value"),
    ({"name": "x", "mcpStatisticsEnable": "yes"}, "mcpStatisticsEnable: expected `bool`"),
    ({"name": "x", "consumerAuthInfo": {"enable": 1}}, "consumerAuthInfo.enable: expected `bool`"),
    ({"name": "x", "mcpServerConfig": {"swaggerConfig": " "}},
     "mcpServerConfig.swaggerConfig: the OpenAPI document is empty"),
    ({"name": "x", "mcpServerConfig": {"swaggerConfig": "a", "mcpServerSpec": "b"}},
     "mcpServerConfig: swaggerConfig and mcpServerSpec are mutually exclusive"),
    ({"name": "x", "mcpServerConfig": {"mcpServerSpec": one_tool(url="https://{{.args.host}}/x")}},
     "mcpServerConfig.mcpServerSpec.tools[0].requestTemplate.url: arguments may not determine"),
    ({"name": "x", "mcpServerConfig": {"mcpServerSpec": "server: [unclosed"}},
     "mcpServerConfig.mcpServerSpec: invalid YAML at line 1"),
    ([1, 2], "body: expected `object`, got `array`"),
])
async def test_invalid_bodies_name_the_field(api: Api, body: object, message: str) -> None:
    reply = await api.call("POST", "/v1/mcp-servers", json=body)
    assert reply.status == 400, reply.body
    assert reply.body["code"] == "InvalidParameter"
    assert reply.message.startswith(message), reply.message
    assert set(reply.body) == {"requestId", "code", "message"}


async def test_malformed_json_and_empty_body(api: Api) -> None:
    bad = await api.call("POST", "/v1/mcp-servers", data=b'{"name": ', headers={"Content-Type": "application/json"})
    assert bad.status == 400 and bad.message.startswith("body: malformed JSON")
    empty = await api.call("POST", "/v1/mcp-servers", data=b"", headers={"Content-Type": "application/json"})
    assert empty.status == 400 and empty.message.startswith("body: ")


async def test_update_validates_the_merged_record(api: Api) -> None:
    server_id = await api.create_server("merge")
    reply = await api.call("PUT", f"/v1/mcp-servers/{server_id}", json={"protocol": "StreamableHTTP"})
    assert reply.status == 400 and reply.message.startswith("exposedUriPath: ")
    service_id = await api.create_service("upstream")
    ok = await api.ok("PUT", f"/v1/mcp-servers/{server_id}",
                      json={"protocol": "StreamableHTTP", "exposedUriPath": "/mcp",
                            "backendConfig": {"services": [{"serviceId": service_id}]}})
    assert ok["revision"] > 0
    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert (got["protocol"], got["exposedUriPath"]) == ("StreamableHTTP", "/mcp")
    # Becoming hosted without naming createFromType takes the hosted default.
    assert got["createFromType"] == "ApiGatewayMcpHosting"
    gateway = await api.call("PUT", f"/v1/mcp-servers/{server_id}", json={"gatewayId": "gw-other"})
    assert gateway.status == 400 and gateway.message == "gatewayId: cannot be changed"


async def test_unknown_ids_are_404(api: Api) -> None:
    for method, path in [("GET", "/v1/mcp-servers/mcp-0000000000000000"), ("GET", "/v1/mcp-servers/not-an-id"),
                         ("PUT", "/v1/mcp-servers/mcp-0000000000000000"),
                         ("DELETE", "/v1/mcp-servers/mcp-0000000000000000"),
                         ("GET", "/v1/mcp-servers/mcp-0000000000000000/tools")]:
        reply = await api.call(method, path, json={})
        assert (reply.status, reply.body["code"]) == (404, "NotFound"), (method, path)
        assert reply.message.startswith("mcpServerId: ")


async def test_a_failed_create_writes_nothing(api: Api) -> None:
    bad_tools = one_tool(url="relative/path")
    reply = await api.call("POST", "/v1/mcp-servers",
                           json={"name": "half", "mcpServerConfig": {"mcpServerSpec": bad_tools}})
    assert reply.status == 400
    assert reply.message.startswith("mcpServerConfig.mcpServerSpec.tools[0].requestTemplate.url: ")
    listed = await api.ok("GET", "/v1/mcp-servers")
    assert listed["totalSize"] == 0
    # The name was never claimed.
    await api.create_server("half")


async def test_create_with_spec_stores_the_yaml(api: Api) -> None:
    server_id = await api.create_server("weather", mcpServerConfig={"mcpServerSpec": WEATHER_YAML})
    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert base64.b64decode(got["mcpServerConfig"]).decode() == WEATHER_YAML_MASKED
    # An update without mcpServerConfig keeps the tools; an empty spec removes them.
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "d"})
    assert (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["mcpServerConfig"] == got["mcpServerConfig"]
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"mcpServerConfig": {"mcpServerSpec": ""}})
    assert (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["mcpServerConfig"] == ""


async def test_envelope_for_unknown_routes_methods_and_large_bodies(api: Api) -> None:
    missing = await api.call("GET", "/v1/nothing-here")
    assert (missing.status, missing.body["code"]) == (404, "NotFound")
    assert uuid.UUID(missing.body["requestId"]) and missing.headers["X-Request-Id"] == missing.body["requestId"]
    wrong = await api.call("PATCH", "/v1/mcp-servers")
    assert wrong.status == 405 and wrong.body["code"] == "MethodNotAllowed"
    assert wrong.message.startswith("method: ") and "POST" in wrong.headers["Allow"]
    limit = api.service.settings.max_body_bytes
    huge = await api.call("POST", "/v1/mcp-servers", data=b"x" * (limit + 1),
                          headers={"Content-Type": "application/json"})
    assert (huge.status, huge.body["code"]) == (413, "PayloadTooLarge")
    assert huge.message.startswith("body: ")
    health = await api.ok("GET", "/healthz")
    assert health == {"status": "ok"}
