"""A consumer's jwtIdentityConfig: checks that name the field, write-only secrets, the auth index form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from mcpgw.contracts.registry import AuthIndex, AuthIndexRequest, JwtVerification
from mcpgw.runtime.bus import Bus
from tests.auth.keys import certificate_pem, jwks, oct_jwk
from tests.registry.conftest import Api

SECRET = "a-shared-secret-of-at-least-32-bytes!"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_PEM = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
PRIVATE_PEM = RSA_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
SMALL_RSA_PEM = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_jwk(kid: str = "k1") -> dict[str, Any]:
    return {**json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key())), "kid": kid, "alg": "RS256"}


def private_jwk(kid: str = "k2") -> dict[str, Any]:
    return {**json.loads(ECAlgorithm.to_jwk(EC_KEY)), "kid": kid}


async def _create(api: Api, config: dict[str, Any]) -> str:
    data = await api.ok("POST", "/v1/consumers", json={"name": "jwt-user", "jwtIdentityConfig": config})
    return str(data["consumerId"])


async def test_symmetric_secret_is_write_only_and_reaches_the_index(api: Api, bus: Bus) -> None:
    consumer_id = await _create(api, {
        "type": "Jwt", "secretType": "Symmetry", "jwks": SECRET, "issuer": "https://issuer.example",
        "audience": "mcpgw", "clockSkewSeconds": 30,
        "jwtTokenConfig": {"key": "X-Token", "position": "HEADER", "prefix": "", "pass": False},
        "jwtPayloadConfig": {"payloadKeyName": "sub", "payloadKeyValue": "alice"},
        "claimsToHeadersConfigs": [{"claim": "sub", "header": "X-User", "override": False}],
    })
    got = await api.ok("GET", f"/v1/consumers/{consumer_id}")
    view = got["jwtIdentityConfig"]
    assert view == {
        "type": "Jwt", "secretType": "Symmetry", "jwks": "******", "issuer": "https://issuer.example",
        "audience": "mcpgw", "clockSkewSeconds": 30,
        "jwtTokenConfig": {"key": "X-Token", "position": "HEADER", "prefix": "", "pass": False},
        "jwtPayloadConfig": {"payloadKeyName": "sub", "payloadKeyValue": "alice"},
        "claimsToHeadersConfigs": [{"claim": "sub", "header": "X-User", "override": False}],
    }
    assert SECRET not in json.dumps(got)

    index = await bus.request(bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex)
    (consumer,) = [c for c in index.consumers if c.consumer_id == consumer_id]
    jwt = consumer.jwt
    assert jwt is not None
    assert (jwt.secret_type, jwt.jwks, jwt.issuer, jwt.audience) == ("Symmetry", SECRET, "https://issuer.example",
                                                                     ["mcpgw"])
    assert (jwt.token_source.key, jwt.token_source.position, jwt.token_source.prefix) == ("X-Token", "HEADER", "")
    assert (jwt.payload_key, jwt.payload_value, jwt.clock_skew_seconds) == ("sub", "alice", 30)
    assert [(c.claim, c.header, c.override) for c in jwt.claims_to_headers] == [("sub", "X-User", False)]

    # Edit and put back what was read: the masked secret means "keep it".
    await api.ok("PUT", f"/v1/consumers/{consumer_id}", json={"jwtIdentityConfig": {**view, "issuer": "other"}})
    index = await bus.request(bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex)
    (consumer,) = [c for c in index.consumers if c.consumer_id == consumer_id]
    assert consumer.jwt is not None and (consumer.jwt.jwks, consumer.jwt.issuer) == (SECRET, "other")

    # Removing the config removes it.
    await api.ok("PUT", f"/v1/consumers/{consumer_id}", json={"jwtIdentityConfig": None})
    assert "jwtIdentityConfig" not in await api.ok("GET", f"/v1/consumers/{consumer_id}")


async def test_public_keys_show_private_members_never(api: Api, bus: Bus) -> None:
    jwks = json.dumps({"keys": [public_jwk(), private_jwk()]})
    consumer_id = await _create(api, {"jwks": jwks, "audience": ["a", "b"]})
    view = (await api.ok("GET", f"/v1/consumers/{consumer_id}"))["jwtIdentityConfig"]
    assert view["secretType"] == "Asymmetry" and view["audience"] == ["a", "b"]
    shown = json.loads(view["jwks"])
    assert shown["keys"][0] == public_jwk()  # public material stays readable
    assert shown["keys"][1]["d"] == "******" and shown["keys"][1]["x"] == private_jwk()["x"]
    assert private_jwk()["d"] not in json.dumps(view)
    # The verifier gets public members only.
    index = await bus.request(bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex)
    (consumer,) = [c for c in index.consumers if c.consumer_id == consumer_id]
    assert consumer.jwt is not None and consumer.jwt.secret_type == ""
    sent = json.loads(consumer.jwt.jwks)
    assert "d" not in sent["keys"][1] and sent["keys"][0] == public_jwk()

    # Sending the masked JWKS back keeps the stored one; a changed masked one is refused.
    await api.ok("PUT", f"/v1/consumers/{consumer_id}", json={"jwtIdentityConfig": view})
    tampered = json.loads(view["jwks"])
    tampered["keys"][1]["kid"] = "changed"
    reply = await api.call("PUT", f"/v1/consumers/{consumer_id}",
                           json={"jwtIdentityConfig": {**view, "jwks": json.dumps(tampered)}})
    assert reply.status == 400 and reply.message.startswith("jwtIdentityConfig.jwks: contains ******")

    pem = await _create(api, {"jwks": PUBLIC_PEM, "remoteJwks": '{"uri": "https://issuer.example/jwks.json"}'})
    view = (await api.ok("GET", f"/v1/consumers/{pem}"))["jwtIdentityConfig"]
    assert view["jwks"] == PUBLIC_PEM
    assert json.loads(view["remoteJwks"]) == {"uri": "https://issuer.example/jwks.json"}
    assert view["jwtTokenConfig"] == {"key": "Authorization", "position": "HEADER", "prefix": "Bearer ",
                                      "pass": False}


async def _index_jwt(bus: Bus, consumer_id: str) -> JwtVerification:
    index = await bus.request(bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex)
    (consumer,) = [c for c in index.consumers if c.consumer_id == consumer_id]
    assert consumer.jwt is not None
    return consumer.jwt


async def test_a_shared_secret_as_an_oct_jwks_reaches_auth_as_a_shared_secret(api: Api, bus: Bus) -> None:
    oct_jwks = jwks(oct_jwk(SECRET, kid="s1", alg="HS256"))
    consumer_id = await _create(api, {"secretType": "Symmetry", "jwks": oct_jwks})
    view = (await api.ok("GET", f"/v1/consumers/{consumer_id}"))["jwtIdentityConfig"]
    assert view["secretType"] == "Symmetry"
    assert json.loads(view["jwks"])["keys"] == [{**oct_jwk(SECRET, kid="s1", alg="HS256"), "k": "******"}]
    assert oct_jwk(SECRET)["k"] not in json.dumps(view)
    # Auth is told it is a shared secret: it trusts an oct key nowhere else.
    sent = await _index_jwt(bus, consumer_id)
    assert (sent.secret_type, json.loads(sent.jwks)) == ("Symmetry", json.loads(oct_jwks))
    # Read back and sent unchanged, the stored secret stays.
    await api.ok("PUT", f"/v1/consumers/{consumer_id}", json={"jwtIdentityConfig": view})
    assert json.loads((await _index_jwt(bus, consumer_id)).jwks) == json.loads(oct_jwks)


async def test_certificates_are_kept_and_private_keys_only_as_their_public_half(api: Api, bus: Bus) -> None:
    certificate = certificate_pem(RSA_KEY)
    consumer_id = await _create(api, {"jwks": certificate})
    assert (await api.ok("GET", f"/v1/consumers/{consumer_id}"))["jwtIdentityConfig"]["jwks"] == certificate
    assert (await _index_jwt(bus, consumer_id)).jwks == certificate

    consumer_id = await _create(api, {"jwks": PRIVATE_PEM})
    got = await api.ok("GET", f"/v1/consumers/{consumer_id}")
    assert got["jwtIdentityConfig"]["jwks"] == PUBLIC_PEM
    assert (await _index_jwt(bus, consumer_id)).jwks == PUBLIC_PEM
    kv = await bus.nc.jetstream().key_value(api.service.settings.kv_bucket)
    record = (await kv.get(f"consumers.{consumer_id}")).value
    assert record is not None and b"PRIVATE KEY" not in record  # never stored


@pytest.mark.parametrize(("config", "message"), [
    ({"secretType": "Symmetry"}, "jwtIdentityConfig.jwks: is required: the shared secret"),
    ({}, "jwtIdentityConfig.jwks: is required: a JWKS, JWK, PEM key or certificate"),
    ({"secretType": "Symmetry", "jwks": "short"}, "jwtIdentityConfig.jwks: is a shared secret of 5 bytes; at least 32"),
    ({"secretType": "Symmetry", "jwks": PUBLIC_PEM}, "jwtIdentityConfig.jwks: is a PEM key"),
    ({"secretType": "Symmetry", "jwks": json.dumps({"keys": [public_jwk()]})},
     "jwtIdentityConfig.jwks.keys[0].kty: is RSA, but secretType Symmetry takes shared secrets (oct keys) only"),
    ({"secretType": "Symmetry", "jwks": '{"secret": "' + SECRET + '"}'}, "jwtIdentityConfig.jwks: is neither a JWKS"),
    ({"jwks": json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]})},
     "jwtIdentityConfig.jwks.keys[0].kty: is oct (a shared secret), which needs secretType Symmetry"),
    ({"jwks": json.dumps({"keys": [public_jwk(), {**public_jwk(), "alg": "HS256"}]})},
     "jwtIdentityConfig.jwks.keys[1].alg: is 'HS256', which does not fit this key"),
    ({"jwks": SMALL_RSA_PEM}, "jwtIdentityConfig.jwks: is an RSA key of 1024 bits; at least 2048 are needed"),
    ({"secretType": "Symmetry", "jwks": SECRET, "remoteJwks": {"uri": "https://x.example/j"}},
     "jwtIdentityConfig.remoteJwks: cannot be used with secretType Symmetry"),
    ({"jwks": "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----"},
     "jwtIdentityConfig.jwks: is not a PEM public key, certificate or unencrypted private key that can be read"),
    ({"jwks": '{"keys": [{"kty": "RSA", "n": "abc"}]}'},
     "jwtIdentityConfig.jwks.keys[0]: is not a readable RSA key"),
    ({"jwks": '{"keys": []}'}, "jwtIdentityConfig.jwks.keys: holds no key for signatures"),
    ({"jwks": '{"keys": [{"n": "x"}]}'}, "jwtIdentityConfig.jwks.keys[0].kty: is required"),
    ({"jwks": "{not json"}, "jwtIdentityConfig.jwks: is neither a JWKS"),
    ({"jwks": "plain text"}, "jwtIdentityConfig.jwks: must be a JWKS"),
    ({"jwks": "   "}, "jwtIdentityConfig.jwks: is empty"),
    ({"remoteJwks": '{"uri": "ftp://x.example/j"}'}, "jwtIdentityConfig.remoteJwks.uri: must be an http or https"),
    ({"remoteJwks": "{bad"}, "jwtIdentityConfig.remoteJwks: must be {\"uri\""),
    ({"remoteJwks": {"uri": "https://user:pw@x.example/j"}}, "jwtIdentityConfig.remoteJwks.uri: must not carry"),
    ({"remoteJwks": {"url": "https://x.example/j"}}, "jwtIdentityConfig.remoteJwks.uri: is required"),
    ({"jwks": PUBLIC_PEM, "jwtTokenConfig": {"key": "Bad Header", "position": "HEADER"}},
     "jwtIdentityConfig.jwtTokenConfig.key: must be an HTTP header name"),
    ({"jwks": PUBLIC_PEM, "jwtTokenConfig": {"key": "a b", "position": "QUERY"}},
     "jwtIdentityConfig.jwtTokenConfig.key: must be a query parameter name"),
    ({"jwks": PUBLIC_PEM, "jwtTokenConfig": {"position": "BODY"}}, "jwtIdentityConfig.jwtTokenConfig.position: "),
    ({"jwks": PUBLIC_PEM, "claimsToHeadersConfigs": [{"claim": "sub", "header": "X User"}]},
     "jwtIdentityConfig.claimsToHeadersConfigs[0].header: must be an HTTP header name"),
    ({"jwks": PUBLIC_PEM, "claimsToHeadersConfigs": [{"claim": "sub", "header": "Content-Length"}]},
     "jwtIdentityConfig.claimsToHeadersConfigs[0].header: Content-Length cannot be set from a claim"),
    ({"jwks": PUBLIC_PEM, "claimsToHeadersConfigs": [{"claim": "", "header": "X-U"}]},
     "jwtIdentityConfig.claimsToHeadersConfigs[0].claim: is required"),
    ({"jwks": PUBLIC_PEM, "jwtPayloadConfig": {"payloadKeyName": "sub"}},
     "jwtIdentityConfig.jwtPayloadConfig.payloadKeyValue: is required"),
    ({"jwks": PUBLIC_PEM, "clockSkewSeconds": -1}, "jwtIdentityConfig.clockSkewSeconds: must be between 0"),
    ({"jwks": PUBLIC_PEM, "audience": [""]}, "jwtIdentityConfig.audience[0]: must not be empty"),
    ({"jwks": PUBLIC_PEM, "colour": 1}, "jwtIdentityConfig.colour: unknown field"),
    ({"secretType": "Symmetry", "jwks": "******"}, "jwtIdentityConfig.jwks: contains ******"),
])
async def test_invalid_jwt_configs(api: Api, config: dict[str, Any], message: str) -> None:
    reply = await api.call("POST", "/v1/consumers", json={"name": "x", "jwtIdentityConfig": config})
    assert reply.status == 400, reply.body
    assert reply.message.startswith(message), reply.message
    # No key material is ever quoted back.
    for secret in (SECRET, PRIVATE_PEM[40:80]):
        assert secret not in reply.message
