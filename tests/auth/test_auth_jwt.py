"""JWT consumers through the worker on the real bus: algorithms, key formats, claims, attacks."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from mcpgw.contracts import (
    AuthIndex,
    ClaimToHeader,
    ConsumerCredentials,
    JwtVerification,
    PresentedCredential,
    TokenSource,
)
from tests.auth.harness import AuthHarness, bearer, consumer, server_grants, start_auth
from tests.auth.keys import (
    AUDIENCE,
    HS_SECRET,
    ISSUER,
    claims,
    ec_key,
    ed_key,
    forged,
    jwks,
    public_jwk,
    public_pem,
    rsa_key,
    token,
)

API_KEY = "sk-plain-api-key-0123456789"


def jwt_consumer(cid: str, *, enable: bool = True, **settings: object) -> ConsumerCredentials:
    options: dict[str, object] = {"issuer": ISSUER, "audience": [AUDIENCE]}
    options.update(settings)
    return ConsumerCredentials(consumer_id=cid, name=f"{cid}-name", enable=enable,
                               jwt=JwtVerification(**options))  # type: ignore[arg-type]


def jwt_consumers() -> list[ConsumerCredentials]:
    shared = ec_key("P-384")
    return [
        consumer("cs-apikey", API_KEY),
        jwt_consumer("cs-hs", secret_type="Symmetry", jwks=HS_SECRET),
        jwt_consumer("cs-rs-pem", jwks=public_pem(rsa_key(1))),
        jwt_consumer("cs-ps-jwk", jwks=jwks(public_jwk(rsa_key(2)))),
        jwt_consumer("cs-es-jwks", jwks=jwks(public_jwk(ec_key("P-256"), kid="ec-1"))),
        jwt_consumer("cs-ed", jwks=public_pem(ed_key())),
        # Two consumers of one IdP told apart by a claim, and a third taking whatever else it signs.
        jwt_consumer("cs-alice", jwks=public_pem(shared), payload_key="sub", payload_value="alice"),
        jwt_consumer("cs-carol", jwks=public_pem(ec_key("P-384", 2)), payload_key="sub", payload_value="carol"),
        jwt_consumer("cs-idp", jwks=public_pem(shared)),
        # Other places a token may arrive.
        jwt_consumer("cs-header", jwks=public_pem(ed_key(2)),
                     token_source=TokenSource(key="X-Jwt", position="HEADER", prefix="Bearer ")),
        jwt_consumer("cs-query", jwks=public_pem(ed_key(3)), token_source=TokenSource(key="access_token",
                                                                                      position="QUERY")),
        jwt_consumer("cs-cookie", jwks=public_pem(ed_key(4)), token_source=TokenSource(key="session_jwt",
                                                                                       position="COOKIE")),
        jwt_consumer("cs-claims", jwks=jwks(public_jwk(ed_key(5), kid="claims")), claims_to_headers=[
            ClaimToHeader(claim="sub", header="X-User"),
            ClaimToHeader(claim="tenant.id", header="X-Tenant"),
            ClaimToHeader(claim="roles", header="X-Roles"),
            ClaimToHeader(claim="admin", header="X-Admin"),
            ClaimToHeader(claim="evil", header="X-Evil"),
            ClaimToHeader(claim="sub", header="Bad Header"),
            ClaimToHeader(claim="sub", header="Host"),
            ClaimToHeader(claim="email", header="x-user", override=False),
            ClaimToHeader(claim="missing", header="X-Missing"),
        ]),
        jwt_consumer("cs-off", enable=False, jwks=public_pem(ed_key(6))),
        jwt_consumer("cs-nogrant", jwks=public_pem(ed_key(7))),
        jwt_consumer("cs-skew", jwks=public_pem(ed_key(8)), clock_skew_seconds=5),
    ]


@pytest.fixture
async def auth(nats_url: str, root: str) -> AsyncIterator[AuthHarness]:
    consumers = jwt_consumers()
    index = AuthIndex(consumers=consumers,
                      grants=server_grants([c for c in consumers if c.consumer_id != "cs-nogrant"]), revision=1)
    async for harness in start_auth(nats_url, root, index):
        yield harness


async def assert_allowed(auth: AuthHarness, credential: PresentedCredential, consumer_id: str) -> None:
    reply = await auth.verify(credential)
    assert (reply.outcome, reply.consumer_id, reply.reason) == ("allow", consumer_id, ""), consumer_id


async def assert_refused(auth: AuthHarness, credential: PresentedCredential, reason: str) -> None:
    reply = await auth.verify(credential)
    assert (reply.outcome, reply.reason, reply.consumer_id) == ("unauthenticated", reason, "")


async def test_every_algorithm_family_and_key_format(auth: AuthHarness) -> None:
    for alg in ("HS256", "HS384", "HS512"):
        await assert_allowed(auth, bearer(token(HS_SECRET, alg)), "cs-hs")
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        await assert_allowed(auth, bearer(token(rsa_key(1), alg)), "cs-rs-pem")  # PEM
        await assert_allowed(auth, bearer(token(rsa_key(2), alg)), "cs-ps-jwk")  # JWK
    await assert_allowed(auth, bearer(token(ec_key("P-256"), "ES256", kid="ec-1")), "cs-es-jwks")  # inline JWKS
    await assert_allowed(auth, bearer(token(ed_key(), "EdDSA")), "cs-ed")


async def test_api_keys_still_come_first(auth: AuthHarness) -> None:
    await assert_allowed(auth, bearer(API_KEY), "cs-apikey")
    await assert_refused(auth, bearer("sk-not-a-key-nor-a-jwt"), "invalid credential")
    await assert_refused(auth, bearer("a.b.c"), "malformed token")


async def test_time_claims_and_clock_skew(auth: AuthHarness) -> None:
    now = int(time.time())
    key = ed_key(8)  # cs-skew: 5 s of skew
    await assert_refused(auth, bearer(token(key, "EdDSA", exp=now - 60)), "token expired")
    await assert_allowed(auth, bearer(token(key, "EdDSA", exp=now - 2)), "cs-skew")
    await assert_refused(auth, bearer(token(key, "EdDSA", nbf=now + 60)), "token not yet valid")
    await assert_allowed(auth, bearer(token(key, "EdDSA", nbf=now + 2)), "cs-skew")
    # The default skew is 60 s.
    await assert_allowed(auth, bearer(token(ed_key(), "EdDSA", nbf=now + 30, exp=now - 30)), "cs-ed")
    await assert_refused(auth, bearer(token(ed_key(), "EdDSA", nbf=now + 120)), "token not yet valid")
    # A token that never expires is not accepted.
    await assert_refused(auth, bearer(token(ed_key(), "EdDSA", exp=None)), "token lacks the exp claim")


async def test_issuer_and_audience(auth: AuthHarness) -> None:
    await assert_refused(auth, bearer(token(ed_key(), "EdDSA", iss="https://evil.test")), "token issuer not accepted")
    await assert_refused(auth, bearer(token(ed_key(), "EdDSA", aud="someone-else")), "token audience not accepted")
    await assert_refused(auth, bearer(token(ed_key(), "EdDSA", iss=None)), "token lacks the iss claim")
    await assert_allowed(auth, bearer(token(ed_key(), "EdDSA", aud=["other", AUDIENCE])), "cs-ed")


async def test_alg_none_is_refused(auth: AuthHarness) -> None:
    for alg in ("none", "None", "NONE"):
        unsigned = forged({"alg": alg, "typ": "JWT"}, claims())
        await assert_refused(auth, bearer(unsigned), "token algorithm not accepted")
    # Consumers matched by claim are not a way round it.
    await assert_refused(auth, bearer(forged({"alg": "none"}, claims(sub="alice"))), "token algorithm not accepted")


async def test_hs256_signed_with_an_rsa_public_key_is_refused(auth: AuthHarness) -> None:
    pem = public_pem(rsa_key(1)).encode()
    confused = forged({"alg": "HS256", "typ": "JWT"}, claims(), hmac_key=pem)
    await assert_refused(auth, bearer(confused), "invalid credential")
    # Nor with the key's JWK text, nor the JWKS text of the EC consumer.
    for material in (jwks(public_jwk(rsa_key(2))), jwks(public_jwk(ec_key("P-256"), kid="ec-1"))):
        confused = forged({"alg": "HS256", "kid": "ec-1"}, claims(), hmac_key=material.encode())
        reply = await auth.verify(bearer(confused))
        assert reply.outcome == "unauthenticated"


async def test_unknown_kid_and_wrong_key(auth: AuthHarness) -> None:
    await assert_refused(auth, bearer(token(ec_key("P-256"), "ES256", kid="not-ours")), "unknown signing key")
    # Signed by a key nobody configured.
    await assert_refused(auth, bearer(token(ed_key(99), "EdDSA")), "invalid credential")


async def test_payload_config_picks_the_consumer_before_key_matching(auth: AuthHarness) -> None:
    shared = ec_key("P-384")
    await assert_allowed(auth, bearer(token(shared, "ES384", sub="alice")), "cs-alice")
    await assert_allowed(auth, bearer(token(shared, "ES384", sub="bob")), "cs-idp")
    # sub=carol names cs-carol, whose key did not sign it: the consumer whose key did gets it.
    await assert_allowed(auth, bearer(token(shared, "ES384", sub="carol")), "cs-idp")
    await assert_allowed(auth, bearer(token(ec_key("P-384", 2), "ES384", sub="carol")), "cs-carol")
    # cs-carol's key with another subject: cs-carol does not match, and no one else has that key.
    await assert_refused(auth, bearer(token(ec_key("P-384", 2), "ES384", sub="dave")), "invalid credential")


async def test_token_sources(auth: AuthHarness) -> None:
    sources = await auth.sources()
    assert (sources.headers, sources.query, sources.cookies) == (["x-jwt"], ["access_token"], ["session_jwt"])

    header_token = token(ed_key(2), "EdDSA")
    await assert_allowed(auth, PresentedCredential(source="header", name="X-JWT", value=f"Bearer {header_token}"),
                         "cs-header")
    await assert_allowed(auth, PresentedCredential(source="header", name="x-jwt", value=header_token), "cs-header")
    await assert_allowed(auth, PresentedCredential(source="query", name="access_token",
                                                   value=token(ed_key(3), "EdDSA")), "cs-query")
    await assert_allowed(auth, PresentedCredential(source="cookie", name="session_jwt",
                                                   value=token(ed_key(4), "EdDSA")), "cs-cookie")
    # A token counts only where its consumer reads it.
    await assert_refused(auth, bearer(header_token), "invalid credential")
    await assert_refused(auth, PresentedCredential(source="cookie", name="access_token",
                                                   value=token(ed_key(3), "EdDSA")), "invalid credential")


async def test_claims_to_headers(auth: AuthHarness) -> None:
    signed = token(ed_key(5), "EdDSA", kid="claims", sub="u-42", tenant={"id": 7}, roles=["a", "b"], admin=True,
                   evil="x\r\nInjected: yes", email="u42@example.test")
    reply = await auth.verify(bearer(signed))
    assert (reply.outcome, reply.consumer_id) == ("allow", "cs-claims")
    assert reply.forward_headers == {"X-User": "u-42", "X-Tenant": "7", "X-Roles": '["a","b"]', "X-Admin": "true"}
    # Consumers without the setting forward nothing.
    assert (await auth.verify(bearer(token(ed_key(), "EdDSA")))).forward_headers == {}


async def test_disabled_and_ungranted_jwt_consumers(auth: AuthHarness) -> None:
    await assert_refused(auth, bearer(token(ed_key(6), "EdDSA")), "consumer disabled")
    reply = await auth.verify(bearer(token(ed_key(7), "EdDSA")))
    assert (reply.outcome, reply.consumer_id) == ("forbidden", "cs-nogrant")


async def test_no_token_or_secret_in_logs(auth: AuthHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good = token(HS_SECRET, "HS256")
    expired = token(ed_key(), "EdDSA", exp=int(time.time()) - 3600)
    for value in (good, expired, forged({"alg": "none"}, claims())):
        await auth.verify(bearer(value))
    text = caplog.text
    assert HS_SECRET not in text
    for value in (good, expired):
        for segment in value.split("."):
            assert segment not in text


async def test_an_answer_is_valid_only_until_the_token_expires(auth: AuthHarness) -> None:
    """The edge caches verify answers: the reply must say when the token stops being good."""
    now = int(time.time())
    reply = await auth.verify(bearer(token(ed_key(8), "EdDSA", exp=now + 30)))
    assert reply.outcome == "allow"
    assert reply.valid_until == now + 30 + 5  # the consumer's 5 s of clock skew
