"""A consumer's jwtIdentityConfig: checks that name the field, write-only secrets, the auth index form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from mcpgw.contracts.registry import AuthIndex, AuthIndexRequest
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api

SECRET = "a-shared-secret-of-at-least-32-bytes!"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_PEM = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
PRIVATE_PEM = RSA_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()


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


@pytest.mark.parametrize(("config", "message"), [
    ({"secretType": "Symmetry"}, "jwtIdentityConfig.jwks: is required: the shared secret"),
    ({}, "jwtIdentityConfig.jwks: is required: a JWKS, JWK or PEM public key"),
    ({"secretType": "Symmetry", "jwks": "short"}, "jwtIdentityConfig.jwks: the shared secret must be at least 32"),
    ({"secretType": "Symmetry", "jwks": PUBLIC_PEM}, "jwtIdentityConfig.jwks: is a PEM key"),
    ({"secretType": "Symmetry", "jwks": SECRET, "remoteJwks": {"uri": "https://x.example/j"}},
     "jwtIdentityConfig.remoteJwks: cannot be used with secretType Symmetry"),
    ({"jwks": "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----"},
     "jwtIdentityConfig.jwks: is not a PEM public key that can be read"),
    ({"jwks": PRIVATE_PEM}, "jwtIdentityConfig.jwks: is a private key"),
    ({"jwks": '{"keys": [{"kty": "RSA", "n": "abc", "e": "AQAB"}]}'},
     "jwtIdentityConfig.jwks.keys[0]: is not a usable JWK"),
    ({"jwks": '{"keys": []}'}, "jwtIdentityConfig.jwks.keys: must be a non-empty list"),
    ({"jwks": '{"keys": [{"n": "x"}]}'}, "jwtIdentityConfig.jwks.keys[0].kty: is required"),
    ({"jwks": "{not json"}, "jwtIdentityConfig.jwks: is neither a JWKS"),
    ({"jwks": "plain text"}, "jwtIdentityConfig.jwks: must be a JWKS"),
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
