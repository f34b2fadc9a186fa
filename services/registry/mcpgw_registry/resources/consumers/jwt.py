"""A consumer's `jwtIdentityConfig`: the request body, checks, the stored form, and the masked view.

Which key material is acceptable is `mcpgw.jwtkeys`, the rule auth verifies with. Key material is
write-only: a Symmetry shared secret and the private members of a JWK are never returned (the view
shows `******`), a PEM private key is kept as its public half only, and no error message quotes any
of them. A client that reads the config and sends it back unchanged keeps the stored secret:
`******` where the view had it means "keep what is stored".
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from mcpgw import untrusted
from mcpgw.contracts.errors import invalid
from mcpgw.contracts.registry import ClaimToHeader, JwtVerification, TokenSource
from mcpgw.http_names import CLIENT_SET
from mcpgw_registry.resources.validation import CONTROL, HEADER_NAME, MASK, QUERY_NAME, Body, join

FIELD = "jwtIdentityConfig"
MAX_KEY_TEXT = 64 * 1024
MAX_CLAIM_HEADERS = 32
MAX_AUDIENCES = 32
MAX_SKEW = 3600
# JWK members that are secret (RFC 7518 §6.2.2, §6.3.2, §6.4.1): never shown, never logged.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


SecretType = Literal["Symmetry", "Asymmetry"]
Position = Literal["HEADER", "QUERY", "COOKIE"]


class JwtTokenConfig(Body):
    key: str = "Authorization"
    position: Position = "HEADER"
    # Default: "Bearer " when the token is in the Authorization header, "" elsewhere.
    prefix: str | None = None
    # The reference's "pass the token on to the backend". Stored and shown; mcpgw never forwards a
    # client's token unless a tool's security scheme says `passthrough: true`.
    pass_: bool = msgspec.field(default=False, name="pass")


class JwtPayloadConfig(Body):
    payload_key_name: str = ""
    payload_key_value: str = ""


class ClaimsToHeader(Body):
    claim: str
    header: str
    override: bool = True


class JwtIdentityConfig(Body):
    type: Literal["Jwt"] = "Jwt"
    secret_type: SecretType | None = None
    jwks: str | None = None
    remote_jwks: str | dict[str, Any] | None = None
    jwt_token_config: JwtTokenConfig | None = None
    jwt_payload_config: JwtPayloadConfig | None = None
    claims_to_headers_configs: list[ClaimsToHeader] = []
    issuer: str = ""
    audience: str | list[str] | None = None
    clock_skew_seconds: int = 60


class StoredJwt(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a consumer record holds: the checked config. `jwks` is secret for Symmetry."""

    secret_type: str = "Asymmetry"
    # "secret" (Symmetry shared secret), "jwks", "jwk" or "pem": how `jwks` was given.
    key_form: str = ""
    jwks: str = ""
    remote_jwks_uri: str = ""
    issuer: str = ""
    audience: list[str] = []
    audience_is_list: bool = False
    clock_skew_seconds: int = 60
    token_key: str = "Authorization"
    token_position: str = "HEADER"
    token_prefix: str = "Bearer "
    token_pass: bool = False
    payload_key: str = ""
    payload_value: str = ""
    claims_to_headers: list[ClaimToHeader] = []


# checks


def _text(value: str, field: str, limit: int = 1024) -> str:
    if len(value) > limit:
        raise invalid(field, f"must be at most {limit} characters")
    if CONTROL.search(value):
        raise invalid(field, "must not contain control characters")
    return value


def _key_form(jwks: str, field: str, symmetric: bool) -> tuple[str, str]:
    """The key material to store and how it was given ("secret", "jwks", "jwk" or "pem").

    Checked by the rule auth verifies with (`mcpgw.jwtkeys`), strictly: every key must be usable.
    A PEM private key is stored as its public half: the issuer's private key has no business here.
    """
    if len(jwks) > MAX_KEY_TEXT:
        raise invalid(field, f"must be at most {MAX_KEY_TEXT} characters")
    # Imported here: only a consumer with JWT settings needs cryptography and PyJWT (75-165 ms to import).
    from mcpgw import jwtkeys

    try:
        parsed = jwtkeys.parse_material(jwks, symmetric=symmetric, strict=True)
    except jwtkeys.UnusableKey as exc:
        raise invalid(join(field, exc.where), exc.problem) from None
    return parsed.public_half or jwks, parsed.form


def _remote_uri(value: str | dict[str, Any], field: str) -> str:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                untrusted.check_json(text.encode())  # TooDeep is a ValueError: malformed here
                parsed = json.loads(text)
            except ValueError:
                raise invalid(field, 'must be {"uri": "https://…"} (malformed JSON)') from None
            if not isinstance(parsed, dict):
                raise invalid(field, 'must be {"uri": "https://…"}')
            value = parsed
        else:
            value = {"uri": text}
    uri = value.get("uri")
    if not isinstance(uri, str) or not uri:
        raise invalid(join(field, "uri"), "is required: the URL of the issuer's JWKS")
    field = join(field, "uri")
    _text(uri, field, 2048)
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise invalid(field, "is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise invalid(field, "must be an http or https URL")
    if not parts.hostname:
        raise invalid(field, "must name a host")
    if parts.username is not None or parts.password is not None:
        raise invalid(field, "must not carry credentials")
    if port == 0:
        raise invalid(field, "must not use port 0")
    return uri


def _token(config: JwtTokenConfig | None) -> tuple[str, str, str, bool]:
    if config is None:
        return "Authorization", "HEADER", "Bearer ", False
    field = join(FIELD, "jwtTokenConfig")
    pattern = QUERY_NAME if config.position == "QUERY" else HEADER_NAME
    if not pattern.match(config.key):
        what = {"HEADER": "an HTTP header name", "QUERY": "a query parameter name (A-Z a-z 0-9 _ . ~ -)",
                "COOKIE": "a cookie name"}[config.position]
        raise invalid(join(field, "key"), f"must be {what} when position is {config.position}")
    prefix = config.prefix
    if prefix is None:
        prefix = "Bearer " if config.position == "HEADER" and config.key.lower() == "authorization" else ""
    _text(prefix, join(field, "prefix"), 64)
    return config.key, config.position, prefix, config.pass_


def _claim_headers(items: list[ClaimsToHeader]) -> list[ClaimToHeader]:
    field = join(FIELD, "claimsToHeadersConfigs")
    if len(items) > MAX_CLAIM_HEADERS:
        raise invalid(field, f"at most {MAX_CLAIM_HEADERS} entries")
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        if not item.claim:
            raise invalid(join(where, "claim"), "is required")
        _text(item.claim, join(where, "claim"), 256)
        if not HEADER_NAME.match(item.header):
            raise invalid(join(where, "header"), "must be an HTTP header name (letters, digits, !#$%&'*+.^_`|~-)")
        # Framing and connection headers belong to the HTTP client, and Host picks the backend.
        if item.header.lower() in CLIENT_SET:
            raise invalid(join(where, "header"), f"{item.header} cannot be set from a claim")
        if item.header.lower() in seen:
            raise invalid(join(where, "header"), "is set by an earlier entry already")
        seen.add(item.header.lower())
        out.append(ClaimToHeader(claim=item.claim, header=item.header, override=item.override))
    return out


def _audience(value: str | list[str] | None) -> tuple[list[str], bool]:
    field = join(FIELD, "audience")
    if value is None:
        return [], False
    values = [value] if isinstance(value, str) else value
    if len(values) > MAX_AUDIENCES:
        raise invalid(field, f"at most {MAX_AUDIENCES} audiences")
    for i, item in enumerate(values):
        where = field if isinstance(value, str) else f"{field}[{i}]"
        if not item:
            raise invalid(where, "must not be empty")
        _text(item, where)
    return list(values), not isinstance(value, str)


def check(config: JwtIdentityConfig, stored: StoredJwt | None) -> StoredJwt:
    """The config to store; `stored` (the consumer's current one) supplies secrets sent back masked."""
    symmetric = config.secret_type == "Symmetry"
    jwks = config.jwks
    key_form = ""
    if jwks is not None and MASK in jwks:
        if stored is None or not stored.jwks or (stored.secret_type == "Symmetry") != symmetric \
                or jwks != _masked_jwks(stored):
            raise invalid(join(FIELD, "jwks"), f"contains {MASK}, which stands for a stored secret: send the "
                                               "whole key, or the value read back unchanged")
        jwks, key_form = stored.jwks, stored.key_form
    elif jwks:
        jwks, key_form = _key_form(jwks, join(FIELD, "jwks"), symmetric)
    remote = ""
    if config.remote_jwks not in (None, "", {}):
        assert config.remote_jwks is not None
        if symmetric:
            raise invalid(join(FIELD, "remoteJwks"), "cannot be used with secretType Symmetry (a shared secret "
                                                     "is never published)")
        remote = _remote_uri(config.remote_jwks, join(FIELD, "remoteJwks"))
    if not jwks and not remote:
        needed = "the shared secret" if symmetric else "a JWKS, JWK, PEM key or certificate (or remoteJwks)"
        raise invalid(join(FIELD, "jwks"), f"is required: {needed}")
    key, position, prefix, pass_token = _token(config.jwt_token_config)
    payload = config.jwt_payload_config or JwtPayloadConfig()
    pfield = join(FIELD, "jwtPayloadConfig")
    if bool(payload.payload_key_name) != bool(payload.payload_key_value):
        missing = "payloadKeyValue" if payload.payload_key_name else "payloadKeyName"
        raise invalid(join(pfield, missing), "is required when the other one is given")
    _text(payload.payload_key_name, join(pfield, "payloadKeyName"), 256)
    _text(payload.payload_key_value, join(pfield, "payloadKeyValue"), 1024)
    if not 0 <= config.clock_skew_seconds <= MAX_SKEW:
        raise invalid(join(FIELD, "clockSkewSeconds"), f"must be between 0 and {MAX_SKEW}")
    audience, audience_is_list = _audience(config.audience)
    return StoredJwt(
        secret_type="Symmetry" if symmetric else "Asymmetry",
        key_form=key_form,
        jwks=jwks or "",
        remote_jwks_uri=remote,
        issuer=_text(config.issuer, join(FIELD, "issuer")),
        audience=audience,
        audience_is_list=audience_is_list,
        clock_skew_seconds=config.clock_skew_seconds,
        token_key=key,
        token_position=position,
        token_prefix=prefix,
        token_pass=pass_token,
        payload_key=payload.payload_key_name,
        payload_value=payload.payload_key_value,
        claims_to_headers=_claim_headers(config.claims_to_headers_configs),
    )


# the data plane's form


def _public_only(jwks: str, form: str) -> str:
    """The key document without private members of asymmetric keys: auth verifies, never signs."""
    if form not in ("jwks", "jwk"):
        return jwks
    document = json.loads(jwks)
    keys = document["keys"] if form == "jwks" else [document]
    for key in keys:
        if isinstance(key, dict) and key.get("kty") != "oct":
            for member in PRIVATE_MEMBERS:
                key.pop(member, None)
    return json.dumps(document, separators=(",", ":"))


def to_verification(stored: StoredJwt) -> JwtVerification:
    # Whatever form a shared secret was given in (bare, or `oct` JWKs as Higress's jwt-auth takes
    # it), auth must be told it is one: it trusts an `oct` key nowhere else.
    secret_type = "Symmetry" if stored.secret_type == "Symmetry" else ""
    position: Literal["HEADER", "QUERY", "COOKIE"] = (
        "QUERY" if stored.token_position == "QUERY" else "COOKIE" if stored.token_position == "COOKIE" else "HEADER")
    return JwtVerification(
        secret_type=secret_type,
        jwks=_public_only(stored.jwks, stored.key_form),
        remote_jwks_uri=stored.remote_jwks_uri,
        issuer=stored.issuer,
        audience=stored.audience,
        clock_skew_seconds=stored.clock_skew_seconds,
        token_source=TokenSource(key=stored.token_key, position=position, prefix=stored.token_prefix),
        payload_key=stored.payload_key,
        payload_value=stored.payload_value,
        claims_to_headers=stored.claims_to_headers,
    )


# the API view


def _masked_jwks(stored: StoredJwt) -> str:
    if stored.key_form == "secret":
        return MASK
    if stored.key_form not in ("jwks", "jwk"):
        return stored.jwks  # a PEM public key is not secret
    document = json.loads(stored.jwks)
    keys = document["keys"] if stored.key_form == "jwks" else [document]
    if not any(isinstance(k, dict) and PRIVATE_MEMBERS & k.keys() for k in keys):
        return stored.jwks
    for key in keys:
        if isinstance(key, dict):
            for member in PRIVATE_MEMBERS & key.keys():
                key[member] = MASK
    return json.dumps(document, separators=(",", ":"))


def view(stored: StoredJwt) -> dict[str, Any]:
    """`jwtIdentityConfig` as GetConsumer shows it: secrets masked, public keys readable."""
    out: dict[str, Any] = {"type": "Jwt", "secretType": stored.secret_type}
    if stored.jwks:
        out["jwks"] = _masked_jwks(stored)
    if stored.remote_jwks_uri:
        # The reference carries remoteJwks as a JSON string.
        out["remoteJwks"] = json.dumps({"uri": stored.remote_jwks_uri})
    out["jwtTokenConfig"] = {"key": stored.token_key, "position": stored.token_position,
                             "prefix": stored.token_prefix, "pass": stored.token_pass}
    if stored.payload_key:
        out["jwtPayloadConfig"] = {"payloadKeyName": stored.payload_key, "payloadKeyValue": stored.payload_value}
    out["claimsToHeadersConfigs"] = [{"claim": c.claim, "header": c.header, "override": c.override}
                                     for c in stored.claims_to_headers]
    if stored.issuer:
        out["issuer"] = stored.issuer
    if stored.audience:
        out["audience"] = stored.audience if stored.audience_is_list else stored.audience[0]
    out["clockSkewSeconds"] = stored.clock_skew_seconds
    return out

