"""JWT consumer keys through the real registry and auth: every form one accepts the other verifies
with, a shared secret given as an `oct` JWKS works like a bare one, and a remote JWKS that is down
at first is used the moment it answers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcpgw_auth.jwt_keys import parse_static

from mcpgw.contracts import PresentedCredential, VerifyReply, VerifyRequest
from mcpgw.devcluster import free_port
from mcpgw.runtime.bus import Bus
from tests.auth.idp import jwks_url, running_idp
from tests.auth.keys import (
    HS_SECRET,
    ISSUER,
    PrivateKey,
    certificate_pem,
    ec_key,
    ed_key,
    jwks,
    oct_jwk,
    private_pem,
    public_jwk,
    public_pem,
    rsa_key,
    token,
)
from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw

INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}
UNFETCHED = "token signing keys could not be fetched"


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def secured_server(cluster: Cluster, backend: Backend) -> str:
    return await cluster.create_server("petstore", petstore_yaml(backend.url), consumerAuthInfo={"enable": True})


async def jwt_consumer(cluster: Cluster, name: str, config: dict[str, Any]) -> tuple[int, Any]:
    return await cluster.admin("POST", "/v1/consumers", json={"name": name, "jwtIdentityConfig": {
        "type": "Jwt", "issuer": ISSUER, **config}})


async def granted_jwt_consumer(cluster: Cluster, server_id: str, name: str, config: dict[str, Any]) -> str:
    status, body = await jwt_consumer(cluster, name, config)
    assert status == 200, body
    consumer_id: str = body["data"]["consumerId"]
    await cluster.grant(consumer_id, server_id)
    return consumer_id


@pytest.fixture
async def auth_client(cluster: Cluster) -> AsyncIterator[Bus]:
    client = await Bus.connect(cluster.nats_url, name="jwt-keys-test", root=cluster.root)
    yield client
    await client.close()


async def verify(client: Bus, server_id: str, value: str) -> VerifyReply:
    request = VerifyRequest(server_id=server_id, server_name="petstore",
                            credentials=[PresentedCredential(source="bearer", value=value)])
    return await client.request(client.subjects.auth_verify, request, VerifyReply, timeout=5)


async def test_a_shared_secret_as_an_oct_jwks_authenticates_through_the_edge(
        cluster: Cluster, backend: Backend, http: aiohttp.ClientSession) -> None:
    server_id = await secured_server(cluster, backend)
    # Higress jwt-auth's form of a shared secret: a JWKS holding one `oct` key.
    await granted_jwt_consumer(cluster, server_id, "oct-user", {
        "secretType": "Symmetry", "jwks": jwks(oct_jwk(HS_SECRET, kid="hs-1", alg="HS256"))})
    good = token(HS_SECRET, "HS256", kid="hs-1")
    async with httpx2.AsyncClient(headers=bearer(good)) as client, \
            streamable_http_client(cluster.mcp_url("petstore"), http_client=client) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("get_pet", {"id": 3})
        assert not result.is_error, result
    raw = Raw(http, cluster.mcp_url("petstore"))
    forged = token("another-shared-secret-of-more-than-32-bytes!!", "HS256", kid="hs-1")
    refused = await raw.send(INIT, session=False, headers=bearer(forged))
    assert refused.status == 401, refused.text


# Each form the registry takes, with a key that signs for it (the token's algorithm fits the key).
Form = tuple[dict[str, Any], PrivateKey | str, str]


def accepted_forms() -> dict[str, Form]:
    return {
        "bare secret": ({"secretType": "Symmetry", "jwks": "s" * 32}, "s" * 32, "HS256"),
        "oct JWKS": ({"secretType": "Symmetry", "jwks": jwks(oct_jwk("o" * 48))}, "o" * 48, "HS384"),
        "one oct JWK": ({"secretType": "Symmetry", "jwks": json.dumps(oct_jwk("j" * 64))}, "j" * 64, "HS512"),
        "public PEM": ({"jwks": public_pem(rsa_key(1))}, rsa_key(1), "RS256"),
        "certificate PEM": ({"jwks": certificate_pem(ec_key("P-256"))}, ec_key("P-256"), "ES256"),
        "private-key PEM": ({"jwks": private_pem(ed_key())}, ed_key(), "EdDSA"),
        "JWKS": ({"jwks": jwks(public_jwk(rsa_key(2), kid="r2"))}, rsa_key(2), "PS256"),
        "one JWK": ({"jwks": json.dumps(public_jwk(ec_key("P-384")))}, ec_key("P-384"), "ES384"),
    }


REFUSED_FORMS: dict[str, tuple[dict[str, Any], str]] = {
    "a PEM as a shared secret": ({"secretType": "Symmetry", "jwks": public_pem(rsa_key(1))},
                                 "jwtIdentityConfig.jwks: is a PEM key"),
    "a short secret": ({"secretType": "Symmetry", "jwks": "s" * 31},
                       "jwtIdentityConfig.jwks: is a shared secret of 31 bytes"),
    "an oct JWKS without Symmetry": ({"jwks": jwks(oct_jwk("o" * 48))},
                                     "jwtIdentityConfig.jwks.keys[0].kty: is oct"),
    "a public JWK as a shared secret": ({"secretType": "Symmetry", "jwks": json.dumps(public_jwk(ed_key()))},
                                        "jwtIdentityConfig.jwks.kty: is OKP, but secretType Symmetry"),
    "a bare string without Symmetry": ({"jwks": "s" * 64}, "jwtIdentityConfig.jwks: must be a JWKS"),
    "a JWK whose alg misfits its key": ({"jwks": json.dumps(public_jwk(ed_key(), alg="ES256"))},
                                        "jwtIdentityConfig.jwks.alg: is 'ES256'"),
}


async def test_the_registry_accepts_exactly_the_forms_auth_verifies_with(
        cluster: Cluster, backend: Backend, auth_client: Bus) -> None:
    server_id = await secured_server(cluster, backend)
    forms = accepted_forms()
    consumers = {form: await granted_jwt_consumer(cluster, server_id, f"user-{n}", config)
                 for n, (form, (config, _, _)) in enumerate(forms.items())}
    for form, (_, key, alg) in forms.items():
        kid = "r2" if form == "JWKS" else None
        reply = await verify(auth_client, server_id, token(key, alg, kid=kid))
        assert (reply.outcome, reply.consumer_id) == ("allow", consumers[form]), (form, reply)

    for form, (config, message) in REFUSED_FORMS.items():
        status, body = await jwt_consumer(cluster, "refused", config)
        assert (status, body["message"][:len(message)]) == (400, message), form
        # ... and auth, given the same material, would have had no key to verify with.
        assert parse_static(config.get("secretType", ""), config["jwks"], "test") == (), form


async def test_a_remote_jwks_down_at_first_is_a_401_then_used_as_soon_as_it_answers(
        cluster: Cluster, backend: Backend, http: aiohttp.ClientSession) -> None:
    server_id = await secured_server(cluster, backend)
    port = free_port()  # nothing listens there yet
    await granted_jwt_consumer(cluster, server_id, "remote-user", {"remoteJwks": {"uri": jwks_url(port)}})
    raw = Raw(http, cluster.mcp_url("petstore"))
    good = token(ed_key(3), "EdDSA", kid="e3")

    down = await raw.send(INIT, session=False, headers=bearer(good))
    assert down.status == 401, down.text
    assert down.json["error"]["message"] == f"Unauthorized: {UNFETCHED}"
    assert 'error="invalid_token"' in down.headers["WWW-Authenticate"]

    async with running_idp(port=port) as idp:
        idp.keys = [public_jwk(ed_key(3), kid="e3")]
        # The very next request: no retry interval to sit out, and no cached 401 at the edge.
        up = await raw.send(INIT, session=False, headers=bearer(good))
        assert up.status == 200, up.text
        assert idp.hits == 1
