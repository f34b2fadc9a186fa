"""JWT consumers: which consumer a presented token belongs to, and whether it holds now.

A token is matched to a consumer in two passes over the consumers that read tokens from where it
arrived: first those whose `jwtPayloadConfig` claim matches the token, then those with no payload
config, the first whose keys verify it. A consumer with a payload config the token does not match
is never tried, even if its keys would verify it (two consumers may share an IdP).

Once a consumer's key verifies the signature, the token is that consumer's: its expiry, not-before
(with the consumer's clock skew), issuer and audience are then checked. Tokens must carry `exp`.

Nothing here logs or returns a token, a claim value or a key.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.utils import base64url_decode

from mcpgw.contracts import ConsumerCredentials, JwtVerification, PresentedCredential, TokenSource
from mcpgw.jwtkeys import SUPPORTED, VerifierKey, is_symmetric
from mcpgw_auth.jwks_remote import JwksCache, RemoteJwks, display, usable_url
from mcpgw_auth.jwt_keys import parse_static

log = logging.getLogger(__name__)

_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
MAX_TOKEN_CHARS = 16 * 1024
# Keys tried per consumer for one token without a matching kid: bounds the work a forged token costs.
MAX_KEYS_TRIED = 8
MAX_HEADER_VALUE = 8 * 1024
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Headers that frame or route the backend request: a claim must never set them.
_RESERVED_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
    "trailer", "expect", "proxy-connection", "proxy-authorization", "proxy-authenticate",
})
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# Where a token arrives: ("bearer", "") for `Authorization: Bearer`, else (source, name) with
# header names lower-cased and query/cookie names exact, as the edge reports them.
Location = tuple[str, str]


def looks_like_jws(value: str) -> bool:
    return len(value) <= MAX_TOKEN_CHARS and _JWS.match(value) is not None


def location_of(source: TokenSource) -> Location | None:
    key = source.key.strip()
    if source.position == "HEADER":
        if not key or key.lower() == "authorization":
            return ("bearer", "")
        return ("header", key.lower())
    if not key:
        return None
    return ("query", key) if source.position == "QUERY" else ("cookie", key)


def credential_location(credential: PresentedCredential) -> Location:
    if credential.source == "bearer":
        return ("bearer", "")
    if credential.source == "header":
        return ("header", credential.name.strip().lower())
    return (credential.source, credential.name)


@dataclass(frozen=True, slots=True)
class ClaimHeader:
    claim: str
    header: str
    # False: a header already set by an earlier claim is kept. How these headers meet the backend
    # request's own is toolexec's rule: `VerifyReply.forward_headers` carries no override flag.
    override: bool


@dataclass(frozen=True)
class JwtConsumer:
    consumer: ConsumerCredentials
    location: Location
    prefix: str
    static_keys: tuple[VerifierKey, ...]
    remote: RemoteJwks | None
    issuer: str
    audience: tuple[str, ...]
    leeway: float
    payload_key: str
    payload_value: str
    claim_headers: tuple[ClaimHeader, ...]

    def token_in(self, value: str) -> str:
        """The token inside a presented value: a custom header may carry a scheme prefix."""
        prefix = self.prefix
        if prefix and value[:len(prefix)].lower() == prefix.lower():
            value = value[len(prefix):]
        return value.strip()


@dataclass(frozen=True, slots=True)
class Accepted:
    consumer: ConsumerCredentials
    forward_headers: dict[str, str]
    # The token's expiry (with the consumer's clock skew), unix seconds; 0 for API keys.
    valid_until: float = 0.0


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str
    # Higher ranks tell the client more (the token was genuine but is e.g. expired).
    rank: int = 0
    # May not hold a moment later (the keys could not be fetched yet): an answer never cached.
    transient: bool = False


INVALID = Refused("invalid credential")
# A remote JWKS with no copy yet that did not answer: a 401, as Envoy's jwt_authn gives ("Jwks remote
# fetch is failed"), not a 503 that has clients retry forever. It outranks what any key could have
# said of a malformed token, and yields to what a key that verified it said (expired, issuer, ...).
KEYS_UNFETCHED = Refused("token signing keys could not be fetched", 3, transient=True)
JwtOutcome = Accepted | Refused


def _claim_headers(consumer_id: str, settings: JwtVerification) -> tuple[ClaimHeader, ...]:
    accepted: list[ClaimHeader] = []
    for entry in settings.claims_to_headers:
        header = entry.header.strip()
        if not entry.claim or not _HEADER_NAME.match(header) or header.lower() in _RESERVED_HEADERS:
            log.warning("consumer %s: claim-to-header %r -> %r is not usable; ignored",
                        consumer_id, entry.claim, entry.header)
            continue
        accepted.append(ClaimHeader(entry.claim, header, entry.override))
    return tuple(accepted)


def _entry(consumer: ConsumerCredentials, settings: JwtVerification, jwks: JwksCache | None) -> JwtConsumer | None:
    cid = consumer.consumer_id
    location = location_of(settings.token_source)
    if location is None:
        log.warning("consumer %s: JWT token source %s names no key; JWTs ignored",
                    cid, settings.token_source.position)
        return None
    prefix = settings.token_source.prefix if location[0] == "header" else ""
    if location[0] == "bearer" and settings.token_source.prefix.strip().lower() not in ("", "bearer"):
        log.warning("consumer %s: JWT prefix is not Bearer; the edge reads only `Authorization: Bearer`", cid)
    static = parse_static(settings.secret_type, settings.jwks, f"consumer {cid}")
    remote: RemoteJwks | None = None
    uri = settings.remote_jwks_uri.strip()
    if uri:
        if is_symmetric(settings.secret_type):
            log.warning("consumer %s: a remote JWKS with a shared secret is not supported; ignored", cid)
        elif not usable_url(uri):
            log.warning("consumer %s: remote JWKS URL is not http(s); ignored", cid)
        elif jwks is not None:
            remote = jwks.get(uri)
    if not static and remote is None:
        log.warning("consumer %s: no usable JWT key; JWTs ignored", cid)
        return None
    return JwtConsumer(
        consumer=consumer,
        location=location,
        prefix=prefix,
        static_keys=static,
        remote=remote,
        issuer=settings.issuer.strip(),
        audience=tuple(a for a in settings.audience if a),
        leeway=float(max(0, settings.clock_skew_seconds)),
        payload_key=settings.payload_key.strip(),
        payload_value=settings.payload_value,
        claim_headers=_claim_headers(cid, settings),
    )


@dataclass(frozen=True)
class JwtIndex:
    by_location: dict[Location, tuple[JwtConsumer, ...]]

    @classmethod
    def build(cls, consumers: Iterable[ConsumerCredentials], jwks: JwksCache | None) -> JwtIndex:
        table: dict[Location, list[JwtConsumer]] = {}
        for consumer in consumers:
            if consumer.jwt is None:
                continue
            entry = _entry(consumer, consumer.jwt, jwks)
            if entry is not None:
                table.setdefault(entry.location, []).append(entry)
        return cls({location: tuple(entries) for location, entries in table.items()})

    def candidates(self, credential: PresentedCredential) -> tuple[JwtConsumer, ...]:
        return self.by_location.get(credential_location(credential), ())

    def names(self, source: str) -> set[str]:
        return {name for kind, name in self.by_location if kind == source}

    def remotes(self) -> list[RemoteJwks]:
        found = {e.remote.url: e.remote for es in self.by_location.values() for e in es if e.remote is not None}
        return list(found.values())


def _claim(payload: dict[str, Any], name: str) -> Any:
    if name in payload:
        return payload[name]
    # `a.b` reaches into a nested object when no top-level claim has that exact name.
    node: Any = payload
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _matches(value: Any, expected: str) -> bool:
    if isinstance(value, str):
        return value == expected
    if isinstance(value, bool | int | float):
        return json.dumps(value) == expected
    if isinstance(value, list):
        return any(_matches(item, expected) for item in value if not isinstance(item, list | dict))
    return False


def _header_value(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_HEADER_VALUE or _BAD_VALUE.search(text):
        return None
    return text


def forward_headers(entry: JwtConsumer, claims: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    names: dict[str, str] = {}  # lower-cased -> the spelling first used
    for rule in entry.claim_headers:
        value = _header_value(_claim(claims, rule.claim))
        if value is None:
            if _claim(claims, rule.claim) is not None:
                log.warning("consumer %s: claim %r is not a valid header value; %s not set",
                            entry.consumer.consumer_id, rule.claim, rule.header)
            continue
        lowered = rule.header.lower()
        if lowered in names:
            if not rule.override:
                continue
            del headers[names[lowered]]
        names[lowered] = rule.header
        headers[rule.header] = value
    return headers


def _segment(token: str, n: int) -> dict[str, Any] | None:
    """One JSON segment, unverified: only to choose the key and the consumer to try (the signature,
    checked by PyJWT over these same bytes, then decides). Parsed here once per token rather than
    by `jwt.get_unverified_header`, whose per-character checks cost more than an HMAC."""
    try:
        decoded = json.loads(base64url_decode(token.split(".")[n]))
    except Exception:
        return None
    return decoded if isinstance(decoded, dict) else None


def _decode(token: str, key: VerifierKey, alg: str, entry: JwtConsumer) -> dict[str, Any]:
    return jwt.decode(
        token,
        key.key,
        # Exactly the token's alg, already known to be one this key allows (never chosen by it alone).
        algorithms=[alg],
        issuer=entry.issuer or None,
        audience=list(entry.audience) or None,
        leeway=entry.leeway,
        options={"require": ["exp"], "verify_aud": bool(entry.audience), "enforce_minimum_key_length": True},
    )


async def _keys_for(entry: JwtConsumer, alg: str, kid: str | None) -> list[VerifierKey] | Refused:
    known = list(entry.static_keys)
    if entry.remote is not None:
        remote = await entry.remote.loaded()
        if remote is None and not known:
            return KEYS_UNFETCHED
        if remote is not None:
            if kid is not None and all(k.kid != kid for k in remote) and all(k.kid != kid for k in known):
                # Perhaps the IdP rotated its keys: look again (rate-limited inside).
                remote = await entry.remote.refresh_for_unknown_kid() or remote
            known += remote
    keys = [k for k in known if alg in k.algorithms]
    if kid is None:
        return keys[:MAX_KEYS_TRIED]
    return [k for k in keys if k.kid == kid] + [k for k in keys if k.kid is None][:MAX_KEYS_TRIED]


async def _check(entry: JwtConsumer, token: str, alg: str, kid: str | None) -> JwtOutcome | None:
    """Accepted/Refused once a key of this consumer verified the signature; None if none did."""
    keys = await _keys_for(entry, alg, kid)
    if isinstance(keys, Refused):
        return keys
    if not keys:
        return Refused("unknown signing key", 1) if kid is not None else None
    for key in keys:
        try:
            claims = _decode(token, key, alg, entry)
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            return Refused("token expired", 4)
        except jwt.ImmatureSignatureError:
            return Refused("token not yet valid", 4)
        except jwt.InvalidIssuerError:
            return Refused("token issuer not accepted", 4)
        except jwt.InvalidAudienceError:
            return Refused("token audience not accepted", 4)
        except jwt.MissingRequiredClaimError as exc:
            return Refused(f"token lacks the {exc.claim} claim", 4)
        except jwt.PyJWTError:
            return Refused("malformed token", 2)
        if not entry.consumer.enable:
            return Refused("consumer disabled", 5)
        expiry = claims.get("exp")
        valid_until = float(expiry) + entry.leeway if isinstance(expiry, int | float) else 0.0
        return Accepted(entry.consumer, forward_headers(entry, claims), valid_until)
    return None


async def verify_jwt(candidates: tuple[JwtConsumer, ...], value: str) -> JwtOutcome | None:
    """The outcome for a presented value among the consumers reading it; None: not a JWT at all."""
    best: Refused | None = None
    headers: dict[str, dict[str, Any] | None] = {}
    payloads: dict[str, dict[str, Any]] = {}
    tried = False
    ordered = [e for e in candidates if e.payload_key] + [e for e in candidates if not e.payload_key]
    for entry in ordered:
        token = entry.token_in(value)
        if not looks_like_jws(token):
            continue
        tried = True
        if entry.payload_key:
            if token not in payloads:
                payloads[token] = _segment(token, 1) or {}
            if not _matches(_claim(payloads[token], entry.payload_key), entry.payload_value):
                continue
        if token not in headers:
            headers[token] = _segment(token, 0)
        header = headers[token]
        kid = None if header is None else header.get("kid")
        if header is None or not (kid is None or isinstance(kid, str)):
            outcome: JwtOutcome | None = Refused("malformed token", 2)
        elif not isinstance(header.get("alg"), str) or header["alg"] not in SUPPORTED:
            outcome = Refused("token algorithm not accepted", 2)
        else:
            outcome = await _check(entry, token, header["alg"], kid)
        if isinstance(outcome, Accepted):
            return outcome
        if outcome is not None and (best is None or outcome.rank > best.rank):
            best = outcome
    if not tried:
        return None
    if best is KEYS_UNFETCHED:
        log.warning("a token could not be checked: remote JWKS not fetched (%s)",
                    ", ".join(sorted({display(e.remote.url) for e in ordered if e.remote is not None})))
    return best or INVALID
