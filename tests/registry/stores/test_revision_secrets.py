"""Revisions keep secrets by reference (issue 13): no revision object holds a secret value, the
values live in `secrets.<server id>`, a rollback gets them back, and unused ones are swept."""

from __future__ import annotations

import zlib

import msgspec
import pytest
from mcpgw_registry.stores import secret_store
from nats.js.errors import KeyNotFoundError

from mcpgw.contracts.hosting import UpstreamLookup, UpstreamLookupReply
from mcpgw.contracts.registry import ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.resources.hosted.test_servers import hosted
from tests.registry.tools_samples import WEATHER_YAML

YAML = {"Content-Type": "application/yaml"}
TOKENS = ("planted-token-one-1111", "planted-token-two-2222", "planted-token-three-3333")


def _tools(token: str) -> str:
    return WEATHER_YAML.replace("defaultCredential: secret-token", f"defaultCredential: {token}")


async def _raw_revisions(api: Api, bus: Bus, server_id: str) -> list[bytes]:
    """Every revision object of the server and its list, as JetStream holds them (decompressed)."""
    js = bus.nc.jetstream()
    kv = await js.key_value(api.service.settings.kv_bucket)
    index = (await kv.get(f"revisions.{server_id}")).value or b""
    objects = await js.object_store(api.service.settings.import_bucket_name)
    raw = [index]
    for info in await objects.list():
        if info.name.startswith(f"revisions.{server_id}."):
            raw.append(zlib.decompress((await objects.get(info.name)).data or b""))
    return raw


async def test_no_revision_holds_a_secret_and_rollback_restores_the_older_one(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("vault", mcpServerConfig={"mcpServerSpec": _tools(TOKENS[0])})
    for token in TOKENS[1:]:
        await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=_tools(token), headers=YAML)
    raw = await _raw_revisions(api, bus, server_id)
    assert len(raw) == 4  # the list and three revisions
    for value in raw:
        for token in TOKENS:
            assert token.encode() not in value
    assert b'defaultCredential: \\"******' in raw[1]
    # The values are in the server's secret store, once each.
    kv = await bus.nc.jetstream().key_value(api.service.settings.kv_bucket)
    held = (await kv.get(f"secrets.{server_id}")).value or b""
    assert all(held.count(token.encode()) == 1 for token in TOKENS)

    # Reading a revision shows the mask; the diff says which secret changed, not to what.
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}/revisions/3")
    text = msgspec.json.encode(shown).decode()
    assert not any(token in text for token in TOKENS)
    assert shown["diff"]["secrets"] == [{"place": "scheme:bearer", "change": "changed"}]
    assert shown["diff"]["tools"] == ""

    await api.ok("POST", f"/v1/mcp-servers/{server_id}/revisions/1:rollback")
    # What is published again holds the first token (toolexec is given it), restored from the store.
    readable = (await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")).body
    assert not any(token in readable for token in TOKENS)
    snapshot = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                                 ServerLookupReply)
    assert TOKENS[0] in msgspec.json.encode(snapshot).decode()
    assert not any(token in msgspec.json.encode(snapshot).decode() for token in TOKENS[1:])


async def test_an_upstream_credential_is_kept_by_reference(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("up")
    server_id = await api.create_server("relay", **hosted(service_id),
                                        upstreamCredential={"type": "Bearer", "value": "upstream-old-5555"})
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}",
                 json={"upstreamCredential": {"type": "Bearer", "value": "upstream-new-6666"}})
    for value in await _raw_revisions(api, bus, server_id):
        assert b"upstream-old-5555" not in value and b"upstream-new-6666" not in value
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}/revisions/2")
    assert shown["diff"]["secrets"] == [{"place": "upstreamCredential.value", "change": "changed"}]
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/revisions/1:rollback")
    reply = await bus.request(bus.subjects.registry_upstream_lookup, UpstreamLookup(server_id=server_id),
                              UpstreamLookupReply)
    assert reply.upstream is not None and reply.upstream.credential is not None
    assert reply.upstream.credential.value == "upstream-old-5555"


async def test_secrets_no_kept_revision_refers_to_are_swept_and_delete_drops_them(
        api: Api, bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secret_store, "GRACE_MS", 0)
    # The registry keeps 20 revisions: 20 more push the first (and its token) out.
    server_id = await api.create_server("sweep", mcpServerConfig={"mcpServerSpec": _tools("swept-token-7777")})
    for n in range(20):
        await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=_tools(f"kept-token-{n:04}"), headers=YAML)
    kv = await bus.nc.jetstream().key_value(api.service.settings.kv_bucket)
    held = (await kv.get(f"secrets.{server_id}")).value or b""
    assert b"swept-token-7777" not in held and b"kept-token-0000" in held and b"kept-token-0019" in held
    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")
    with pytest.raises(KeyNotFoundError):
        await kv.get(f"secrets.{server_id}")
