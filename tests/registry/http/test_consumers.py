"""Consumers and API keys: keys shown once, stored hashed, unique across consumers."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api

CUSTOM = "custom-key-0123456789"
SHARED_SECRET = "a-shared-secret-of-at-least-32-bytes!"


async def _bucket_values(bus: Bus, root: str) -> list[bytes]:
    kv = await bus.nc.jetstream(timeout=5).key_value(f"cfg-{root}")
    values = []
    for key in await kv.keys():
        entry = await kv.get(key)
        values.append(entry.value or b"")
    return values


def _apikey_config(*credentials: dict[str, Any], source: str = "Default", value: str = "") -> dict[str, Any]:
    return {"type": "Apikey", "apikeySource": {"source": source, "value": value}, "credentials": list(credentials)}


async def test_system_key_is_shown_once_and_stored_hashed(api: Api, bus: Bus, root: str) -> None:
    created = await api.ok("POST", "/v1/consumers", json={
        "name": "alice", "description": "first", "gatewayType": "AI",
        "apikeyIdentityConfig": _apikey_config({"generateMode": "System"}),
    })
    consumer_id = created["consumerId"]
    assert consumer_id.startswith("cs-")
    (credential,) = created["apikeyIdentityConfig"]["credentials"]
    key = credential["apikey"]
    assert key.startswith("mcpgw_") and len(key) > 40
    assert credential["credentialId"].startswith("ck-") and credential["generateMode"] == "System"

    got = await api.ok("GET", f"/v1/consumers/{consumer_id}")
    assert got["name"] == "alice" and got["enable"] is True and got["gatewayType"] == "AI"
    config = got["apiKeyIdentityConfig"]
    assert config["apikeySource"] == {"source": "Default"}
    assert config["credentials"][0]["apikey"] == key[:6] + "…"
    assert config["credentials"][0]["credentialId"] == credential["credentialId"]
    listed = await api.ok("GET", "/v1/consumers")
    assert listed["totalSize"] == 1 and "apiKeyIdentityConfig" not in listed["items"][0]

    for text in [str(got), str(listed)]:
        assert key not in text and hashlib.sha256(key.encode()).hexdigest() not in text
    stored = await _bucket_values(bus, root)
    assert stored and not any(key.encode() in value for value in stored)
    assert any(hashlib.sha256(key.encode()).hexdigest().encode() in value for value in stored)


async def test_custom_keys_sources_and_conflicts(api: Api) -> None:
    created = await api.ok("POST", "/v1/consumers", json={
        "name": "bob", "apikeyIdentityConfig": _apikey_config({"apikey": CUSTOM, "generateMode": "Custom"},
                                                              source="Header", value="X-Api-Key"),
    })
    assert created["apikeyIdentityConfig"]["credentials"][0]["apikey"] == CUSTOM
    got = await api.ok("GET", f"/v1/consumers/{created['consumerId']}")
    assert got["apiKeyIdentityConfig"]["apikeySource"] == {"source": "Header", "value": "X-Api-Key"}

    taken = await api.call("POST", "/v1/consumers", json={
        "name": "mallory", "apikeyIdentityConfig": _apikey_config({"apikey": CUSTOM, "generateMode": "Custom"}),
    })
    assert (taken.status, taken.body["code"]) == (409, "Conflict")
    assert taken.message.startswith("apikeyIdentityConfig.credentials[0].apikey: ")
    # The failed create left nothing behind.
    assert (await api.ok("GET", "/v1/consumers?nameLike=mall"))["totalSize"] == 0

    # Once bob is gone, the key is free again.
    await api.ok("DELETE", f"/v1/consumers/{created['consumerId']}")
    await api.ok("POST", "/v1/consumers", json={
        "name": "carol", "apikeyIdentityConfig": _apikey_config({"apikey": CUSTOM, "generateMode": "Custom"}),
    })


@pytest.mark.parametrize(("body", "status", "message"), [
    ({}, 400, "name: is required"),
    ({"name": ""}, 400, "name: must be 1 to 64 characters"),
    ({"name": "n" * 65}, 400, "name: must be 1 to 64 characters"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config({"apikey": "short", "generateMode": "Custom"})},
     400, "apikeyIdentityConfig.credentials[0].apikey: must be 16 to 256 printable characters"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config({"apikey": "has a space in it!!", "generateMode": "Custom"})},
     400, "apikeyIdentityConfig.credentials[0].apikey: must be 16"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config({"generateMode": "Custom"})},
     400, "apikeyIdentityConfig.credentials[0].apikey: is required when generateMode is Custom"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config({"apikey": CUSTOM, "generateMode": "System"})},
     400, "apikeyIdentityConfig.credentials[0].apikey: must not be given"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config({"generateMode": "Magic"})},
     400, "apikeyIdentityConfig.credentials[0].generateMode: invalid enum value"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config({"apikey": CUSTOM, "generateMode": "Custom"},
                                                          {"apikey": CUSTOM, "generateMode": "Custom"})},
     400, "apikeyIdentityConfig.credentials[1].apikey: is the same key as credentials[0]"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config(source="Header")},
     400, "apikeyIdentityConfig.apikeySource.value: must be a valid HTTP header name"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config(source="QueryString", value="a b")},
     400, "apikeyIdentityConfig.apikeySource.value: must be a query parameter name"),
    ({"name": "x", "apikeyIdentityConfig": _apikey_config({"credentialId": "ck-x"})},
     400, "apikeyIdentityConfig.credentials[0].credentialId: can only be given when updating"),
    ({"name": "x", "enable": "yes"}, 400, "enable: expected `bool`"),
    ({"name": "x", "color": 1}, 400, "color: unknown field"),
])
async def test_invalid_consumers(api: Api, body: dict[str, Any], status: int, message: str) -> None:
    reply = await api.call("POST", "/v1/consumers", json=body)
    assert reply.status == status, reply.body
    assert reply.message.startswith(message), reply.message


async def test_update_keeps_adds_and_drops_keys(api: Api, bus: Bus, root: str) -> None:
    created = await api.ok("POST", "/v1/consumers", json={
        "name": "dave", "jwtIdentityConfig": {"type": "Jwt", "secretType": "Symmetry", "jwks": SHARED_SECRET},
        "apikeyIdentityConfig": _apikey_config({"generateMode": "System"},
                                               {"apikey": CUSTOM, "generateMode": "Custom"}),
    })
    consumer_id = created["consumerId"]
    first, _second = created["apikeyIdentityConfig"]["credentials"]

    updated = await api.ok("PUT", f"/v1/consumers/{consumer_id}", json={
        "description": "changed", "enable": False,
        "apikeyIdentityConfig": _apikey_config({"credentialId": first["credentialId"]}, {"generateMode": "System"},
                                               source="QueryString", value="api_key"),
    })
    kept, fresh = updated["apikeyIdentityConfig"]["credentials"]
    assert kept == {**first, "apikey": first["apikey"][:6] + "…"}
    assert fresh["apikey"].startswith("mcpgw_") and fresh["credentialId"] != first["credentialId"]

    got = await api.ok("GET", f"/v1/consumers/{consumer_id}")
    assert got["description"] == "changed" and got["enable"] is False
    assert got["jwtIdentityConfig"]["secretType"] == "Symmetry"
    assert got["jwtIdentityConfig"]["jwks"] == "******"  # the shared secret is write-only
    assert [c["credentialId"] for c in got["apiKeyIdentityConfig"]["credentials"]] == [
        first["credentialId"], fresh["credentialId"]]
    assert got["apiKeyIdentityConfig"]["apikeySource"] == {"source": "QueryString", "value": "api_key"}
    assert fresh["apikey"] not in str(got)
    assert not any(fresh["apikey"].encode() in v for v in await _bucket_values(bus, root))

    # The dropped custom key is free for another consumer now.
    await api.ok("POST", "/v1/consumers", json={
        "name": "erin", "apikeyIdentityConfig": _apikey_config({"apikey": CUSTOM, "generateMode": "Custom"}),
    })
    unknown = await api.call("PUT", f"/v1/consumers/{consumer_id}", json={
        "apikeyIdentityConfig": _apikey_config({"credentialId": "ck-0000000000000000"})})
    assert unknown.status == 400
    assert unknown.message.startswith("apikeyIdentityConfig.credentials[0].credentialId: ")
    renamed = await api.call("PUT", f"/v1/consumers/{consumer_id}", json={"name": "other"})
    assert renamed.status == 400 and renamed.message == "name: cannot be changed"


async def test_consumer_list_paging_and_404(api: Api) -> None:
    for name in ("one", "two", "three"):
        await api.ok("POST", "/v1/consumers", json={"name": name})
    page = await api.ok("GET", "/v1/consumers?pageSize=2&pageNumber=2")
    assert (page["totalSize"], len(page["items"]), page["pageNumber"], page["pageSize"]) == (3, 1, 2, 2)
    assert (await api.ok("GET", "/v1/consumers?nameLike=T"))["totalSize"] == 2
    bad = await api.call("GET", "/v1/consumers?pageSize=1000")
    assert bad.status == 400 and bad.message.startswith("pageSize: ")
    for method in ("GET", "PUT", "DELETE"):
        reply = await api.call(method, "/v1/consumers/cs-0000000000000000", json={})
        assert (reply.status, reply.body["code"]) == (404, "NotFound")
        assert reply.message.startswith("consumerId: ")
