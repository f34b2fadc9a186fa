"""The service resource over the admin API: CRUD, paging, validation messages, and what servers using
a service see (deletion refused, updates rewriting them)."""

from __future__ import annotations

import asyncio

import pytest

from mcpgw.contracts.registry import ConfigChanged, ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.pem import ca_pem


async def test_create_get_list_update_delete(api: Api) -> None:
    created = await api.ok("POST", "/v1/services", json={
        "gatewayId": "gw-1", "sourceType": "DNS", "resourceGroupId": "rg-1",
        "serviceConfigs": [{"name": "alpha", "addresses": ["alpha.test:8080", "alpha2.test:8080"]},
                           {"name": "beta", "addresses": ["[::1]:9443"], "protocol": "HTTPS", "caBundle": ca_pem()}]})
    alpha, beta = created["serviceIds"]
    assert alpha.startswith("svc-") and len(alpha) == 20

    got = await api.ok("GET", f"/v1/services/{alpha}")
    assert {k: got[k] for k in ("serviceId", "name", "gatewayId", "sourceType", "protocol", "addresses",
                                "ports", "caBundle", "resourceGroupId")} == {
        "serviceId": alpha, "name": "alpha", "gatewayId": "gw-1", "sourceType": "DNS", "protocol": "HTTP",
        "addresses": ["alpha.test:8080", "alpha2.test:8080"], "ports": [{"port": 8080, "protocol": "HTTP"}],
        "caBundle": "", "resourceGroupId": "rg-1"}
    assert got["createTimestamp"] == got["updateTimestamp"] > 0
    assert (await api.ok("GET", f"/v1/services/{beta}"))["caBundle"] == ca_pem()

    listed = await api.ok("GET", "/v1/services")
    assert (listed["totalSize"], listed["pageNumber"], listed["pageSize"]) == (2, 1, 10)
    assert (await api.ok("GET", "/v1/services?name=beta"))["items"][0]["serviceId"] == beta
    assert (await api.ok("GET", "/v1/services?name=bet"))["totalSize"] == 0  # exact, not fuzzy
    assert (await api.ok("GET", "/v1/services?sourceType=VIP"))["totalSize"] == 0
    paged = await api.ok("GET", "/v1/services?pageSize=1&pageNumber=2")
    assert len(paged["items"]) == 1 and paged["totalSize"] == 2

    updated = await api.ok("PUT", f"/v1/services/{alpha}", json={
        "addresses": ["alpha.test:443"], "protocol": "HTTPS", "caBundle": ca_pem()})
    assert updated["revision"] > got["revision"]
    got = await api.ok("GET", f"/v1/services/{alpha}")
    assert (got["addresses"], got["protocol"], got["caBundle"]) == (["alpha.test:443"], "HTTPS", ca_pem())
    await api.ok("PUT", f"/v1/services/{alpha}", json={"caBundle": None})
    assert (await api.ok("GET", f"/v1/services/{alpha}"))["caBundle"] == ""

    deleted = await api.call("DELETE", f"/v1/services/{alpha}")
    assert deleted.status == 200 and "data" not in deleted.body
    gone = await api.call("GET", f"/v1/services/{alpha}")
    assert (gone.status, gone.body["code"], gone.message) == (404, "NotFound", f"serviceId: no service {alpha!r}")
    # The name is free again; a taken one is a conflict.
    await api.create_service("alpha")
    taken = await api.call("POST", "/v1/services", json={"sourceType": "DNS",
                                                         "serviceConfigs": [{"name": "beta", "addresses": ["b:1"]}]})
    assert (taken.status, taken.message) == (409, "serviceConfigs[0].name: a service named 'beta' already exists")


def _one(config: dict[str, object], source: str = "DNS") -> dict[str, object]:
    return {"sourceType": source, "serviceConfigs": [{"name": "s", **config}]}


@pytest.mark.parametrize(("body", "message"), [
    ({"sourceType": "K8S", "serviceConfigs": [{"name": "s"}]},
     "sourceType: source type K8S is not supported yet; use VIP or DNS"),
    ({"sourceType": "Carrier", "serviceConfigs": [{"name": "s"}]}, "sourceType: unknown value 'Carrier'"),
    ({"sourceType": "DNS", "serviceConfigs": []}, "serviceConfigs: is required: at least one service"),
    ({"serviceConfigs": [{"name": "s"}]}, "sourceType: is required"),
    ({"sourceType": "DNS", "serviceConfigs": [{"name": "s", "addresses": ["a:1"], "colour": "red"}]},
     "serviceConfigs[0].colour: unknown field"),
    ({"sourceType": "DNS", "clientToken": "x", "serviceConfigs": []}, "clientToken: unknown field"),
    (_one({"addresses": []}), "serviceConfigs[0].addresses: is required"),
    (_one({"addresses": ["host"]}), "serviceConfigs[0].addresses[0]: must be host:port (the port is required)"),
    (_one({"addresses": ["host:0"]}), "serviceConfigs[0].addresses[0]: must end in a port between 1 and 65535"),
    (_one({"addresses": ["host:65536"]}), "serviceConfigs[0].addresses[0]: must end in a port"),
    (_one({"addresses": ["host:http"]}), "serviceConfigs[0].addresses[0]: must end in a port"),
    (_one({"addresses": [":80"]}), "serviceConfigs[0].addresses[0]: must name a host"),
    (_one({"addresses": ["http://host:80"]}), "serviceConfigs[0].addresses[0]: must be host:port, without a scheme"),
    (_one({"addresses": ["host:80/mcp"]}), "serviceConfigs[0].addresses[0]: must be host:port, without a scheme"),
    (_one({"addresses": ["::1:80"]}), "serviceConfigs[0].addresses[0]: must put an IPv6 address in brackets"),
    (_one({"addresses": ["[zz::1]:80"]}), "serviceConfigs[0].addresses[0]: 'zz::1' is not an IPv6 address"),
    (_one({"addresses": ["bad_host:80"]}), "serviceConfigs[0].addresses[0]: 'bad_host' is not a valid host name"),
    (_one({"addresses": ["a:1", "a:1"]}), "serviceConfigs[0].addresses: lists an address twice"),
    (_one({"addresses": ["host.test:80"]}, "VIP"), "serviceConfigs[0].addresses[0]: a VIP service takes IP"),
    (_one({"addresses": ["a:1"], "protocol": "TCP"}), "serviceConfigs[0].protocol: invalid enum value"),
    (_one({"addresses": ["a:1"], "caBundle": "not pem"}), "serviceConfigs[0].caBundle: must be PEM text"),
    (_one({"addresses": ["a:1"], "caBundle": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}),
     "serviceConfigs[0].caBundle: is not a valid PEM certificate bundle"),
    ({"sourceType": "DNS", "serviceConfigs": [{"name": "bad name", "addresses": ["a:1"]}]},
     "serviceConfigs[0].name: must be letters"),
    ({"sourceType": "DNS",
      "serviceConfigs": [{"name": "s", "addresses": ["a:1"]}, {"name": "s", "addresses": ["b:1"]}]},
     "serviceConfigs[1].name: repeats serviceConfigs[0]"),
])
async def test_invalid_bodies_name_the_field(api: Api, body: object, message: str) -> None:
    reply = await api.call("POST", "/v1/services", json=body)
    assert (reply.status, reply.body["code"]) == (400, "InvalidParameter"), reply.body
    assert reply.message.startswith(message), reply.message
    assert (await api.ok("GET", "/v1/services"))["totalSize"] == 0  # nothing half written


async def test_addresses_that_are_accepted(api: Api) -> None:
    await api.create_service("v4", "10.0.0.1:80", "10.0.0.2:65535", source_type="VIP")
    await api.create_service("v6", "[2001:db8::1]:443", source_type="VIP")
    await api.create_service("dns", "svc.namespace.cluster.local:8080", "localhost:1", "10.1.1.1:9")


async def test_update_validation_and_unknown_ids(api: Api) -> None:
    service_id = await api.create_service("s", "10.0.0.1:80", source_type="VIP")
    for body, message in [({"addresses": ["name.test:80"]}, "addresses[0]: a VIP service takes IP addresses"),
                          ({"name": "other"}, "name: unknown field"),
                          ({"caBundle": "x"}, "caBundle: must be PEM text"),
                          ({"protocol": "DUBBO"}, "protocol: invalid enum value")]:
        reply = await api.call("PUT", f"/v1/services/{service_id}", json=body)
        assert (reply.status, reply.body["code"]) == (400, "InvalidParameter")
        assert reply.message.startswith(message), reply.message
    for method in ("GET", "PUT", "DELETE"):
        for unknown in ("svc-0000000000000000", "nope"):
            reply = await api.call(method, f"/v1/services/{unknown}", json={})
            assert (reply.status, reply.body["code"]) == (404, "NotFound")
    bad = await api.call("GET", "/v1/services?pageSize=101")
    assert bad.status == 400 and bad.message.startswith("pageSize: ")


def _hosted(service_id: str, **fields: object) -> dict[str, object]:
    return {"protocol": "StreamableHTTP", "exposedUriPath": "/mcp",
            "backendConfig": {"scene": "SingleService", "services": [{"serviceId": service_id}]}, **fields}


async def test_a_service_in_use_cannot_be_deleted(api: Api) -> None:
    service_id = await api.create_service("shared")
    first = await api.create_server("first", **_hosted(service_id))
    await api.create_server("second", backendConfig={"services": [{"serviceId": service_id}]})  # REST, informational
    refused = await api.call("DELETE", f"/v1/services/{service_id}")
    assert (refused.status, refused.body["code"]) == (400, "InvalidParameter")
    assert refused.message == (f"serviceId: service {service_id} is used by MCP servers 'first', 'second' "
                               "(backendConfig); change or delete them first")
    await api.ok("DELETE", f"/v1/mcp-servers/{first}")
    other = await api.create_service("other")
    second = (await api.ok("GET", "/v1/mcp-servers?nameLike=second"))["items"][0]["mcpServerId"]
    await api.ok("PUT", f"/v1/mcp-servers/{second}", json={"backendConfig": {"services": [{"serviceId": other}]}})
    await api.ok("DELETE", f"/v1/services/{service_id}")


async def test_an_update_rewrites_the_servers_using_it(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("moving", "old.test:8080")
    server_id = await api.create_server("hosted", **_hosted(service_id))
    unrelated = await api.create_server("unrelated")
    before = await api.ok("GET", f"/v1/mcp-servers/{server_id}")

    events: asyncio.Queue[ConfigChanged] = asyncio.Queue()

    async def seen(event: ConfigChanged) -> None:
        await events.put(event)

    await bus.subscribe(bus.subjects.events_all, ConfigChanged, seen)
    await api.ok("PUT", f"/v1/services/{service_id}", json={"addresses": ["new.test:9443"], "protocol": "HTTPS",
                                                             "caBundle": ca_pem()})
    got = [await asyncio.wait_for(events.get(), 5) for _ in range(2)]
    assert [(e.entity, e.id, e.op) for e in got] == [("service", service_id, "put"), ("server", server_id, "put")]
    assert got[1].name == "hosted" and got[1].revision > before["revision"]
    assert events.empty()  # the unrelated server was left alone
    assert (await api.ok("GET", f"/v1/mcp-servers/{unrelated}"))["revision"] > 0

    reply = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                              ServerLookupReply)
    assert reply.server is not None and reply.server.hosted is not None
    assert reply.server.revision == got[1].revision
    [target] = reply.server.hosted.targets
    assert (target.address, target.scheme, target.ca_bundle, target.weight) == ("new.test:9443", "https",
                                                                                ca_pem(), 100)
    after = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert after["backend"]["services"] == [{"serviceId": service_id, "name": "moving", "protocol": "HTTPS"}]


async def test_an_update_keeps_the_ports_servers_picked(api: Api) -> None:
    service_id = await api.create_service("ported", "a.test:8080", "a.test:9090")
    await api.create_server("pinned", protocol="SSE", exposedUriPath="/sse", backendConfig={
        "scene": "SingleService", "services": [{"serviceId": service_id, "port": 9090}]})
    refused = await api.call("PUT", f"/v1/services/{service_id}", json={"addresses": ["a.test:8080"]})
    assert (refused.status, refused.message) == (400, "addresses: MCP server 'pinned' uses port 9090 of this service "
                                                      "(backendConfig.services[0].port); keep an address on that "
                                                      "port or change the server first")
    assert (await api.ok("GET", f"/v1/services/{service_id}"))["addresses"] == ["a.test:8080", "a.test:9090"]
    await api.ok("PUT", f"/v1/services/{service_id}", json={"addresses": ["b.test:9090"]})
