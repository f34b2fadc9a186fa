"""JWT verification keys: which key material fits which `secretType`, and how it is parsed.

The one home of the rule, with two users: the registry checks a consumer's `jwks` with it on save
(`strict`: any key that could not verify a token is a 400 naming where it sits), and auth turns the
same text into verifier keys (leniently: an unusable key is skipped and logged, the others still
work, as they must in a fetched remote JWKS). What the registry accepts auth verifies with.

The forms, for `secretType: Symmetry` (a shared secret, HS*) and otherwise (RS*/PS*/ES*/EdDSA):
- a bare shared secret, Symmetry only: its bytes exactly as given, at least 32 (RFC 7518 §3.2);
- a JWKS `{"keys": [...]}` or one JWK: `oct` keys with Symmetry (Higress jwt-auth's form of a
  shared secret), RSA/EC/OKP keys otherwise. Keys not for signatures (`use` other than `sig`,
  `key_ops` without `verify`) are ignored, as an IdP's published set may hold encryption keys;
- a PEM, never with Symmetry: a public key, a certificate (its key), or a private key (its public
  half: auth verifies, it never signs).

The token's `alg` header never chooses how a key is used. Every key carries the algorithms that
fit its own type, and a token is only checked against keys whose list holds its `alg`: HS* for
shared secrets (only where the consumer says `Symmetry`), RS*/PS* for RSA keys, ES256/384/512 for
EC keys on the matching curve, EdDSA for Ed25519/Ed448. This is what defeats algorithm confusion
(an HS256 token "signed" with an RS256 consumer's public key): no RSA key ever lists HS256.

Nothing here logs, and no message quotes key material: they say where a key sits and what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

from mcpgw import untrusted

RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
# RFC 7518 §3.2: an HMAC key MUST be at least as long as the hash output.
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
MIN_SECRET_BYTES = HMAC_MIN_BYTES["HS256"]
# NIST SP 800-131A; PyJWT warns below it too.
RSA_MIN_BITS = 2048
# Everything any key could allow. `none` is absent on purpose.
SUPPORTED = frozenset(RSA_ALGORITHMS | set(EC_ALGORITHMS.values()) | set(HMAC_MIN_BYTES) | {"EdDSA"})

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
KeyObject = PublicKey | bytes
# How the material was given: a bare shared secret, a JWKS document, one JWK, or a PEM.
KeyForm = Literal["secret", "jwks", "jwk", "pem"]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """One usable key: the object PyJWT verifies with, and the only algorithms it may verify."""

    key: KeyObject
    algorithms: frozenset[str]
    kid: str | None = None


class UnusableKey(ValueError):
    """Key material that cannot verify tokens.

    `where` is the place inside the material ("" for the whole of it, `keys[1]`, `keys[1].alg`)
    and `problem` what is wrong, worded to follow a field name: neither ever holds key material.
    """

    def __init__(self, problem: str, where: str = "") -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.problem = problem
        self.where = where

    def under(self, prefix: str) -> UnusableKey:
        if not self.where:
            return UnusableKey(self.problem, prefix)
        return UnusableKey(self.problem, prefix + ("" if self.where.startswith("[") else ".") + self.where)


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    form: KeyForm
    keys: tuple[VerifierKey, ...]
    # Keys left out (lenient parsing only), each saying where it sits and why.
    unusable: tuple[UnusableKey, ...] = ()
    # For a PEM private key, its public half as PEM: what `keys` holds, and all the registry stores.
    public_half: str = ""


def is_symmetric(secret_type: str) -> bool:
    return secret_type.strip().lower() == "symmetry"


def public_algorithms(key: PublicKey) -> frozenset[str]:
    """The algorithms an asymmetric key may verify, decided by the key alone."""
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < RSA_MIN_BITS:
            raise UnusableKey(f"is an RSA key of {key.key_size} bits; at least {RSA_MIN_BITS} are needed")
        return RSA_ALGORITHMS
    if isinstance(key, ec.EllipticCurvePublicKey):
        alg = EC_ALGORITHMS.get(key.curve.name)
        if alg is None:
            raise UnusableKey(f"is an EC key on curve {key.curve.name}; only P-256, P-384 and P-521 are supported")
        return frozenset({alg})
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return frozenset({"EdDSA"})
    raise UnusableKey("is of a key type that cannot verify signatures")


def hmac_algorithms(secret: bytes) -> frozenset[str]:
    allowed = frozenset(alg for alg, size in HMAC_MIN_BYTES.items() if len(secret) >= size)
    if not allowed:
        raise UnusableKey(f"is a shared secret of {len(secret)} bytes; at least {MIN_SECRET_BYTES} are needed "
                          "(RFC 7518 §3.2: as long as the HS256 hash)")
    return allowed


def _as_public(key: object) -> PublicKey:
    """A private key given where a public one belongs still verifies: keep only its public half."""
    if isinstance(key, _PrivateKey):
        return key.public_key()
    if isinstance(key, PublicKey):
        return key
    raise UnusableKey("is of a key type that cannot verify signatures")


def _restrict(allowed: frozenset[str], declared: object) -> frozenset[str]:
    """A JWK's own `alg` narrows what its type allows; it can never widen it."""
    if declared is None:
        return allowed
    if not isinstance(declared, str) or declared not in allowed:
        raise UnusableKey(f"is {declared!r}, which does not fit this key (it allows {', '.join(sorted(allowed))})",
                          "alg")
    return frozenset({declared})


def parse_jwk(jwk: dict[str, Any], *, symmetric: bool) -> VerifierKey | None:
    """One JWK as a verifier key; None for a key not meant for signatures. Raises `UnusableKey`."""
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise UnusableKey("must be a string", "kid")
    if jwk.get("use", "sig") != "sig":
        return None
    ops = jwk.get("key_ops")
    if isinstance(ops, list) and "verify" not in ops:
        return None
    kty = jwk.get("kty")
    if not isinstance(kty, str) or not kty:
        raise UnusableKey("is required", "kty")
    if kty == "oct" and not symmetric:
        # A shared secret is only trusted where the consumer declares `Symmetry`.
        raise UnusableKey("is oct (a shared secret), which needs secretType Symmetry", "kty")
    if kty != "oct" and symmetric:
        raise UnusableKey(f"is {kty}, but secretType Symmetry takes shared secrets (oct keys) only", "kty")
    try:
        if kty == "oct":
            secret = HMACAlgorithm.from_jwk(jwk)
            return VerifierKey(secret, _restrict(hmac_algorithms(secret), jwk.get("alg")), kid)
        key: object
        if kty == "RSA":
            key = RSAAlgorithm.from_jwk(jwk)
        elif kty == "EC":
            key = ECAlgorithm.from_jwk(jwk)
        elif kty == "OKP":
            key = OKPAlgorithm.from_jwk(jwk)
        else:
            raise UnusableKey(f"is {kty!r}, which is not supported (RSA, EC, OKP or oct)", "kty")
    except UnusableKey:
        raise
    except Exception:
        # PyJWT's messages can quote the JWK (a secret, for `oct`): say only the kind.
        raise UnusableKey(f"is not a readable {kty} key (members missing or malformed)") from None
    public = _as_public(key)
    return VerifierKey(public, _restrict(public_algorithms(public), jwk.get("alg")), kid)


def parse_jwks(document: object, *, symmetric: bool) -> tuple[tuple[VerifierKey, ...], tuple[UnusableKey, ...]]:
    """A JWKS document (or one JWK): its usable keys, and each unusable one with where it sits."""
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        entries: list[object] = document["keys"]
        place = "keys[{}]"
    elif isinstance(document, dict) and "kty" in document:
        entries, place = [document], ""
    elif isinstance(document, dict) and "keys" in document:
        raise UnusableKey("must be a list of JWKs", "keys")
    else:
        raise UnusableKey('is neither a JWKS ({"keys": [...]}) nor a JWK')
    keys: list[VerifierKey] = []
    unusable: list[UnusableKey] = []
    for position, entry in enumerate(entries):
        where = place.format(position)
        try:
            if not isinstance(entry, dict):
                raise UnusableKey("must be a JSON object (a JWK)")
            key = parse_jwk(entry, symmetric=symmetric)
        except UnusableKey as exc:
            unusable.append(exc.under(where) if where else exc)
            continue
        if key is not None:
            keys.append(key)
    return tuple(keys), tuple(unusable)


def _parse_pem(text: str) -> tuple[PublicKey, bool]:
    """The public key of a PEM, and whether the PEM held a private key."""
    data = text.encode()
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return _as_public(x509.load_pem_x509_certificate(data).public_key()), False
        if b"PRIVATE KEY-----" in data:
            return _as_public(load_pem_private_key(data, password=None)), True
        return _as_public(load_pem_public_key(data)), False
    except UnusableKey:
        raise
    except Exception:
        raise UnusableKey("is not a PEM public key, certificate or unencrypted private key that can be read") \
            from None


def parse_material(material: str, *, symmetric: bool, strict: bool = False) -> KeyMaterial:
    """A consumer's inline key material (`jwks`) as verifier keys. Raises `UnusableKey` for
    material that yields none; `strict` also for any single key that is unusable."""
    text = material.strip()
    if not text:
        raise UnusableKey("is empty")
    if text.startswith("{"):
        try:
            untrusted.check_json(text.encode())  # TooDeep is a ValueError: malformed here
            document = json.loads(text)
        except ValueError:
            if not symmetric:
                raise UnusableKey("is neither a JWKS, a JWK nor a PEM key (malformed JSON)") from None
            # A shared secret that merely starts with "{".
        else:
            keys, unusable = parse_jwks(document, symmetric=symmetric)
            if unusable and (strict or not keys):
                raise unusable[0]
            if not keys:
                raise UnusableKey("holds no key for signatures", "keys" if "keys" in document else "")
            return KeyMaterial("jwks" if "keys" in document else "jwk", keys, unusable)
    if "-----BEGIN" in text:
        if symmetric:
            # PyJWT refuses this too; a PEM is never a shared secret.
            raise UnusableKey("is a PEM key, but secretType Symmetry needs the shared secret")
        public, private = _parse_pem(text)
        half = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode() if private else ""
        return KeyMaterial("pem", (VerifierKey(public, public_algorithms(public)),), public_half=half)
    if not symmetric:
        raise UnusableKey('must be a JWKS ({"keys": [...]}), one JWK, or a PEM key')
    # The raw secret, as the console takes it (not trimmed: spaces may be part of it).
    secret = material.encode()
    return KeyMaterial("secret", (VerifierKey(secret, hmac_algorithms(secret)),))
