"""Upstream credentials: what the gateway presents to a hosted MCP server, written but never read back.

A credential is set on the server (every consumer's upstream sessions use it) or per consumer
(that consumer's own account upstream). It travels only registry -> hosting (`UpstreamLookup`):
never in a snapshot (the edge gets those) and never in an API response, which shows its type,
where it goes and that it is configured.
"""

from __future__ import annotations

from typing import Any, Literal

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.hosting import UpstreamCredential
from mcpgw_registry.resources.validation import CONTROL, HEADER_NAME, QUERY_NAME, Body, join

FIELD = "upstreamCredential"
MAX_SECRET = 8192


class CredentialBody(Body):
    type: Literal["Bearer", "ApiKey", "Basic"]
    value: str | None = None
    name: str | None = None
    location: Literal["header", "query"] | None = None
    username: str | None = None
    password: str | None = None


# Which fields each type takes; any other present field is a mistake worth a 400.
_FIELDS: dict[str, tuple[str, ...]] = {
    "Bearer": ("value",),
    "ApiKey": ("value", "name", "location"),
    "Basic": ("username", "password"),
}


def _secret(value: str | None, field: str, *, required: bool = True) -> str:
    if value is None or (required and not value):
        raise invalid(field, "is required")
    if len(value) > MAX_SECRET:
        raise invalid(field, f"must be at most {MAX_SECRET} characters")
    if CONTROL.search(value):
        raise invalid(field, "must not contain CR, LF or other control characters")
    return value


def check(body: CredentialBody, field: str = FIELD) -> UpstreamCredential:
    """The credential `body` describes, or a 400 naming the offending field."""
    allowed = _FIELDS[body.type]
    for name in ("value", "name", "location", "username", "password"):
        if getattr(body, name) is not None and name not in allowed:
            raise invalid(join(field, name), f"does not apply to type {body.type} (it takes {', '.join(allowed)})")
    if body.type == "Bearer":
        return UpstreamCredential(type="Bearer", value=_secret(body.value, join(field, "value")))
    if body.type == "ApiKey":
        location = body.location or "header"
        name = body.name or ""
        pattern = HEADER_NAME if location == "header" else QUERY_NAME
        if not name:
            raise invalid(join(field, "name"), f"is required: the {location} the key is sent in")
        if not pattern.match(name):
            what = "an HTTP header name" if location == "header" else "a query parameter name ([A-Za-z0-9_.~-])"
            raise invalid(join(field, "name"), f"must be {what} of at most 128 characters")
        return UpstreamCredential(type="ApiKey", value=_secret(body.value, join(field, "value")), name=name,
                                  location=location)
    username = _secret(body.username, join(field, "username"))
    if ":" in username:
        raise invalid(join(field, "username"), "must not contain ':' (HTTP Basic separates it from the password)")
    return UpstreamCredential(type="Basic", username=username,
                              password=_secret(body.password, join(field, "password"), required=False))


def view(credential: UpstreamCredential) -> dict[str, Any]:
    """What readers see: never the value or the password (the Basic username is not secret)."""
    shown: dict[str, Any] = {"type": credential.type}
    if credential.type == "ApiKey":
        shown["name"] = credential.name
        shown["location"] = credential.location
    elif credential.type == "Basic":
        shown["username"] = credential.username
    shown["configured"] = True
    return shown
