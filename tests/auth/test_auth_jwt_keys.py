"""Auth applies the shared key rule leniently: an unusable key is skipped and logged, never quoted."""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mcpgw_auth.jwt_keys import parse_static

from tests.auth.keys import ed_key, jwks, oct_jwk, public_jwk, public_pem


def test_unusable_keys_are_skipped_and_logged_without_their_material(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    secret = "too-short-but-secret"
    assert parse_static("Symmetry", secret, "consumer cs-short") == ()
    assert parse_static("", public_pem(small), "consumer cs-small") == ()
    # One bad key does not cost the consumer its good ones.
    stray = oct_jwk("a-secret-that-has-no-place-in-an-asymmetric-set", kid="stray")
    (kept,) = parse_static("", jwks(stray, public_jwk(ed_key(), kid="good")), "consumer cs-mixed")
    assert kept.kid == "good"
    assert parse_static("", "", "consumer cs-remote-only") == ()
    assert "consumer cs-short: JWT key material unusable: is a shared secret of 20 bytes" in caplog.text
    assert "consumer cs-small: JWT key material unusable: is an RSA key of 1024 bits" in caplog.text
    assert "consumer cs-mixed: JWT key skipped: keys[0].kty: is oct" in caplog.text
    assert "cs-remote-only" not in caplog.text
    assert secret not in caplog.text and stray["k"] not in caplog.text
