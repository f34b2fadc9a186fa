"""Remote JWKS against a real aiohttp JWKS endpoint on loopback: caching, rotation, failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from mcpgw_auth.jwks_remote import FetchError, JwksCache, JwksPolicy, max_age_of

from mcpgw.contracts import AuthIndex, ConsumerCredentials, JwtVerification, VerifyReply
from mcpgw.devcluster import free_port
from tests.auth.harness import bearer, eventually, running_auth, server_grants
from tests.auth.idp import JwksServer, jwks_url, running_idp
from tests.auth.keys import ISSUER, ec_key, ed_key, public_jwk, rsa_key, token


@pytest.fixture
async def idp() -> AsyncIterator[JwksServer]:
    async with running_idp() as server:
        yield server


def remote_consumer(cid: str, uri: str) -> ConsumerCredentials:
    return ConsumerCredentials(consumer_id=cid, name=cid, jwt=JwtVerification(remote_jwks_uri=uri, issuer=ISSUER))


def remote_index(*consumers: ConsumerCredentials) -> AuthIndex:
    return AuthIndex(consumers=list(consumers), grants=server_grants(list(consumers)), revision=1)


async def test_remote_jwks_verifies_rotates_and_rate_limits(idp: JwksServer, nats_url: str, root: str) -> None:
    idp.keys = [public_jwk(rsa_key(1), kid="k1"), public_jwk(ec_key("P-256"), kid="k-ec")]
    async with running_auth(nats_url, root, remote_index(remote_consumer("cs-remote", idp.url))) as auth:
        reply = await auth.verify(bearer(token(rsa_key(1), "RS256", kid="k1")))
        assert (reply.outcome, reply.consumer_id) == ("allow", "cs-remote")
        assert (await auth.verify(bearer(token(ec_key("P-256"), "ES256", kid="k-ec")))).outcome == "allow"
        assert idp.hits == 1  # fetched once, when the index loaded; cached since

        # The IdP rotates: k1 is retired, k2 signs from now on.
        idp.keys = [public_jwk(rsa_key(2), kid="k2")]
        reply = await auth.verify(bearer(token(rsa_key(2), "PS256", kid="k2")))
        assert (reply.outcome, reply.consumer_id) == ("allow", "cs-remote")
        assert idp.hits == 2
        # The retired key is gone with the old copy (and asks no new fetch: one was just forced).
        reply = await auth.verify(bearer(token(rsa_key(1), "RS256", kid="k1")))
        assert (reply.outcome, reply.reason) == ("unauthenticated", "unknown signing key")

        # Forged kids cannot make us hammer the IdP: one forced fetch per 30 s per URL.
        for n in range(5):
            reply = await auth.verify(bearer(token(rsa_key(2), "RS256", kid=f"forged-{n}")))
            assert reply.reason == "unknown signing key"
        assert idp.hits == 2
        # Once the interval has passed, an unknown kid may force a fetch again.
        auth.service.jwks.get(idp.url).last_forced -= 30
        reply = await auth.verify(bearer(token(rsa_key(2), "RS256", kid="forged-again")))
        assert reply.reason == "unknown signing key"
        assert idp.hits == 3


async def test_a_new_kid_is_fetched_once_for_concurrent_requests(idp: JwksServer, nats_url: str, root: str) -> None:
    idp.keys = [public_jwk(ed_key(), kid="e1")]
    async with running_auth(nats_url, root, remote_index(remote_consumer("cs-remote", idp.url))) as auth:
        assert (await auth.verify(bearer(token(ed_key(), "EdDSA", kid="e1")))).outcome == "allow"
        idp.keys.append(public_jwk(ed_key(2), kid="e2"))
        idp.delay = 0.2
        replies = await asyncio.gather(*(auth.verify(bearer(token(ed_key(2), "EdDSA", kid="e2", jti=str(n))))
                                         for n in range(10)))
        assert {r.outcome for r in replies} == {"allow"}
        assert idp.hits == 2


async def test_a_jwks_down_at_first_is_a_401_until_it_answers_then_used_at_once(nats_url: str, root: str) -> None:
    port = free_port()  # nothing listens there yet
    consumer = remote_consumer("cs-remote", jwks_url(port))
    # A retry interval far longer than this test: nothing here may wait for it.
    async with running_auth(nats_url, root, remote_index(consumer)) as auth:
        auth.service.jwks.policy = JwksPolicy(retry_interval=3600, wait=5.0)
        good = token(ed_key(), "EdDSA", kid="e1")
        reply = await auth.verify(bearer(good))
        # A 401 saying why (as Envoy's jwt_authn does), valid until now: the edge caches it not at all.
        assert (reply.outcome, reply.reason) == ("unauthenticated", "token signing keys could not be fetched")
        assert 0 < reply.valid_until <= time.time()

        idp = JwksServer(status=500, delay=0.5)
        async with running_idp(idp, port):
            # The IdP answers, with errors and slowly: concurrent tokens share one fetch in flight.
            replies = await asyncio.gather(*(auth.verify(bearer(token(ed_key(), "EdDSA", kid="e1", jti=str(n))))
                                             for n in range(20)))
            assert {r.reason for r in replies} == {"token signing keys could not be fetched"}
            assert (idp.hits, idp.most_in_flight) == (1, 1)

            # It recovers: the very next tokens are checked against a fresh fetch, again only one.
            idp.status, idp.delay, idp.keys = 200, 0.2, [public_jwk(ed_key(), kid="e1")]
            replies = await asyncio.gather(*(auth.verify(bearer(token(ed_key(), "EdDSA", kid="e1", jti=str(n))))
                                             for n in range(20)))
            assert {(r.outcome, r.consumer_id) for r in replies} == {("allow", "cs-remote")}
            assert (idp.hits, idp.most_in_flight) == (2, 1)
            assert (await auth.verify(bearer(good))).outcome == "allow"
            assert idp.hits == 2  # cached from now on


async def test_only_http_urls(nats_url: str, root: str) -> None:
    consumers = [remote_consumer("cs-file", "file:///etc/passwd"), remote_consumer("cs-ftp", "ftp://idp.test/jwks")]
    async with running_auth(nats_url, root, remote_index(*consumers)) as auth:
        assert auth.service.jwks._entries == {}
        reply = await auth.verify(bearer(token(ed_key(), "EdDSA")))
        assert (reply.outcome, reply.reason) == ("unauthenticated", "invalid credential")


async def test_background_refresh_keeps_the_stale_copy_on_failure(idp: JwksServer) -> None:
    idp.keys = [public_jwk(ed_key(), kid="e1")]
    idp.cache_control = "public, max-age=120"
    cache = JwksCache(JwksPolicy(retry_interval=0))
    try:
        remote = cache.get(idp.url)
        keys = await remote.loaded()
        assert keys is not None and [k.kid for k in keys] == ["e1"]
        assert 119 < remote.fresh_until - cache.clock() <= 120
        assert remote.current() is keys and idp.hits == 1  # fresh: no fetch

        idp.status = 500
        remote.fresh_until = 0  # as if two minutes had passed
        assert remote.current() is keys  # answered at once from the old copy ...
        await eventually(lambda: asyncio.sleep(0, idp.hits), lambda hits: hits == 2)
        await asyncio.sleep(0.05)
        assert remote.keys is keys  # ... and kept when the refresh failed

        idp.status = 200
        idp.keys = [public_jwk(ed_key(2), kid="e2")]
        remote.current()
        await eventually(lambda: asyncio.sleep(0, remote.keys), lambda k: k is not keys)
        assert remote.keys is not None and [k.kid for k in remote.keys] == ["e2"]
    finally:
        await cache.close()


async def test_fetch_limits(idp: JwksServer) -> None:
    cache = JwksCache(JwksPolicy(max_bytes=2000, total_timeout=0.1))
    try:
        idp.keys = [public_jwk(rsa_key(1), kid=f"k{n}") for n in range(10)]  # ~4 KB
        with pytest.raises(FetchError, match="larger than 2000 bytes"):
            await cache.fetch(idp.url)
        idp.keys = []
        idp.delay = 0.3
        with pytest.raises(FetchError, match="no answer within"):
            await cache.fetch(idp.url)
        idp.delay = 0
        idp.body = b"<html>not json</html>"
        with pytest.raises(FetchError, match="not a JWKS"):
            await cache.fetch(idp.url)
        idp.body = None
        idp.status = 404
        with pytest.raises(FetchError, match="HTTP 404"):
            await cache.fetch(idp.url)
    finally:
        await cache.close()


def test_max_age_is_clamped() -> None:
    policy = JwksPolicy()
    assert max_age_of(None, policy) == 300
    assert max_age_of("public, max-age=120", policy) == 120
    assert max_age_of("max-age=5", policy) == 60
    assert max_age_of("max-age=999999", policy) == 3600
    assert max_age_of("no-store", policy) == 60
    assert max_age_of("private", policy) == 300


async def test_a_rotated_jwks_reaches_a_running_worker_through_index_reloads(
        idp: JwksServer, nats_url: str, root: str) -> None:
    idp.keys = [public_jwk(ed_key(), kid="e1")]
    async with running_auth(nats_url, root, remote_index(remote_consumer("cs-a", idp.url))) as auth:
        assert (await auth.verify(bearer(token(ed_key(), "EdDSA", kid="e1")))).outcome == "allow"
        # An unrelated consumer change rebuilds the index; the cached key set survives it.
        auth.registry.index = remote_index(remote_consumer("cs-a", idp.url), remote_consumer("cs-b", idp.url))
        await auth.changed("cs-b", revision=2)
        await eventually(lambda: asyncio.sleep(0, auth.service.index.reloads), lambda n: n == 2)
        reply = await auth.verify(bearer(token(ed_key(), "EdDSA", kid="e1")))
        assert isinstance(reply, VerifyReply) and reply.consumer_id == "cs-a"
        assert idp.hits == 1
