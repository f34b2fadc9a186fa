"""`securitySchemes` + `security` -> `server.securitySchemes` and each tool's requirements.

The operator fills in the credentials (a scheme's `defaultCredential` or the server's
`defaultUpstreamSecurity`); the model never sees them. Parameters that duplicate a scheme (an
`api_key` header parameter next to an `api_key` apiKey scheme, Slack's `token`) are therefore
not arguments either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcpgw.contracts.tools import SecurityRef, SecurityScheme
from mcpgw.http_names import RESERVED, is_token
from mcpgw_registry.importing.openapi.operations import Operation, Param
from mcpgw_registry.importing.openapi.refs import RefError, Resolver

# Parameter names that carry the OAuth access token itself when an API also takes it that way.
_TOKEN_PARAMS = frozenset({"token", "access_token"})
ALWAYS_HIDDEN_HEADERS = frozenset({"authorization", "content-type", "accept"})


@dataclass(slots=True)
class Schemes:
    schemes: list[SecurityScheme] = field(default_factory=list)
    unsupported: dict[str, str] = field(default_factory=dict)  # scheme id -> why
    # OAuth 2 / OpenID Connect schemes: an operation secured by one may also declare the access
    # token as a plain `token` parameter (Slack does on every method).
    oauth: set[str] = field(default_factory=set)
    api_keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (in, name) -> scheme id
    notes: list[str] = field(default_factory=list)  # document-wide remarks


def read_schemes(doc: dict[str, Any], version: str, resolver: Resolver) -> Schemes:
    if version == "2.0":
        raw = doc.get("securityDefinitions")
    else:
        components = doc.get("components")
        raw = components.get("securitySchemes") if isinstance(components, dict) else None
    out = Schemes()
    if not isinstance(raw, dict):
        return out
    for scheme_id, node in raw.items():
        scheme_id = str(scheme_id)
        if not scheme_id.strip():
            # The registry refuses a scheme without an id: the operations that name it lose the
            # alternative (each with a note) rather than the whole import failing.
            out.unsupported[scheme_id] = "a security scheme needs a non-empty name"
            continue
        try:
            node = resolver.deref(node).node
        except RefError as exc:
            out.unsupported[scheme_id] = exc.message
            continue
        if not isinstance(node, dict):
            out.unsupported[scheme_id] = "is not a security scheme object"
            continue
        _one(scheme_id, node, out)
    return out


def _one(scheme_id: str, node: dict[str, Any], out: Schemes) -> None:
    kind = str(node.get("type", ""))
    if kind == "basic":  # Swagger 2.0
        kind, node = "http", {"scheme": "basic"}
    if kind == "http":
        scheme = str(node.get("scheme", "")).lower()
        if scheme in ("basic", "bearer"):
            out.schemes.append(SecurityScheme(id=scheme_id, type="http", scheme=scheme))  # type: ignore[arg-type]
        else:
            out.unsupported[scheme_id] = f"HTTP authentication scheme {scheme or '(none)'!r} is not supported"
    elif kind == "apiKey":
        where, name = node.get("in"), node.get("name")
        if where not in ("header", "query", "cookie") or not isinstance(name, str) or not name:
            out.unsupported[scheme_id] = "apiKey scheme without a usable `in` / `name`"
        elif not is_token(name) or (where == "header" and name.lower() in RESERVED):
            # What toolexec can send a credential as (mcpgw.http_names).
            out.unsupported[scheme_id] = f"apiKey {where} name {name!r} cannot carry a credential"
        else:
            out.schemes.append(SecurityScheme(id=scheme_id, type="apiKey", in_=where, name=name))
            out.api_keys[(where, name.lower() if where == "header" else name)] = scheme_id
    elif kind in ("oauth2", "openIdConnect"):
        # The gateway does not run OAuth flows; the operator configures an access token, which is
        # sent as a bearer token like any OAuth client would.
        out.schemes.append(SecurityScheme(id=scheme_id, type="http", scheme="bearer"))
        out.oauth.add(scheme_id)
        out.notes.append(f"security scheme {scheme_id!r} ({kind}): the operator configures an access token, "
                         "sent as a bearer token; OAuth flows are not run")
    elif kind == "mutualTLS":
        out.unsupported[scheme_id] = "mutual TLS needs a client certificate, which tools cannot configure yet"
    else:
        out.unsupported[scheme_id] = f"security scheme type {kind or '(none)'!r} is not supported"


@dataclass(slots=True)
class Requirements:
    alternatives: list[list[str]] | None  # None: the document says nothing; [] : none needed
    first: SecurityRef | None


def requirements(op: Operation, doc: dict[str, Any], schemes: Schemes, notes: list[str]) -> Requirements:
    raw = op.security if op.security is not None else doc.get("security")
    if not isinstance(raw, list):
        return Requirements(None, None)
    known = {s.id for s in schemes.schemes}
    alternatives: list[list[str]] = []
    for alternative in raw:
        if not isinstance(alternative, dict):
            continue
        ids = [str(k) for k in alternative]
        problems = [f"{i!r} ({schemes.unsupported[i]})" if i in schemes.unsupported else f"{i!r} (not defined)"
                    for i in ids if i not in known]
        if problems:
            notes.append(f"security alternative {' + '.join(ids)} dropped: {', '.join(problems)}")
            continue
        if ids not in alternatives:
            alternatives.append(ids)
    if raw and not alternatives:
        notes.append("no supported security alternative: requests carry the server's default credentials, if any")
        return Requirements(None, None)
    first = SecurityRef(id=alternatives[0][0]) if alternatives and len(alternatives[0]) == 1 else None
    return Requirements(alternatives, first)


def hidden(param: Param, schemes: Schemes, reqs: Requirements, notes: list[str]) -> bool:
    """Whether a parameter is a credential or a header the gateway sets, not an argument."""
    where = param.location
    name = param.name.lower() if where == "header" else param.name
    if where == "header" and name in ALWAYS_HIDDEN_HEADERS:
        if name == "authorization" and not reqs.alternatives:
            notes.append("header parameter Authorization is not an argument; configure a security scheme "
                         "for the backend credential")
        return True
    scheme_id = schemes.api_keys.get((where, name))
    if scheme_id is not None:
        used = reqs.alternatives is not None and any(scheme_id in alt for alt in reqs.alternatives)
        if not used:
            notes.append(f"{where} parameter {param.name!r} duplicates security scheme {scheme_id!r}, which this "
                         "operation does not require; it is not sent")
        return True
    if where != "path" and param.name.lower() in _TOKEN_PARAMS and reqs.alternatives:
        bearer = next((i for alt in reqs.alternatives for i in alt if i in schemes.oauth), None)
        if bearer is not None:
            notes.append(f"{where} parameter {param.name!r} is taken to be the access token of scheme {bearer!r}: "
                         "sent as the bearer credential, not as an argument")
            return True
    return False


def hidden_body_field(name: str, schemes: Schemes, reqs: Requirements, notes: list[str]) -> bool:
    """Slack-style `token` form fields: the same access token, in the body."""
    if name.lower() in _TOKEN_PARAMS and reqs.alternatives:
        bearer = next((i for alt in reqs.alternatives for i in alt if i in schemes.oauth), None)
        if bearer is not None:
            notes.append(f"body field {name!r} is taken to be the access token of scheme {bearer!r}: "
                         "sent as the bearer credential, not as an argument")
            return True
    return False
