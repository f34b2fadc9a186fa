"""Backends end to end, configured through the admin API: tool URLs relative to the server's
backendConfig, canary routes (`grayMcpServerConfigs`) chosen by a header and by the verified
consumer, and what the API refuses. Real cluster, real aiohttp backends, the `mcp` SDK and raw HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcpgw.devcluster import free_port
from tests.backends import Backend, run_backend
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.upstream.fixture_server import running_fixture

RELATIVE_YAML = """\
server:
  name: {name}
tools:
- name: get_pet
  description: A pet, from whichever backend the call is routed to
  args: [{{name: id, type: integer, required: true}}]
  requestTemplate: {{url: "/pets/{{{{.args.id}}}}", method: GET}}
"""


@pytest.fixture
async def canary() -> AsyncIterator[Backend]:
    async with run_backend() as b:
        yield b


def _backend(service_id: str) -> dict[str, Any]:
    return {"scene": "SingleService", "services": [{"serviceId": service_id, "weight": 100}]}


async def _service(cluster: Cluster, backend: Backend, name: str) -> str:
    return await cluster.create_service(backend.url.removeprefix("http://"), name=name)


async def _call(raw: Raw, pet: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    answer = await raw.send({"jsonrpc": "2.0", "id": pet, "method": "tools/call",
                             "params": {"name": "get_pet", "arguments": {"id": pet}}}, headers=headers)
    assert answer.status == 200, answer.text
    result: dict[str, Any] = answer.json["result"]
    assert not result.get("isError"), result
    return result


def _pets(backend: Backend) -> list[str]:
    return [r.path for r in backend.received]


async def test_a_relative_tool_url_is_called_on_the_backend_config(cluster: Cluster, backend: Backend) -> None:
    service = await _service(cluster, backend, "pets")
    await cluster.create_server("rel", RELATIVE_YAML.format(name="rel"), backendConfig=_backend(service))
    async with httpx2.AsyncClient() as client, \
            streamable_http_client(cluster.mcp_url("rel"), http_client=client) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("get_pet", {"id": 5})
    assert not result.is_error and '"name":"pet-5"' in result.content[0].text.replace(" ", "")  # type: ignore[union-attr]
    assert _pets(backend) == ["/pets/5"]


async def test_what_the_api_refuses(cluster: Cluster, backend: Backend) -> None:
    server_id = await cluster.create_server("plain")
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}/tools",
                                       data=RELATIVE_YAML.format(name="plain"), content_type="application/yaml")
    assert status == 400 and body["message"].startswith("tools[get_pet].requestTemplate.url: is relative"), body
    assert "set backendConfig" in body["message"]

    service = await _service(cluster, backend, "pets")
    # With tools of relative URLs, the backendConfig cannot go away.
    rel = await cluster.create_server("rel", RELATIVE_YAML.format(name="rel"), backendConfig=_backend(service))
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{rel}", json={"backendConfig": None})
    assert status == 400 and body["message"].startswith("tools[get_pet].requestTemplate.url: "), body

    header = {"headers": [{"name": "x-canary", "type": "Exact", "value": "true"}]}
    for gray, field in (([{"backendConfig": _backend(service)}], "grayMcpServerConfigs[0].match"),
                        ([{"match": {}, "backendConfig": _backend(service)}], "grayMcpServerConfigs[0].match"),
                        ([{"match": header}], "grayMcpServerConfigs[0].backendConfig")):
        status, body = await cluster.admin("POST", "/v1/mcp-servers", json={
            "name": "gray", "backendConfig": _backend(service), "grayMcpServerConfigs": gray})
        assert status == 400 and body["message"].startswith(f"{field}: is required"), body
    status, body = await cluster.admin("POST", "/v1/mcp-servers", json={
        "name": "gray", "grayMcpServerConfigs": [{"match": header, "backendConfig": _backend(service)}]})
    assert status == 400 and body["message"].startswith("backendConfig: is required"), body
    status, body = await cluster.admin("POST", "/v1/mcp-servers", json={
        "name": "gray", "backendConfig": {"scene": "SingleService", "services": [
            {"serviceId": service}, {"serviceId": await _service(cluster, backend, "again")}]}})
    assert status == 400 and body["message"].startswith("backendConfig.services: scene SingleService"), body


async def test_a_canary_header_routes_to_the_canary_backend(cluster: Cluster, http: aiohttp.ClientSession,
                                                            backend: Backend, canary: Backend) -> None:
    main, gray = await _service(cluster, backend, "main"), await _service(cluster, canary, "canary")
    await cluster.create_server("pets", RELATIVE_YAML.format(name="pets"), backendConfig=_backend(main),
                                grayMcpServerConfigs=[{
                                    "match": {"headers": [{"name": "X-Canary", "type": "Exact", "value": "true"}]},
                                    "backendConfig": _backend(gray)}])
    raw = Raw(http, cluster.mcp_url("pets"))
    await raw.initialize()
    await _call(raw, 1)
    await _call(raw, 2, {"x-canary": "true"})
    await _call(raw, 3, {"x-canary": "false"})
    await _call(raw, 4, {"X-CANARY": "true"})
    assert _pets(backend) == ["/pets/1", "/pets/3"]
    assert _pets(canary) == ["/pets/2", "/pets/4"]


async def test_a_per_consumer_canary_follows_the_verified_consumer_only(
        cluster: Cluster, http: aiohttp.ClientSession, backend: Backend, canary: Backend) -> None:
    main, gray = await _service(cluster, backend, "main"), await _service(cluster, canary, "canary")
    server_id = await cluster.create_server(
        "pets", RELATIVE_YAML.format(name="pets"), backendConfig=_backend(main), consumerAuthInfo={"enable": True},
        grayMcpServerConfigs=[{"match": {"headers": [{"name": "x-mcpgw-consumer", "type": "Exact",
                                                       "value": "alice"}]},
                               "backendConfig": _backend(gray)}])
    keys = {}
    for name in ("alice", "bob"):
        consumer_id, keys[name] = await cluster.create_consumer(name)
        await cluster.grant(consumer_id, server_id)

    alice, bob = Raw(http, cluster.mcp_url("pets")), Raw(http, cluster.mcp_url("pets"))
    await alice.initialize_with({"Authorization": f"Bearer {keys['alice']}"})
    await bob.initialize_with({"Authorization": f"Bearer {keys['bob']}"})
    await _call(alice, 1)
    await _call(bob, 2)
    # bob says he is alice: the header a client sends is not the verified consumer.
    await _call(bob, 3, {"x-mcpgw-consumer": "alice"})
    await _call(alice, 4, {"x-mcpgw-consumer": "bob"})
    assert _pets(canary) == ["/pets/1", "/pets/4"]
    assert _pets(backend) == ["/pets/2", "/pets/3"]


async def test_without_consumer_auth_the_consumer_header_selects_nothing(
        cluster: Cluster, http: aiohttp.ClientSession, backend: Backend, canary: Backend) -> None:
    main, gray = await _service(cluster, backend, "main"), await _service(cluster, canary, "canary")
    await cluster.create_server("pets", RELATIVE_YAML.format(name="pets"), backendConfig=_backend(main),
                                grayMcpServerConfigs=[{"match": {"headers": [
                                    {"name": "x-mcpgw-consumer", "type": "Regex", "value": ".*"}]},
                                    "backendConfig": _backend(gray)}])
    raw = Raw(http, cluster.mcp_url("pets"))
    await raw.initialize()
    await _call(raw, 1, {"x-mcpgw-consumer": "alice"})
    assert _pets(backend) == ["/pets/1"] and _pets(canary) == []


async def test_a_hosted_session_stays_on_the_backend_of_the_request_that_opened_it(
        cluster: Cluster, http: aiohttp.ClientSession) -> None:
    # The canary's address refuses connections: a call that reaches it fails, one on main works.
    async with running_fixture() as fixture:
        origin, _, path = fixture.url.partition("://")[2].partition("/")
        main = await cluster.create_service(origin, name="main")
        dead = await cluster.create_service(f"127.0.0.1:{free_port()}", name="canary")
        await cluster.create_server("hosted", type="RealMCP", protocol="StreamableHTTP", exposedUriPath="/" + path,
                                    backendConfig=_backend(main), grayMcpServerConfigs=[{
                                        "match": {"headers": [{"name": "x-canary", "value": "true"}]},
                                        "backendConfig": _backend(dead)}])
        call = {"name": "test_simple_text", "arguments": {}}

        plain = Raw(http, cluster.mcp_url("hosted"))
        await plain.initialize()
        assert not (await plain.call("tools/call", call)).json["result"].get("isError")
        # Opened on main: a canary header later does not move the session.
        canary_header = await plain.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call},
                                         headers={"x-canary": "true"})
        assert not canary_header.json["result"].get("isError"), canary_header.text

        canary = Raw(http, cluster.mcp_url("hosted"))
        await canary.initialize_with({"x-canary": "true"})
        answer = await canary.call("tools/call", call)
        failed = answer.json.get("error") or answer.json["result"]
        assert "unreachable" in str(failed), answer.text


async def test_a_hosted_upstream_address_that_refuses_is_passed_over_and_left_out(
        cluster: Cluster, http: aiohttp.ClientSession) -> None:
    async with running_fixture() as fixture:
        origin, _, path = fixture.url.partition("://")[2].partition("/")
        dead = f"127.0.0.1:{free_port()}"
        status, body = await cluster.admin("POST", "/v1/services", json={
            "sourceType": "VIP", "serviceConfigs": [{"name": "pair", "addresses": [dead, origin]}]})
        assert status == 200, body
        await cluster.create_server("hosted", type="RealMCP", protocol="StreamableHTTP", exposedUriPath="/" + path,
                                    backendConfig=_backend(body["data"]["serviceIds"][0]))
        for _ in range(4):  # each client session opens its own upstream session
            raw = Raw(http, cluster.mcp_url("hosted"))
            await raw.initialize()
            answer = await raw.call("tools/call", {"name": "test_simple_text", "arguments": {}})
            assert not answer.json["result"].get("isError"), answer.text
        assert cluster.hosting._http.health.ejected() == [f"http://{dead}"]
