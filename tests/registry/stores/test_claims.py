"""The unique-claim protocol (names, API keys) across registry replicas, against a real JetStream bucket."""

from __future__ import annotations

import msgspec
from mcpgw_registry.stores import claims

from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api


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
