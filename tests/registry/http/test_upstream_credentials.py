"""A consumer's own upstream credential for a hosted server, and the lookup hosting makes over NATS."""

from __future__ import annotations

import asyncio
import json

import msgspec
import nats.js.errors

from mcpgw.contracts.errors import ErrorCode
from mcpgw.contracts.hosting import UpstreamCredential, UpstreamLookup, UpstreamLookupReply
from mcpgw.contracts.registry import ConfigChanged
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.resources.hosted.test_servers import hosted

SERVER_SECRET = "server-wide-secret"
OWN_SECRET = "alice-own-secret"


async def _lookup(bus: Bus, server_id: str, consumer_id: str = "") -> UpstreamLookupReply:
    return await bus.request(bus.subjects.registry_upstream_lookup,
                             UpstreamLookup(server_id=server_id, consumer_id=consumer_id), UpstreamLookupReply)


async def _consumer(api: Api, name: str) -> str:
    return str((await api.ok("POST", "/v1/consumers", json={"name": name}))["consumerId"])


async def test_per_consumer_credential_endpoints(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("s")
    server_id = await api.create_server("h", **hosted(service_id))
    alice = await _consumer(api, "alice")
    path = f"/v1/mcp-servers/{server_id}/consumers/{alice}/upstream-credential"

    none = await api.call("GET", path)
    assert (none.status, none.message) == (
        404, f"upstreamCredential: consumer {alice} has no upstream credential for MCP server {server_id}")
    before = (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["revision"]

    events: asyncio.Queue[ConfigChanged] = asyncio.Queue()

    async def seen(event: ConfigChanged) -> None:
        await events.put(event)

    await bus.subscribe(bus.subjects.event_server(server_id), ConfigChanged, seen)
    put = await api.ok("PUT", path, json={"type": "ApiKey", "value": OWN_SECRET, "name": "key", "location": "query"})
    masked = {"type": "ApiKey", "name": "key", "location": "query", "configured": True}
    assert put == {"mcpServerId": server_id, "consumerId": alice, "upstreamCredential": masked}
    event = await asyncio.wait_for(events.get(), 5)
    assert (event.op, event.name) == ("put", "h") and event.revision > before
    got = await api.ok("GET", path)
    assert got["upstreamCredential"] == masked and OWN_SECRET not in json.dumps(got)

    reply = await _lookup(bus, server_id, alice)
    assert reply.upstream is not None and reply.upstream.per_consumer is True
    assert reply.upstream.revision == event.revision
    assert reply.upstream.credential == UpstreamCredential(type="ApiKey", value=OWN_SECRET, name="key",
                                                           location="query")

    bad = await api.call("PUT", path, json={"type": "Bearer", "value": "x\ny"})
    assert bad.status == 400 and bad.message.startswith("upstreamCredential.value: must not contain CR, LF")
    # Unknown ids are 404; a server that is not hosted is a 400.
    for wrong in (f"/v1/mcp-servers/mcp-0000000000000000/consumers/{alice}/upstream-credential",
                  f"/v1/mcp-servers/{server_id}/consumers/cs-0000000000000000/upstream-credential"):
        reply_404 = await api.call("PUT", wrong, json={"type": "Bearer", "value": "t"})
        assert (reply_404.status, reply_404.body["code"]) == (404, "NotFound")
    rest = await api.create_server("rest")
    not_hosted = await api.call("PUT", f"/v1/mcp-servers/{rest}/consumers/{alice}/upstream-credential",
                                json={"type": "Bearer", "value": "t"})
    assert not_hosted.status == 400 and not_hosted.message.startswith("mcpServerId: MCP server 'rest' is a "
                                                                      "REST-converted MCP server")

    await api.ok("DELETE", path)
    event = await asyncio.wait_for(events.get(), 5)
    assert (await _lookup(bus, server_id, alice)).upstream.per_consumer is False  # type: ignore[union-attr]
    assert (await api.call("DELETE", path)).status == 404
    assert (await api.call("GET", path)).status == 404


async def test_lookup_prefers_the_consumers_own_credential(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("s", "mcp.test:8000")
    server_id = await api.create_server("h", mcpStatisticsEnable=True, **hosted(
        service_id, upstreamCredential={"type": "Bearer", "value": SERVER_SECRET}))
    alice, bob = await _consumer(api, "alice"), await _consumer(api, "bob")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}/consumers/{alice}/upstream-credential",
                 json={"type": "Basic", "username": "alice", "password": OWN_SECRET})

    own = (await _lookup(bus, server_id, alice)).upstream
    assert own is not None and own.per_consumer is True
    assert own.credential == UpstreamCredential(type="Basic", username="alice", password=OWN_SECRET)
    shared = (await _lookup(bus, server_id, bob)).upstream
    anonymous = (await _lookup(bus, server_id)).upstream
    for upstream in (shared, anonymous):
        assert upstream is not None and upstream.per_consumer is False
        assert upstream.credential == UpstreamCredential(type="Bearer", value=SERVER_SECRET)
    assert shared is not None
    assert (shared.server_id, shared.name, shared.statistics) == (server_id, "h", True)
    assert (shared.backend.transport, shared.backend.path) == ("StreamableHTTP", "/mcp")
    assert [t.address for t in shared.backend.targets] == ["mcp.test:8000"]
    assert shared.revision == (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["revision"]

    # Not hosted, unknown or malformed: no upstream. A consumer id that is not one is ignored.
    rest = await api.create_server("rest")
    for server in (rest, "mcp-0000000000000000", "../x"):
        assert (await _lookup(bus, server)).upstream is None
    assert (await _lookup(bus, server_id, "no such consumer")).upstream is not None

    # Without any credential: none.
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"upstreamCredential": None})
    plain = (await _lookup(bus, server_id, bob)).upstream
    assert plain is not None and plain.credential is None
    assert b"credential" not in msgspec.json.encode(plain)


async def test_credentials_go_with_their_consumer_or_server(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("s")
    server_id = await api.create_server("h", **hosted(service_id))
    alice = await _consumer(api, "alice")
    path = f"/v1/mcp-servers/{server_id}/consumers/{alice}/upstream-credential"
    await api.ok("PUT", path, json={"type": "Bearer", "value": OWN_SECRET})
    assert await _credential_keys(api, bus) == [f"upstream-credentials.{server_id}.{alice}"]
    revision = (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["revision"]

    await api.ok("DELETE", f"/v1/consumers/{alice}")
    # The server was rewritten (hosting drops what it cached for alice), and the credential is gone.
    assert (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["revision"] > revision
    reply = await _lookup(bus, server_id, alice)
    assert reply.upstream is not None and reply.upstream.credential is None

    bob = await _consumer(api, "bob")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}/consumers/{bob}/upstream-credential",
                 json={"type": "Bearer", "value": OWN_SECRET})
    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")
    # A new server under the same name does not inherit it.
    again = await api.create_server("h", **hosted(service_id))
    missing = await api.call("GET", f"/v1/mcp-servers/{again}/consumers/{bob}/upstream-credential")
    assert missing.status == 404 and missing.body["code"] == ErrorCode.NOT_FOUND
    reply = await _lookup(bus, server_id, bob)
    assert reply.upstream is None
    assert await _credential_keys(api, bus) == []


async def _credential_keys(api: Api, bus: Bus) -> list[str]:
    kv = await bus.nc.jetstream().key_value(api.service.settings.kv_bucket)
    try:
        keys = await kv.keys()
    except nats.js.errors.NoKeysError:
        return []
    return [k for k in keys if k.startswith("upstream-credentials.")]
