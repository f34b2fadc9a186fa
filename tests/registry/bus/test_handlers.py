"""What the data plane sees on NATS: lookups, the auth index, change events, and a restart."""

from __future__ import annotations

import asyncio
import hashlib
import json

import aiohttp
import jsonschema
import msgspec
import pytest
from mcpgw_registry.service import RegistryService

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.contracts.registry import (
    AuthIndex,
    AuthIndexRequest,
    ConfigChanged,
    EdgeServerLookup,
    EdgeServerLookupReply,
    ServerLookup,
    ServerLookupReply,
)
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api, settings_for
from tests.registry.tools_samples import WEATHER_YAML, WEATHER_YAML_MASKED

YAML = {"Content-Type": "application/yaml"}


class EventLog:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[ConfigChanged] = asyncio.Queue()

    async def handle(self, event: ConfigChanged) -> None:
        await self.queue.put(event)

    async def next(self) -> ConfigChanged:
        return await asyncio.wait_for(self.queue.get(), timeout=5)


async def _events(bus: Bus) -> EventLog:
    log = EventLog()
    await bus.subscribe(bus.subjects.events_all, ConfigChanged, log.handle)
    # Bus.subscribe returns once the subscription is live on the server.
    return log


async def test_lookup_by_name_and_id(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("weather", consumerAuthInfo={"enable": True}, description="w")
    put = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML, headers=YAML)

    by_name = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(name="weather"), ServerLookupReply)
    by_id = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                              ServerLookupReply)
    assert by_name.server is not None and by_id.server is not None
    assert by_name.server == by_id.server
    snapshot = by_name.server
    assert (snapshot.server_id, snapshot.name, snapshot.revision) == (server_id, "weather", put["revision"])
    assert snapshot.consumer_auth is True and snapshot.description == "w" and snapshot.protocol == "HTTP"
    assert [t.name for t in snapshot.tools] == ["get_forecast", "echo.text"]
    assert [t.name for t in snapshot.listing] == ["get_forecast", "echo.text"]
    for item in snapshot.listing:
        entry = json.loads(bytes(item.entry))
        assert entry["name"] == item.name and "description" in entry
        jsonschema.Draft202012Validator.check_schema(entry["inputSchema"])
        assert entry["inputSchema"]["type"] == "object"

    for missing in (ServerLookup(name="nope"), ServerLookup(server_id="mcp-0000000000000000"),
                    ServerLookup(name="Not A Name"), ServerLookup(server_id="../etc")):
        reply = await bus.request(bus.subjects.registry_server_lookup, missing, ServerLookupReply)
        assert reply.server is None
    with pytest.raises(McpgwError) as nameless:
        await bus.request(bus.subjects.registry_server_lookup, ServerLookup(), ServerLookupReply)
    assert nameless.value.code is ErrorCode.INVALID_PARAMETER

    # After a delete the name resolves to nothing.
    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")
    gone = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(name="weather"), ServerLookupReply)
    assert gone.server is None


async def _edge_lookup(bus: Bus, **by: str) -> EdgeServerLookupReply:
    return await bus.request(bus.subjects.registry_edge_lookup, EdgeServerLookup(**by), EdgeServerLookupReply)


async def test_the_edge_is_sent_listings_and_flags_never_tools_or_credentials(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("weather", consumerAuthInfo={"enable": True}, description="w",
                                        listTtlMs=5000)
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML, headers=YAML)
    full = (await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                              ServerLookupReply)).server
    by_name = (await _edge_lookup(bus, name="weather")).server
    by_id = (await _edge_lookup(bus, server_id=server_id)).server
    assert full is not None and by_name is not None and by_name == by_id
    assert (by_name.server_id, by_name.name, by_name.revision, by_name.kind) == (server_id, "weather",
                                                                                 full.revision, "rest")
    assert (by_name.description, by_name.consumer_auth, by_name.list_ttl_ms) == ("w", True, 5000)
    assert by_name.listing == full.listing and by_name.version == "1.0.0" and by_name.passthrough is False
    encoded = json.loads(msgspec.json.encode(by_name))
    assert "secret-token" not in json.dumps(encoded) and "api.example.com" not in json.dumps(encoded)
    assert set(encoded) == {"server_id", "name", "revision", "description", "version", "consumer_auth",
                            "list_ttl_ms", "listing"}

    # Only whether the client's own credential goes along, whichever way the document asks for it.
    asks = {"passthroughAuthHeader": "server:\n  name: s\n  passthroughAuthHeader: true\n",
            "tool security": "server:\n  name: s\n  securitySchemes: [{id: b, type: http, scheme: bearer}]\n"
                             "tools:\n  - {name: t, security: {id: b, passthrough: true}, "
                             "requestTemplate: {url: 'https://x.example'}}\n"}
    for doc in asks.values():
        await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=doc, headers=YAML)
        view = (await _edge_lookup(bus, server_id=server_id)).server
        assert view is not None and view.passthrough is True

    # An assembly names its sources; a hosted server says nothing about its upstream.
    assembly = await api.create_server("both", type="AssemblyMCP", createFromType="ApiGatewayAssembly",
                                       assembledSources=[{"mcpServerId": server_id, "tools": []}])
    view = (await _edge_lookup(bus, server_id=assembly)).server
    assert view is not None and view.kind == "assembly" and [s.server_id for s in view.sources] == [server_id]
    service = await api.create_service("up", "10.0.0.1:8080", source_type="VIP")
    await api.create_server("up", protocol="StreamableHTTP", exposedUriPath="/mcp",
                                     backendConfig={"scene": "SingleService", "services": [{"serviceId": service}]},
                                     upstreamCredential={"type": "Bearer", "value": "upstream-secret"})
    view = (await _edge_lookup(bus, name="up")).server
    assert view is not None and view.kind == "hosted"
    assert b"upstream-secret" not in msgspec.json.encode(view) and b"10.0.0.1" not in msgspec.json.encode(view)

    for missing in ({"name": "nope"}, {"server_id": "mcp-0000000000000000"}, {"name": "Not A Name"}):
        assert (await _edge_lookup(bus, **missing)).server is None
    with pytest.raises(McpgwError) as nameless:
        await _edge_lookup(bus)
    assert nameless.value.code is ErrorCode.INVALID_PARAMETER


async def test_auth_index(api: Api, bus: Bus) -> None:
    created = await api.ok("POST", "/v1/consumers", json={
        "name": "alice", "apikeyIdentityConfig": {"apikeySource": {"source": "Header", "value": "X-Key"},
                                                  "credentials": [{"generateMode": "System"}]}})
    await api.ok("POST", "/v1/consumers", json={"name": "nokeys", "enable": False})
    key = created["apikeyIdentityConfig"]["credentials"][0]["apikey"]
    index = await bus.request(bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex)
    by_name = {c.name: c for c in index.consumers}
    assert set(by_name) == {"alice", "nokeys"}
    alice = by_name["alice"]
    assert alice.consumer_id == created["consumerId"] and alice.enable
    assert alice.apikey_hashes == [hashlib.sha256(key.encode()).hexdigest()]
    assert (alice.apikey_source.source, alice.apikey_source.value) == ("Header", "X-Key")
    assert by_name["nokeys"].enable is False and by_name["nokeys"].apikey_hashes == []


async def test_a_change_event_follows_every_write(api: Api, bus: Bus) -> None:
    events = await _events(bus)
    server_id = await api.create_server("evented")
    created = await events.next()
    assert (created.entity, created.id, created.op, created.name) == ("server", server_id, "put", "evented")
    assert created.revision > 0

    updated = await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "x"})
    event = await events.next()
    assert (event.op, event.revision) == ("put", updated["revision"])

    tools = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML, headers=YAML)
    event = await events.next()
    assert (event.id, event.op, event.revision) == (server_id, "put", tools["revision"])

    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")
    event = await events.next()
    assert (event.entity, event.id, event.op, event.name) == ("server", server_id, "delete", "evented")

    consumer = await api.ok("POST", "/v1/consumers", json={"name": "c1"})
    event = await events.next()
    assert (event.entity, event.id, event.op, event.name) == ("consumer", consumer["consumerId"], "put", "c1")
    await api.ok("PUT", f"/v1/consumers/{consumer['consumerId']}", json={"enable": False})
    assert (await events.next()).op == "put"
    await api.ok("DELETE", f"/v1/consumers/{consumer['consumerId']}")
    event = await events.next()
    assert (event.entity, event.op) == ("consumer", "delete")

    # A rejected write publishes nothing: the next event is the next good write.
    assert (await api.call("POST", "/v1/mcp-servers", json={"name": "BAD"})).status == 400
    await api.create_server("after-bad")
    assert (await events.next()).name == "after-bad"
    assert events.queue.empty()


async def test_everything_survives_a_restart(nats_url: str, root: str, bus: Bus) -> None:
    settings = settings_for(nats_url, root)
    first = RegistryService(settings)
    await first.start()
    async with aiohttp.ClientSession(f"http://127.0.0.1:{first.port}") as session:
        api = Api(session, first)
        server_id = await api.create_server("durable")
        await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML, headers=YAML)
        consumer = await api.ok("POST", "/v1/consumers", json={
            "name": "keeper", "apikeyIdentityConfig": {"credentials": [{"generateMode": "System"}]}})
        before = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    await first.stop()

    second = RegistryService(settings)
    await second.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{second.port}") as session:
            api = Api(session, second)
            assert await api.ok("GET", f"/v1/mcp-servers/{server_id}") == before
            masked = WEATHER_YAML_MASKED  # credentials are write-only
            assert (await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")).body == masked
            got = await api.ok("GET", f"/v1/consumers/{consumer['consumerId']}")
            assert got["name"] == "keeper" and len(got["apiKeyIdentityConfig"]["credentials"]) == 1
            taken = await api.call("POST", "/v1/mcp-servers", json={"name": "durable"})
            assert taken.status == 409
        lookup = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(name="durable"),
                                   ServerLookupReply)
        assert lookup.server is not None and len(lookup.server.listing) == 2
    finally:
        await second.stop()
