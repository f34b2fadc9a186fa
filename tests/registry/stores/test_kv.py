"""The KV layer and the unique-claim protocol, against a real JetStream bucket."""

from __future__ import annotations

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from mcpgw_registry.http.envelope import MAX_BODY, envelope_middleware
from mcpgw_registry.stores import claims
from mcpgw_registry.stores.kv import KeyExists, RevisionMismatch, Store

from mcpgw.contracts.errors import ErrorCode, McpgwError
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api


async def test_conditional_writes_and_scan(bus: Bus, root: str) -> None:
    store = await Store.open(bus.nc, f"st-{root}", replicas=1, timeout=5)
    first = await store.create("things.a", b"1")
    with pytest.raises(KeyExists):
        await store.create("things.a", b"2")
    second = await store.update("things.a", b"2", last=first)
    with pytest.raises(RevisionMismatch):
        await store.update("things.a", b"3", last=first)
    await store.create("things.b", b"b")
    await store.create("things.c", b"c")
    await store.delete("things.c")
    assert await store.get("things.c") is None and await store.get("things.none") is None
    entry = await store.get("things.a")
    assert entry is not None and (entry.value, entry.revision) == (b"2", second)
    assert sorted((e.key, e.value) for e in await store.scan("things")) == [("things.a", b"2"), ("things.b", b"b")]
    assert await store.scan("empty") == []
    # A deleted key can be created again.
    await store.create("things.c", b"again")
    with pytest.raises(McpgwError) as big:
        await store.create("things.big", b"x" * (store.max_value_bytes + 1))
    assert big.value.code is ErrorCode.PAYLOAD_TOO_LARGE


async def test_stale_name_claims_are_taken_over_only_when_old(api: Api, bus: Bus, root: str) -> None:
    kv = await bus.nc.jetstream(timeout=5).key_value(f"cfg-{root}")
    # A claim left by a create that died between its two writes, long ago...
    old = claims.Claim(owner="mcp-zzzzzzzzzzzzzzzz", at_ms=claims.now_ms() - claims.STALE_AFTER_MS - 1)
    await kv.put("server-names.orphan", msgspec.json.encode(old))
    await api.create_server("orphan")
    # ...and one that may belong to a create in flight on another replica right now.
    young = claims.Claim(owner="mcp-yyyyyyyyyyyyyyyy", at_ms=claims.now_ms())
    await kv.put("server-names.inflight", msgspec.json.encode(young))
    reply = await api.call("POST", "/v1/mcp-servers", json={"name": "inflight"})
    assert reply.status == 409


async def test_a_partly_claimed_consumer_create_releases_its_claims(api: Api) -> None:
    key1, key2 = "first-key-0123456789", "second-key-0123456789"
    custom = [{"apikey": key2, "generateMode": "Custom"}]
    await api.ok("POST", "/v1/consumers", json={"name": "holder", "apikeyIdentityConfig": {"credentials": custom}})
    both = [{"apikey": key1, "generateMode": "Custom"}, {"apikey": key2, "generateMode": "Custom"}]
    reply = await api.call("POST", "/v1/consumers", json={"name": "greedy", "apikeyIdentityConfig": {
        "credentials": both}})
    assert reply.status == 409 and reply.message.startswith("apikeyIdentityConfig.credentials[1].apikey: ")
    # key1 was claimed before key2 failed; it was released, so it is free now.
    await api.ok("POST", "/v1/consumers", json={"name": "next", "apikeyIdentityConfig": {
        "credentials": [{"apikey": key1, "generateMode": "Custom"}]}})


async def test_unexpected_exceptions_become_a_bare_500() -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret detail from deep inside")

    async def refused(request: web.Request) -> web.Response:
        raise McpgwError(ErrorCode.CONFLICT, "name: taken")

    app = web.Application(middlewares=[envelope_middleware])
    app[MAX_BODY] = 1024
    app.router.add_get("/broken", broken)
    app.router.add_get("/refused", refused)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/broken")
        body = await resp.json()
        assert resp.status == 500
        assert (body["code"], body["message"]) == ("InternalError", "internal error")
        assert "secret" not in await resp.text() and "Traceback" not in await resp.text()
        resp = await client.get("/refused")
        assert resp.status == 409 and (await resp.json())["code"] == "Conflict"
