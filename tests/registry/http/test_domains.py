"""The domain resource over the admin API: CRUD, paging, validation, and the rules servers using a
domain follow (one server per domain, deletion refused while in use, `domainInfos`, the edge's view)."""

from __future__ import annotations

from mcpgw.contracts.registry import EdgeServerLookup, EdgeServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api


async def _domain(api: Api, name: str, **fields: object) -> str:
    return str((await api.ok("POST", "/v1/domains", json={"name": name, **fields}))["domainId"])


async def test_create_get_list_update_delete(api: Api) -> None:
    first = await _domain(api, "API.Example.com.", protocol="HTTPS", forceHttps=True, certIdentifier="cert-1")
    second = await _domain(api, "other.example.org")
    assert first.startswith("d-") and len(first) == 18

    got = await api.ok("GET", f"/v1/domains/{first}")
    assert {k: got[k] for k in ("domainId", "name", "protocol", "forceHttps", "certIdentifier", "mcpServers")} == {
        "domainId": first, "name": "api.example.com", "protocol": "HTTPS", "forceHttps": True,
        "certIdentifier": "cert-1", "mcpServers": []}

    listed = await api.ok("GET", "/v1/domains")
    assert listed["totalSize"] == 2 and {i["domainId"] for i in listed["items"]} == {first, second}
    assert [i["domainId"] for i in (await api.ok("GET", "/v1/domains?nameLike=EXAMPLE.org"))["items"]] == [second]
    paged = await api.ok("GET", "/v1/domains?pageSize=1&pageNumber=2")
    assert len(paged["items"]) == 1 and paged["totalSize"] == 2

    updated = await api.ok("PUT", f"/v1/domains/{first}", json={
        "name": "api.example.com", "protocol": "HTTP", "forceHttps": False, "certIdentifier": None})
    assert updated["revision"] > got["revision"]
    got = await api.ok("GET", f"/v1/domains/{first}")
    assert (got["protocol"], got["forceHttps"], got["certIdentifier"]) == ("HTTP", False, "")

    deleted = await api.call("DELETE", f"/v1/domains/{first}")
    assert deleted.status == 200 and "data" not in deleted.body
    assert (await api.call("GET", f"/v1/domains/{first}")).status == 404
    # The name is free again.
    await _domain(api, "api.example.com")


async def test_refusals_name_the_field(api: Api) -> None:
    await _domain(api, "taken.example.com")
    cases = [
        ({"name": "taken.example.com"}, 409, "name: a domain named 'taken.example.com' already exists"),
        ({"name": "*.example.com"}, 400, "name: wildcard domains are not supported yet"),
        ({"name": "api.example.com:8080"}, 400, "name: must be a host name without a port"),
        ({"name": "bad_label.example.com"}, 400, "name: must be a host name"),
        ({"name": "a.example.com", "protocol": "TCP"}, 400, "protocol"),
        ({"name": "a.example.com", "mTLSEnabled": True}, 400, "mTLSEnabled: unknown field"),
        ({}, 400, "name: is required"),
    ]
    for body, status, message in cases:
        reply = await api.call("POST", "/v1/domains", json=body)
        assert reply.status == status and reply.message.startswith(message), (body, reply.body)
    domain = await _domain(api, "fixed.example.com")
    reply = await api.call("PUT", f"/v1/domains/{domain}", json={"name": "moved.example.com"})
    assert reply.status == 400 and reply.message.startswith("name: cannot be changed")
    assert (await api.call("PUT", "/v1/domains/d-0000000000000000", json={})).status == 404
    assert (await api.call("DELETE", "/v1/domains/nonsense")).status == 404


async def test_servers_and_domains(api: Api, bus: Bus) -> None:
    one = await _domain(api, "one.example.com", protocol="HTTPS")
    two = await _domain(api, "two.example.com")
    first = await api.create_server("first", domainIds=[one])

    got = await api.ok("GET", f"/v1/mcp-servers/{first}")
    assert got["domainIds"] == [one]
    assert got["domainInfos"] == [{"domainId": one, "name": "one.example.com", "protocol": "HTTPS"}]
    assert (await api.ok("GET", f"/v1/domains/{one}"))["mcpServers"] == [{"mcpServerId": first, "name": "first"}]
    view = await bus.request(bus.subjects.registry_edge_lookup, EdgeServerLookup(name="first"), EdgeServerLookupReply)
    assert view.server is not None and view.server.hosts == ["one.example.com"]

    # Two servers cannot share a domain: the refusal names the other server.
    reply = await api.call("POST", "/v1/mcp-servers", json={"name": "second", "domainIds": [two, one]})
    assert reply.status == 400
    assert reply.message == (f"domainIds[1]: domain 'one.example.com' ({one}) is used by MCP server 'first'; "
                             "two servers cannot share a domain")
    second = await api.create_server("second", domainIds=[two])
    reply = await api.call("PUT", f"/v1/mcp-servers/{second}", json={"domainIds": [one]})
    assert reply.status == 400 and "used by MCP server 'first'" in reply.message
    reply = await api.call("POST", "/v1/mcp-servers", json={"name": "third", "domainIds": ["d-0000000000000000"]})
    assert reply.status == 400 and reply.message.startswith("domainIds[0]: no domain 'd-0000000000000000'")

    # A domain in use cannot be deleted; the refusal names the server.
    reply = await api.call("DELETE", f"/v1/domains/{one}")
    assert reply.status == 400
    assert reply.message.startswith("domainId: domain 'one.example.com' is used by MCP server 'first'")

    # Moving the domain: the first server lets go, the second takes it, the listing shows both.
    await api.ok("PUT", f"/v1/mcp-servers/{first}", json={"domainIds": []})
    await api.ok("PUT", f"/v1/mcp-servers/{second}", json={"domainIds": [one, two]})
    listed = {i["name"]: i for i in (await api.ok("GET", "/v1/mcp-servers"))["items"]}
    assert listed["first"]["domainInfos"] == []
    assert [d["name"] for d in listed["second"]["domainInfos"]] == ["one.example.com", "two.example.com"]
    view = await bus.request(bus.subjects.registry_edge_lookup, EdgeServerLookup(name="second"), EdgeServerLookupReply)
    assert view.server is not None and view.server.hosts == ["one.example.com", "two.example.com"]

    # Deleting the server frees its domains.
    await api.ok("DELETE", f"/v1/mcp-servers/{second}")
    await api.ok("DELETE", f"/v1/domains/{one}")
    await api.create_server("fourth", domainIds=[two])
