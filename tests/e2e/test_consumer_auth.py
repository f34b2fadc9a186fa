"""Consumer authorization end to end: keys, JWTs, grants, revocation across edges, backend credentials.

The whole cluster runs (registry, auth, toolexec, edges) and is configured only through the admin
API, as an operator would. Clients are the official `mcp` SDK and raw HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Answer, Raw
from tests.util import eventually

ALL_TOOLS = ["add_pet", "broken", "get_pet", "slow"]
ISSUER = "https://issuer.e2e.example"
AUDIENCE = "mcpgw-e2e"
SECRET = "e2e-shared-secret-that-is-long-enough-for-hs256"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}


@dataclass
class Secured:
    server_id: str
    url: str


@pytest.fixture
async def secured(cluster: Cluster, backend: Backend) -> Secured:
    server_id = await cluster.create_server("petstore", petstore_yaml(backend.url), consumerAuthInfo={"enable": True})
    return Secured(server_id, cluster.mcp_url("petstore"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sdk_tools(url: str, token: str) -> list[str]:
    async with httpx2.AsyncClient(headers=bearer(token)) as client, \
            streamable_http_client(url, http_client=client) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return sorted(t.name for t in (await session.list_tools()).tools)


# tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "jwt-user", "iat": now, "exp": now + 600, **overrides}


def hs256(payload: dict[str, Any], key: bytes | str = SECRET, **header: Any) -> str:
    """Signed by hand so any key may be used, even a public key (the algorithm-confusion attack)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = _b64(json.dumps(payload).encode())
    secret = key.encode() if isinstance(key, str) else key
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def rs256(payload: dict[str, Any], key: rsa.RSAPrivateKey = RSA_KEY, kid: str = "rsa-1") -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


async def jwt_consumers(cluster: Cluster, server_id: str) -> None:
    """`jwt-user` (HS256 shared secret) and `rsa-user` (an RS256 JWKS), both granted the server."""
    for name, config in (
        ("jwt-user", {"secretType": "Symmetry", "jwks": SECRET}),
        ("rsa-user", {"jwks": json.dumps({"keys": [{**json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key())),
                                                     "kid": "rsa-1", "alg": "RS256"}]})}),
    ):
        status, body = await cluster.admin("POST", "/v1/consumers", json={"name": name, "jwtIdentityConfig": {
            "type": "Jwt", "issuer": ISSUER, "audience": [AUDIENCE, "other"],
            "jwtPayloadConfig": {"payloadKeyName": "sub", "payloadKeyValue": name}, **config}})
        assert status == 200, body
        await cluster.grant(body["data"]["consumerId"], server_id)


# keys and grants


async def test_no_key_wrong_key_and_no_grant(cluster: Cluster, secured: Secured, http: aiohttp.ClientSession) -> None:
    _, key = await cluster.create_consumer("alice")
    raw = Raw(http, secured.url)
    missing = await raw.send(INIT, session=False)
    assert missing.status == 401
    metadata = f"{cluster.edge_url()}/.well-known/oauth-protected-resource/mcp-servers/petstore"
    assert missing.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{metadata}"'
    wrong = await raw.send(INIT, session=False, headers=bearer("mcpgw_" + "x" * 43))
    assert wrong.status == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    # A genuine key of a consumer with no grant on this server: authenticated, not authorized.
    ungranted = await raw.send(INIT, session=False, headers=bearer(key))
    assert ungranted.status == 403, ungranted.text
    assert key not in ungranted.text
    with pytest.raises(Exception):  # noqa: B017 - the SDK surfaces the 403 as its own error type
        await sdk_tools(secured.url, key)


async def test_server_level_grant_gives_every_tool_over_both_transports(
        cluster: Cluster, secured: Secured, backend: Backend) -> None:
    consumer_id, key = await cluster.create_consumer("alice")
    await cluster.grant(consumer_id, secured.server_id)
    assert await sdk_tools(secured.url, key) == ALL_TOOLS
    async with sse_client(secured.url + "/sse", headers=bearer(key)) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        assert sorted(t.name for t in (await session.list_tools()).tools) == ALL_TOOLS
        result = await session.call_tool("get_pet", {"id": 5})
        assert not result.is_error
    assert "authorization" not in backend.last.headers


async def test_tool_level_grant_limits_listing_and_calls(
        cluster: Cluster, secured: Secured, http: aiohttp.ClientSession) -> None:
    consumer_id, key = await cluster.create_consumer("bob")
    await cluster.grant(consumer_id, secured.server_id, ["get_pet", "add_pet"])
    async with httpx2.AsyncClient(headers=bearer(key)) as client, \
            streamable_http_client(secured.url, http_client=client) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        assert sorted(t.name for t in (await session.list_tools()).tools) == ["add_pet", "get_pet"]
        assert not (await session.call_tool("get_pet", {"id": 1})).is_error
        with pytest.raises(MCPError) as refused:
            await session.call_tool("broken", {})
        assert refused.value.code == -32602
        assert key not in refused.value.message and "broken" in refused.value.message

    # Raw: the same error as JSON-RPC, and it names no secret.
    raw = Raw(http, secured.url)
    raw.http.headers.update(bearer(key))
    await raw.initialize()
    answer = await raw.call("tools/call", {"name": "slow", "arguments": {}})
    error = _rpc(answer)["error"]
    assert error["code"] == -32602 and key not in json.dumps(error)

    # A server-level grant beside the tool-level one wins: every tool.
    await cluster.grant(consumer_id, secured.server_id)
    listed = await eventually(lambda: sdk_tools(secured.url, key), lambda names: names == ALL_TOOLS, within=1.0)
    assert listed == ALL_TOOLS


def _rpc(answer: Answer) -> dict[str, Any]:
    """The JSON-RPC message of a POST answer, whether sent as JSON or as one SSE event."""
    assert answer.status == 200, answer.text
    if answer.headers.get("Content-Type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in answer.text.splitlines() if line.startswith("data:")]
        message: dict[str, Any] = json.loads(data[-1])
        return message
    decoded: dict[str, Any] = answer.json
    return decoded


# JWT


async def test_jwt_accepts_good_tokens_and_refuses_the_rest(
        cluster: Cluster, secured: Secured, http: aiohttp.ClientSession) -> None:
    await jwt_consumers(cluster, secured.server_id)
    raw = Raw(http, secured.url)

    async def status_with(token: str) -> int:
        return (await raw.send(INIT, session=False, headers=bearer(token))).status

    good_hs = hs256(claims())
    good_rs = rs256(claims(sub="rsa-user"))
    assert await status_with(good_hs) == 200
    assert await status_with(good_rs) == 200
    assert await sdk_tools(secured.url, good_rs) == ALL_TOOLS

    refused = {
        "expired": hs256(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
        "wrong issuer": hs256(claims(iss="https://evil.example")),
        "wrong audience": hs256(claims(aud="someone-else")),
        "alg none": jwt.encode(claims(), "", algorithm="none"),
        "HS256 keyed with the RSA public key": hs256(claims(sub="rsa-user"), RSA_PUBLIC_PEM, kid="rsa-1"),
        "unknown kid": rs256(claims(sub="rsa-user"), OTHER_RSA_KEY, kid="rotated-away"),
        "right kid, wrong key": rs256(claims(sub="rsa-user"), OTHER_RSA_KEY),
        "wrong secret": hs256(claims(), "another-secret-that-is-also-long-enough!!"),
        "another consumer's subject": hs256(claims(sub="rsa-user")),
    }
    for case, token in refused.items():
        answer = await raw.send(INIT, session=False, headers=bearer(token))
        assert answer.status == 401, (case, answer.status, answer.text)
        assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"'), case
        assert token not in answer.text and SECRET not in answer.text


# revocation


async def _session_on_second_edge(cluster: Cluster, http: aiohttp.ClientSession, url_path: str,
                                  key: str) -> Raw:
    """A session opened on edge 0, then used (and its auth cached) on edge 1."""
    opener = Raw(http, cluster.mcp_url(url_path, 0))
    opener.http.headers.update(bearer(key))
    await opener.initialize()
    other = Raw(http, cluster.mcp_url(url_path, 1))
    other.session_id, other.version = opener.session_id, opener.version
    answer = await other.send({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=bearer(key))
    assert answer.status == 200, answer.text
    return other


async def test_revocation_reaches_another_edge_within_a_second(cluster: Cluster, secured: Secured) -> None:
    await cluster.add_edge()
    users = {}
    for name in ("disabled", "keyless", "ungranted"):
        consumer_id, key = await cluster.create_consumer(name)
        rule_id = await cluster.grant(consumer_id, secured.server_id)
        users[name] = (consumer_id, key, rule_id)

    async with aiohttp.ClientSession() as http:
        sessions = {name: await _session_on_second_edge(cluster, http, "petstore", key)
                    for name, (_, key, _) in users.items()}

        async def status_of(name: str) -> int:
            key = users[name][1]
            message = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "get_pet", "arguments": {"id": 1}}}
            return (await sessions[name].send(message, headers=bearer(key))).status

        for name in users:
            assert await status_of(name) == 200

        consumer_id = users["disabled"][0]
        status, body = await cluster.admin("PUT", f"/v1/consumers/{consumer_id}", json={"enable": False})
        assert status == 200, body
        await eventually(lambda: status_of("disabled"), lambda s: s == 401, within=1.0)

        consumer_id = users["keyless"][0]
        status, body = await cluster.admin("PUT", f"/v1/consumers/{consumer_id}", json={
            "apikeyIdentityConfig": {"type": "Apikey", "apikeySource": {"source": "Default"}, "credentials": []}})
        assert status == 200, body
        await eventually(lambda: status_of("keyless"), lambda s: s == 401, within=1.0)

        status, body = await cluster.admin("DELETE", f"/v1/authorization-rules/{users['ungranted'][2]}")
        assert status == 200, body
        await eventually(lambda: status_of("ungranted"), lambda s: s == 403, within=1.0)


async def test_a_session_of_one_consumer_is_refused_to_another(
        cluster: Cluster, secured: Secured, http: aiohttp.ClientSession) -> None:
    alice_id, alice = await cluster.create_consumer("alice")
    bob_id, bob = await cluster.create_consumer("bob")
    for consumer_id in (alice_id, bob_id):
        await cluster.grant(consumer_id, secured.server_id)
    raw = Raw(http, secured.url)
    opened = await raw.send(INIT, session=False, headers=bearer(alice))
    assert opened.status == 200
    raw.session_id, raw.version = opened.headers["Mcp-Session-Id"], "2025-11-25"
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert (await raw.send(ping, headers=bearer(alice))).status == 200
    assert (await raw.send(ping, headers=bearer(bob))).status in (403, 404)


# backend credentials

CREDENTIALED_YAML = """\
server:
  name: creds
  securitySchemes:
  - {{id: basic, type: http, scheme: basic, defaultCredential: "svc:pa55"}}
  - {{id: bearer, type: http, scheme: bearer, defaultCredential: backend-bearer-token}}
  - {{id: key, type: apiKey, in: header, name: X-API-Key, defaultCredential: backend-api-key}}
tools:
- name: with_basic
  requestTemplate: {{url: "{base}/echo", security: {{id: basic}}}}
- name: with_bearer
  requestTemplate: {{url: "{base}/echo", security: {{id: bearer}}}}
- name: with_key
  requestTemplate: {{url: "{base}/echo", security: {{id: key}}}}
- name: with_nothing
  requestTemplate: {{url: "{base}/echo"}}
- name: with_passthrough
  requestTemplate: {{url: "{base}/echo", security: {{id: bearer, passthrough: true}}}}
"""


async def test_the_backend_gets_configured_credentials_and_never_the_clients(
        cluster: Cluster, backend: Backend) -> None:
    server_id = await cluster.create_server("creds", CREDENTIALED_YAML.format(base=backend.url),
                                            consumerAuthInfo={"enable": True})
    consumer_id, key = await cluster.create_consumer("alice")
    await cluster.grant(consumer_id, server_id)
    expected = {
        "with_basic": ("authorization", "Basic " + base64.b64encode(b"svc:pa55").decode()),
        "with_bearer": ("authorization", "Bearer backend-bearer-token"),
        "with_key": ("x-api-key", "backend-api-key"),
        "with_passthrough": ("authorization", f"Bearer {key}"),
    }
    async with httpx2.AsyncClient(headers=bearer(key)) as client, \
            streamable_http_client(cluster.mcp_url("creds"), http_client=client) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        for tool in ("with_basic", "with_bearer", "with_key", "with_nothing", "with_passthrough"):
            result = await session.call_tool(tool, {})
            assert not result.is_error, result
            seen = backend.last.headers
            if tool in expected:
                name, value = expected[tool]
                assert seen[name] == value, (tool, seen)
            if tool != "with_passthrough":
                assert key not in json.dumps(seen), tool  # the client's key only where passthrough says so
            if tool == "with_nothing":
                assert "authorization" not in seen and "x-api-key" not in seen

    # The admin API never shows the backend credentials.
    status, text = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}/tools")
    assert status == 200
    for secret in ("svc:pa55", "backend-bearer-token", "backend-api-key"):
        assert secret not in text
