"""Key material -> verifier keys: which forms fit which secretType, and the algorithms come from the key."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm

from mcpgw.jwtkeys import RSA_ALGORITHMS, UnusableKey, parse_material
from tests.auth.keys import (
    HS_SECRET,
    certificate_pem,
    ec_key,
    ed_key,
    jwks,
    oct_jwk,
    private_pem,
    public_jwk,
    public_pem,
    rsa_key,
)


def algs(material: str, *, symmetric: bool = False) -> list[list[str]]:
    return [sorted(k.algorithms) for k in parse_material(material, symmetric=symmetric).keys]


def refusal(material: str, *, symmetric: bool = False, strict: bool = True) -> str:
    with pytest.raises(UnusableKey) as err:
        parse_material(material, symmetric=symmetric, strict=strict)
    return str(err.value)


def test_each_key_type_allows_only_its_own_algorithms() -> None:
    assert algs(public_pem(rsa_key())) == [sorted(RSA_ALGORITHMS)]
    assert algs(public_pem(ec_key("P-256"))) == [["ES256"]]
    assert algs(public_pem(ec_key("P-384"))) == [["ES384"]]
    assert algs(public_pem(ed_key())) == [["EdDSA"]]
    assert algs(json.dumps(public_jwk(ed_key()))) == [["EdDSA"]]  # a lone JWK
    # A JWK's own alg narrows; one that does not fit its type disqualifies the key.
    assert algs(jwks(public_jwk(rsa_key(), alg="PS256"), public_jwk(rsa_key(), alg="HS256"))) == [["PS256"]]
    assert refusal(jwks(public_jwk(ec_key("P-256"), alg="ES384"))).startswith("keys[0].alg: is 'ES384', which")
    # Keys for encryption are not signature keys: ignored, and a set of nothing else holds no key.
    assert algs(jwks(public_jwk(ed_key(), use="enc"), public_jwk(ed_key(2)))) == [["EdDSA"]]
    assert refusal(jwks(public_jwk(ed_key(), use="enc"))) == "keys: holds no key for signatures"


def test_the_forms_of_material_and_how_each_is_given() -> None:
    forms = {
        "secret": (HS_SECRET, True),
        "jwks": (jwks(oct_jwk(kid="s1")), True),
        "jwk": (json.dumps(public_jwk(rsa_key())), False),
        "pem": (certificate_pem(ec_key("P-256")), False),
    }
    for form, (material, symmetric) in forms.items():
        parsed = parse_material(material, symmetric=symmetric, strict=True)
        assert (parsed.form, len(parsed.keys), parsed.public_half) == (form, 1, "")


def test_shared_secrets_bare_or_as_oct_keys_only_when_declared() -> None:
    assert algs("x" * 32, symmetric=True) == [["HS256"]]
    assert algs("x" * 48, symmetric=True) == [["HS256", "HS384"]]
    assert algs("x" * 64, symmetric=True) == [["HS256", "HS384", "HS512"]]
    assert refusal("short-secret", symmetric=True).startswith("is a shared secret of 12 bytes; at least 32")
    # Higress's form: a JWKS of oct keys is the same secret as the bare one.
    (bare,) = parse_material(HS_SECRET, symmetric=True).keys
    (as_jwk,) = parse_material(jwks(oct_jwk(kid="s1")), symmetric=True).keys
    assert (as_jwk.key, as_jwk.algorithms, as_jwk.kid) == (bare.key, bare.algorithms, "s1")
    assert algs(json.dumps(oct_jwk(alg="HS256")), symmetric=True) == [["HS256"]]
    # An oct key is a secret only where the consumer declares one ...
    assert refusal(jwks(oct_jwk())) == "keys[0].kty: is oct (a shared secret), which needs secretType Symmetry"
    assert algs(jwks(oct_jwk(), public_jwk(ed_key())), symmetric=False) == [["EdDSA"]]  # lenient: skipped
    # ... and a public key is never taken as a shared secret.
    assert refusal(public_pem(rsa_key()), symmetric=True).startswith("is a PEM key, but secretType Symmetry")
    assert refusal(jwks(public_jwk(rsa_key())), symmetric=True).startswith("keys[0].kty: is RSA, but secretType")
    # Nor is a non-PEM, non-JSON string an asymmetric key, nor JSON of another shape any key.
    assert refusal("x" * 64).startswith("must be a JWKS")
    assert refusal('{"secret": "' + "x" * 40 + '"}', symmetric=True).startswith("is neither a JWKS")
    # A shared secret that only looks like JSON is still a secret.
    assert algs("{" + "x" * 40, symmetric=True) == [["HS256"]]


def test_certificates_and_private_keys_verify_with_their_public_half() -> None:
    assert algs(certificate_pem(rsa_key())) == [sorted(RSA_ALGORITHMS)]
    parsed = parse_material(private_pem(ec_key("P-256")), symmetric=False, strict=True)
    (key,) = parsed.keys
    assert isinstance(key.key, ec.EllipticCurvePublicKey) and key.algorithms == {"ES256"}
    assert parsed.public_half == public_pem(ec_key("P-256"))
    # A private JWK (with `d`) likewise.
    private_jwk = ECAlgorithm.to_jwk(ec_key("P-256"))
    assert '"d"' in private_jwk
    (from_jwk,) = parse_material(private_jwk, symmetric=False).keys
    assert from_jwk.key == key.key


def test_weak_and_unsupported_keys_say_where_and_why_without_quoting_them() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert refusal(public_pem(small)) == "is an RSA key of 1024 bits; at least 2048 are needed"
    k1 = ec.generate_private_key(ec.SECP256K1())
    assert refusal(jwks(public_jwk(ed_key()), public_jwk(k1))).startswith("keys[1]: is an EC key on curve secp256k1")
    short = oct_jwk("seventeen-secret!")
    assert refusal(jwks(short), symmetric=True).startswith("keys[0]: is a shared secret of 17 bytes")
    unreadable = "is not a readable {} key (members missing or malformed)"
    assert refusal(jwks({"kty": "oct"}), symmetric=True) == "keys[0]: " + unreadable.format("oct")
    assert refusal(jwks({"kty": "RSA", "n": "abc", "e": "AQAB"})) == "keys[0]: " + unreadable.format("RSA")
    assert refusal('{"keys": [{"n": "x"}]}') == "keys[0].kty: is required"
    assert refusal('{"keys": [{"kty": "RSA", "kid": 7}]}') == "keys[0].kid: must be a string"
    assert refusal('{"keys": {"kty": "RSA"}}') == "keys: must be a list of JWKs"
    assert refusal('{"keys": []}') == "keys: holds no key for signatures"
    assert refusal("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----").startswith(
        "is not a PEM public key, certificate or unencrypted private key")
    assert refusal("   ") == "is empty"
    # Lenient parsing (auth's) keeps the usable keys and says what it left out; strict refuses.
    lenient = parse_material(jwks(public_jwk(small), public_jwk(ed_key())), symmetric=False)
    assert [str(p) for p in lenient.unusable] == ["keys[0]: is an RSA key of 1024 bits; at least 2048 are needed"]
    assert len(lenient.keys) == 1
    assert refusal(jwks(public_jwk(small), public_jwk(ed_key()))).startswith("keys[0]: is an RSA key of 1024")
