"""JWT verification keys: parsed once per index load, each with the algorithms its type allows.

The token's `alg` header never chooses how a key is used. Every key carries the algorithms that
fit its own type, and a token is only checked against keys whose list holds its `alg`:
HS* for shared secrets (and only when the consumer says `Symmetry`), RS*/PS* for RSA keys,
ES256/384/512 for EC keys on the matching curve, EdDSA for Ed25519/Ed448. This is what defeats
algorithm confusion (an HS256 token "signed" with an RS256 consumer's public key): no RSA key
ever lists HS256.

Nothing here logs key material: messages name the consumer, the key's position and its `kid`.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

log = logging.getLogger(__name__)

RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
# RFC 7518 §3.2: an HMAC key MUST be at least as long as the hash output.
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
# NIST SP 800-131A; PyJWT warns below it too.
RSA_MIN_BITS = 2048
# Everything any key could allow. `none` is absent on purpose.
SUPPORTED = frozenset(RSA_ALGORITHMS | set(EC_ALGORITHMS.values()) | set(HMAC_MIN_BYTES) | {"EdDSA"})

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
KeyObject = PublicKey | bytes


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """One usable key: the object PyJWT verifies with, and the only algorithms it may verify."""

    key: KeyObject
    algorithms: frozenset[str]
    kid: str | None = None


class UnusableKey(ValueError):
    """A key that cannot be used; the message never contains key material."""


def is_symmetric(secret_type: str) -> bool:
    return secret_type.strip().lower() == "symmetry"


def public_algorithms(key: PublicKey) -> frozenset[str]:
    """The algorithms an asymmetric key may verify, decided by the key alone."""
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < RSA_MIN_BITS:
            raise UnusableKey(f"RSA key of {key.key_size} bits is below {RSA_MIN_BITS}")
        return RSA_ALGORITHMS
    if isinstance(key, ec.EllipticCurvePublicKey):
        alg = EC_ALGORITHMS.get(key.curve.name)
        if alg is None:
            raise UnusableKey(f"EC curve {key.curve.name} is not supported")
        return frozenset({alg})
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return frozenset({"EdDSA"})
    raise UnusableKey("unsupported key type")


def hmac_algorithms(secret: bytes) -> frozenset[str]:
    allowed = frozenset(alg for alg, size in HMAC_MIN_BYTES.items() if len(secret) >= size)
    if not allowed:
        raise UnusableKey(f"shared secret of {len(secret)} bytes is shorter than 32")
    return allowed


def _as_public(key: object) -> PublicKey:
    """A private key pasted where a public one belongs still verifies: keep only its public half."""
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
                  | ed448.Ed448PrivateKey):
        log.warning("a JWT verification key is a private key; only its public half is kept")
        return key.public_key()
    if isinstance(key, PublicKey):
        return key
    raise UnusableKey("unsupported key type")


def _restrict(allowed: frozenset[str], declared: object) -> frozenset[str]:
    """A JWK's own `alg` narrows what its type allows; it can never widen it."""
    if declared is None:
        return allowed
    if not isinstance(declared, str) or declared not in allowed:
        raise UnusableKey(f"its alg {declared!r} does not fit its key type")
    return frozenset({declared})


def parse_jwk(jwk: dict[str, Any], *, symmetric: bool) -> VerifierKey | None:
    """One JWK as a verifier key; None for a key not meant for signatures. Raises `UnusableKey`."""
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise UnusableKey("kid is not a string")
    if jwk.get("use", "sig") != "sig":
        return None
    ops = jwk.get("key_ops")
    if isinstance(ops, list) and "verify" not in ops:
        return None
    kty = jwk.get("kty")
    try:
        if kty == "oct":
            if not symmetric:
                # A shared secret is only trusted where the consumer declares `Symmetry`.
                raise UnusableKey("a shared-secret (oct) key in an asymmetric key set")
            secret = HMACAlgorithm.from_jwk(jwk)
            return VerifierKey(secret, _restrict(hmac_algorithms(secret), jwk.get("alg")), kid)
        if symmetric:
            raise UnusableKey(f"a {kty} key where the consumer declares a shared secret")
        key: object
        if kty == "RSA":
            key = RSAAlgorithm.from_jwk(jwk)
        elif kty == "EC":
            key = ECAlgorithm.from_jwk(jwk)
        elif kty == "OKP":
            key = OKPAlgorithm.from_jwk(jwk)
        else:
            raise UnusableKey(f"key type {kty!r} is not supported")
    except UnusableKey:
        raise
    except Exception:
        # PyJWT's messages can quote the JWK (a secret, for `oct`): report only the kind.
        raise UnusableKey(f"malformed {kty} key") from None
    public = _as_public(key)
    return VerifierKey(public, _restrict(public_algorithms(public), jwk.get("alg")), kid)


def parse_jwks(document: object, *, symmetric: bool, origin: str) -> tuple[VerifierKey, ...]:
    """A JWKS document (or a single JWK) as verifier keys; unusable keys are skipped and logged."""
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        entries: list[object] = document["keys"]
    elif isinstance(document, dict) and "kty" in document:
        entries = [document]
    else:
        raise UnusableKey("neither a JWKS nor a JWK")
    keys: list[VerifierKey] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            log.warning("%s: key #%d is not a JSON object; skipped", origin, position)
            continue
        try:
            key = parse_jwk(entry, symmetric=symmetric)
        except UnusableKey as exc:
            log.warning("%s: key #%d (kid %r) skipped: %s", origin, position, entry.get("kid"), exc)
            continue
        if key is not None:
            keys.append(key)
    return tuple(keys)


def _parse_pem(material: str) -> PublicKey:
    data = material.encode()
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return _as_public(x509.load_pem_x509_certificate(data).public_key())
        if b"PRIVATE KEY-----" in data:
            return _as_public(load_pem_private_key(data, password=None))
        return _as_public(load_pem_public_key(data))
    except UnusableKey:
        raise
    except Exception:
        raise UnusableKey("malformed PEM key") from None


@functools.lru_cache(maxsize=1024)
def parse_static(secret_type: str, material: str, origin: str) -> tuple[VerifierKey, ...]:
    """The keys a consumer configures inline (`jwks`): a shared secret, PEM, JWK or JWKS.

    Cached by content, so reloading the index after an unrelated change parses nothing again.
    """
    text = material.strip()
    if not text:
        return ()
    symmetric = is_symmetric(secret_type)
    try:
        if text.startswith("{"):
            try:
                document = json.loads(text)
            except ValueError:
                if not symmetric:
                    raise UnusableKey("not valid JSON") from None
            else:
                return parse_jwks(document, symmetric=symmetric, origin=origin)
        if symmetric:
            if "-----BEGIN" in text:
                # PyJWT refuses this too; a PEM is public, never a shared secret.
                raise UnusableKey("a PEM key given as a shared secret")
            # The raw secret, as the console takes it (not trimmed: spaces may be part of it).
            secret = material.encode()
            return (VerifierKey(secret, hmac_algorithms(secret)),)
        if "-----BEGIN" in text:
            public = _parse_pem(text)
            return (VerifierKey(public, public_algorithms(public)),)
        raise UnusableKey("neither PEM nor JSON")
    except UnusableKey as exc:
        log.warning("%s: JWT key material unusable: %s", origin, exc)
        return ()
