"""Key material -> verifier keys: the algorithms each key may verify come from the key, never the token."""

from __future__ import annotations

import datetime
import json
import logging

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID
from mcpgw_auth.jwt_keys import RSA_ALGORITHMS, parse_static

from tests.auth.keys import ec_key, ed_key, jwks, public_jwk, public_pem, rsa_key


def algs(secret_type: str, material: str) -> list[list[str]]:
    return [sorted(k.algorithms) for k in parse_static(secret_type, material, "test")]


def test_each_key_type_allows_only_its_own_algorithms() -> None:
    assert algs("", public_pem(rsa_key())) == [sorted(RSA_ALGORITHMS)]
    assert algs("", public_pem(ec_key("P-256"))) == [["ES256"]]
    assert algs("", public_pem(ec_key("P-384"))) == [["ES384"]]
    assert algs("", public_pem(ed_key())) == [["EdDSA"]]
    assert algs("", json.dumps(public_jwk(ed_key()))) == [["EdDSA"]]  # a lone JWK
    # A JWK's own alg narrows; one that does not fit its type disqualifies the key.
    assert algs("", jwks(public_jwk(rsa_key(), alg="PS256"), public_jwk(rsa_key(), alg="HS256"))) == [["PS256"]]
    assert algs("", jwks(public_jwk(ec_key("P-256"), alg="ES384"))) == []
    # Keys for encryption are not signature keys.
    assert algs("", jwks(public_jwk(ed_key(), use="enc"))) == []


def test_shared_secrets_only_when_declared_and_long_enough() -> None:
    assert algs("Symmetry", "x" * 32) == [["HS256"]]
    assert algs("Symmetry", "x" * 48) == [["HS256", "HS384"]]
    assert algs("symmetry", "x" * 64) == [["HS256", "HS384", "HS512"]]
    assert algs("Symmetry", "short-secret") == []
    oct_jwk = {"kty": "oct", "k": "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg", "kid": "s1"}  # 32 bytes
    assert algs("Symmetry", jwks(oct_jwk)) == [["HS256"]]
    # An oct key in an asymmetric key set is ignored (a secret must be declared as one) ...
    assert algs("", jwks(oct_jwk, public_jwk(ed_key()))) == [["EdDSA"]]
    # ... and a public key is never taken as a shared secret.
    assert algs("Symmetry", public_pem(rsa_key())) == []
    assert algs("Symmetry", jwks(public_jwk(rsa_key()))) == []
    # Nor is a non-PEM, non-JSON string an asymmetric key.
    assert algs("", "x" * 64) == []


def test_certificates_and_pasted_private_keys() -> None:
    key = rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    assert algs("", cert.public_bytes(Encoding.PEM).decode()) == [sorted(RSA_ALGORITHMS)]
    private = ec_key("P-256").private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    parsed = parse_static("", private, "test")
    assert len(parsed) == 1 and isinstance(parsed[0].key, ec.EllipticCurvePublicKey)


def test_weak_and_unsupported_keys_are_refused_without_logging_them(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert algs("", public_pem(small)) == []
    assert algs("", public_pem(ec.generate_private_key(ec.SECP256K1()))) == []
    secret = "too-short-but-secret"
    assert algs("Symmetry", secret) == []
    broken = {"kty": "oct", "k": "!!not-base64!!-secret-value"}
    assert algs("Symmetry", jwks(broken)) == []
    assert secret not in caplog.text and broken["k"] not in caplog.text
    assert "below 2048" in caplog.text
