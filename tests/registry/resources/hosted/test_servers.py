"""Hosted MCP servers: what a create must say, the snapshot the data plane gets, and the upstream
credential that never comes back out."""

from __future__ import annotations

import json

import msgspec
import pytest

from mcpgw.contracts.hosting import HostedBackend, UpstreamTarget
from mcpgw.contracts.registry import ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.pem import ca_pem
from tests.registry.tools_samples import WEATHER_YAML

SECRET = "upstream-secret-4242"


def hosted(*service_ids: str, **fields: object) -> dict[str, object]:
    scene = "SingleService" if len(service_ids) == 1 else "MultiServiceByRatio"
    return {"protocol": "StreamableHTTP", "exposedUriPath": "/mcp",
            "backendConfig": {"scene": scene, "services": [{"serviceId": s} for s in service_ids]}, **fields}


async def _snapshot(bus: Bus, server_id: str) -> ServerLookupReply:
    return await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id), ServerLookupReply)


async def test_create_get_and_snapshot(api: Api, bus: Bus) -> None:
    plain = await api.create_service("plain", "10.0.0.1:8080", "10.0.0.2:8080", source_type="VIP")
    tls = await api.create_service("tls", "mcp.test:443", protocol="HTTPS", caBundle=ca_pem())
    server_id = await api.create_server("upstream", protocol="SSE", exposedUriPath="/sse", mcpStatisticsEnable=True,
                                        upstreamCredential={"type": "Bearer", "value": SECRET},
                                        backendConfig={"scene": "MultiServiceByRatio", "services": [
                                            {"serviceId": plain, "weight": 30, "port": 8080, "protocol": "HTTP"},
                                            {"serviceId": tls, "weight": 70}]})
    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert {k: got[k] for k in ("type", "protocol", "createFromType", "exposedUriPath", "mcpServerPath",
                                "mcpStatisticsEnable", "deployStatus", "upstreamCredential")} == {
        "type": "RealMCP", "protocol": "SSE", "createFromType": "ApiGatewayMcpHosting", "exposedUriPath": "/sse",
        "mcpServerPath": "/mcp-servers/upstream", "mcpStatisticsEnable": True, "deployStatus": "Deployed",
        "upstreamCredential": {"type": "Bearer", "configured": True}}
    assert got["backend"] == {"scene": "MultiServiceByRatio", "services": [
        {"serviceId": plain, "name": "plain", "port": 8080, "protocol": "HTTP", "weight": 30},
        {"serviceId": tls, "name": "tls", "protocol": "HTTPS", "weight": 70}]}
    listed = await api.ok("GET", "/v1/mcp-servers")
    assert listed["items"][0]["backend"] == got["backend"]

    reply = await _snapshot(bus, server_id)
    snapshot = reply.server
    assert snapshot is not None and snapshot.kind == "hosted" and snapshot.statistics is True
    assert snapshot.tools == [] and snapshot.listing == []
    assert snapshot.hosted == HostedBackend(transport="SSE", path="/sse", targets=[
        UpstreamTarget(address="10.0.0.1:8080", weight=30, scheme="http", service=plain),
        UpstreamTarget(address="10.0.0.2:8080", weight=30, scheme="http", service=plain),
        UpstreamTarget(address="mcp.test:443", weight=70, scheme="https", service=tls, ca_bundle=ca_pem())])
    # The credential reaches neither readers of the API nor the data plane's snapshots.
    assert SECRET not in json.dumps(got) and SECRET not in json.dumps(listed)
    assert SECRET.encode() not in msgspec.json.encode(reply)


async def test_proxy_spelling_and_default_create_from_type(api: Api) -> None:
    service_id = await api.create_service("s")
    proxy = await api.create_server("proxy", createFromType="ApiGatewayProxyMcpHosting", **hosted(service_id))
    assert (await api.ok("GET", f"/v1/mcp-servers/{proxy}"))["createFromType"] == "ApiGatewayProxyMcpHosting"
    default = await api.create_server("default", **hosted(service_id))
    assert (await api.ok("GET", f"/v1/mcp-servers/{default}"))["createFromType"] == "ApiGatewayMcpHosting"


@pytest.mark.parametrize(("fields", "message"), [
    ({"exposedUriPath": ""}, "exposedUriPath: is required when protocol is StreamableHTTP"),
    ({"exposedUriPath": "mcp"}, "exposedUriPath: must start with '/'"),
    ({"backendConfig": None}, "backendConfig: is required when protocol is StreamableHTTP"),
    ({"backendConfig": {"services": []}}, "backendConfig: is required when protocol is StreamableHTTP"),
    ({"backendConfig": {"services": [{"serviceId": "svc-x"}]}},
     "backendConfig.services[0].serviceId: service svc-x not found"),
    ({"backendConfig": {"scene": "Mock", "services": [{"serviceId": "SERVICE"}]}},
     "backendConfig.scene: scene Mock is not supported yet; use SingleService or MultiServiceByRatio"),
    ({"backendConfig": {"scene": "SingleService", "services": [{"serviceId": "SERVICE"}, {"serviceId": "SERVICE"}]}},
     "backendConfig.services: scene SingleService takes exactly one service"),
    ({"backendConfig": {"scene": "MultiServiceByRatio", "services": [{"serviceId": "SERVICE"},
                                                                       {"serviceId": "SERVICE"}]}},
     "backendConfig.services[1].serviceId: repeats services[0]"),
    ({"backendConfig": {"services": [{"serviceId": "SERVICE", "weight": 0}]}},
     "backendConfig.services: at least one service needs a weight above 0"),
    ({"backendConfig": {"services": [{"serviceId": "SERVICE", "port": 9999}]}},
     "backendConfig.services[0].port: service s has no address on port 9999"),
    ({"backendConfig": {"services": [{"serviceId": "SERVICE", "protocol": "HTTPS"}]}},
     "backendConfig.services[0].protocol: is HTTPS, but service s speaks HTTP"),
    ({"mcpServerConfig": {"mcpServerSpec": WEATHER_YAML}},
     "mcpServerConfig.mcpServerSpec: a hosted MCP server has no tools document: its tools come from the upstream"),
    ({"createFromType": "ApiGatewayHttpToMCP"},
     "createFromType: ApiGatewayHttpToMCP does not fit a hosted MCP server (protocol StreamableHTTP)"),
    ({"assembledSources": [{"mcpServerId": "mcp-0000000000000000"}]}, "assembledSources: only an assembly"),
    ({"upstreamCredential": {"type": "Bearer"}}, "upstreamCredential.value: is required"),
    ({"upstreamCredential": {"type": "Bearer", "value": "a\r\nX-Evil: 1"}},
     "upstreamCredential.value: must not contain CR, LF or other control characters"),
    ({"upstreamCredential": {"type": "Bearer", "value": "t", "name": "X"}},
     "upstreamCredential.name: does not apply to type Bearer"),
    ({"upstreamCredential": {"type": "ApiKey", "value": "k"}}, "upstreamCredential.name: is required"),
    ({"upstreamCredential": {"type": "ApiKey", "value": "k", "name": "Bad Header"}},
     "upstreamCredential.name: must be an HTTP header name"),
    ({"upstreamCredential": {"type": "ApiKey", "value": "k", "name": "a&b", "location": "query"}},
     "upstreamCredential.name: must be a query parameter name"),
    ({"upstreamCredential": {"type": "ApiKey", "value": "k", "name": "k", "location": "cookie"}},
     "upstreamCredential.location: invalid enum value"),
    ({"upstreamCredential": {"type": "Basic", "username": "a:b", "password": "p"}},
     "upstreamCredential.username: must not contain ':'"),
    ({"upstreamCredential": {"type": "Basic", "password": "p"}}, "upstreamCredential.username: is required"),
    ({"upstreamCredential": {"type": "Digest"}}, "upstreamCredential.type: invalid enum value"),
    ({"upstreamCredential": {"type": "Bearer", "value": "t", "extra": 1}}, "upstreamCredential.extra: unknown field"),
])
async def test_invalid_hosted_servers_name_the_field(api: Api, fields: dict[str, object], message: str) -> None:
    service_id = await api.create_service("s")
    body = {"name": "x", **hosted(service_id), **fields}
    text = json.dumps(body).replace("SERVICE", service_id)
    reply = await api.call("POST", "/v1/mcp-servers", data=text, headers={"Content-Type": "application/json"})
    assert (reply.status, reply.body["code"]) == (400, "InvalidParameter"), reply.body
    assert reply.message.startswith(message), reply.message


async def test_credential_update_and_removal(api: Api) -> None:
    service_id = await api.create_service("s")
    server_id = await api.create_server("h", **hosted(service_id, upstreamCredential={
        "type": "ApiKey", "value": SECRET, "name": "X-Api-Key"}))
    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert got["upstreamCredential"] == {"type": "ApiKey", "name": "X-Api-Key", "location": "header",
                                         "configured": True}
    # An update that does not mention it keeps it; a new one replaces it; null removes it.
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "d"})
    assert (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["upstreamCredential"]["configured"] is True
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}",
                 json={"upstreamCredential": {"type": "Basic", "username": "bob", "password": SECRET}})
    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert got["upstreamCredential"] == {"type": "Basic", "username": "bob", "configured": True}
    assert SECRET not in json.dumps(got)
    # A server that stops being hosted must drop its credential in the same request.
    back = await api.call("PUT", f"/v1/mcp-servers/{server_id}", json={"protocol": "HTTP", "exposedUriPath": ""})
    assert back.status == 400 and back.message.startswith("upstreamCredential: only a hosted MCP server")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}",
                 json={"protocol": "HTTP", "exposedUriPath": "", "upstreamCredential": None})
    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert "upstreamCredential" not in got and got["createFromType"] == "ApiGatewayHttpToMCP"


async def test_tools_cannot_be_put_on_a_hosted_server(api: Api) -> None:
    service_id = await api.create_service("s")
    server_id = await api.create_server("h", **hosted(service_id))
    reply = await api.call("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML,
                           headers={"Content-Type": "application/yaml"})
    assert reply.status == 400 and reply.message.startswith("body: a hosted MCP server has no tools document")
