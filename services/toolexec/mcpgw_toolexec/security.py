"""Backend credentials (Higress §1.5 steps 2, 6 and 11), resolved once per compiled tool.

The client's own credential reaches a backend only where the operator's YAML asks for it:
`passthrough: true` on the tool's (or the server's default) downstream or upstream security, or
`passthroughAuthHeader: true` on a server without downstream security. Everywhere else toolexec
never sees it: the edge sends it along only for servers configured that way, and a tool that does
not ask ignores it. Credential order for a scheme: passthrough > `security.credential` > the
scheme's `defaultCredential`.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from typing import Literal

from mcpgw.contracts import SecurityRef, SecurityScheme, ServerBlock, ToolSpec, invalid
from mcpgw_toolexec.headers import RESERVED, is_header_safe, is_token

log = logging.getLogger(__name__)

Style = Literal["basic", "bearer", "apikey"]


@dataclass(frozen=True, slots=True)
class UpstreamAuth:
    """Where the credential goes; exactly one of header/query/cookie is set.

    The value is kept out of `repr` so an accidental log line cannot print it. `per_call` marks
    what only a call can settle (see `for_call`); a plain credential is applied as it is.
    """

    where: str
    name: str
    value: str = field(repr=False)
    style: Style = "apikey"
    # The client's credential, when it sent one, replaces `value` (formatted for `style`).
    passthrough: bool = False
    # `passthroughAuthHeader`: the client's Authorization header goes to the backend as it came
    # (unless the request sets its own). With `where == ""` that is all this carries.
    raw_authorization: bool = False

    @property
    def per_call(self) -> bool:
        return self.passthrough or self.raw_authorization


def _scheme(server: ServerBlock, ref: SecurityRef, field_path: str) -> SecurityScheme | None:
    scheme = next((s for s in server.security_schemes if s.id == ref.id), None)
    if scheme is None:
        log.warning("%s: security scheme %r is not defined; calling without credentials", field_path, ref.id)
    return scheme


def _format(style: Style, credential: str) -> str:
    if style == "basic":
        # Higress: "user:pass" is encoded; anything else is taken as already encoded.
        return "Basic " + (base64.b64encode(credential.encode()).decode() if ":" in credential else credential)
    if style == "bearer":
        return f"Bearer {credential}"
    return credential


def _placement(scheme: SecurityScheme, ref: SecurityRef, field_path: str) -> tuple[str, str, Style]:
    if scheme.type == "http":
        if scheme.scheme in ("basic", "bearer"):
            return "header", "Authorization", scheme.scheme
        raise invalid(field_path, f"security scheme {ref.id!r}: http scheme must be basic or bearer")
    name = scheme.name or ""
    where = scheme.in_ or "header"
    if not is_token(name) or (where == "header" and name.lower() in RESERVED):
        raise invalid(field_path, f"security scheme {ref.id!r}: {name!r} is not a usable {where} name")
    return where, name, "apikey"


def resolve(spec: ToolSpec, server: ServerBlock | None, field_path: str) -> UpstreamAuth | None:
    """The credential a tool sends, or None. A broken reference is logged, not fatal (as Higress)."""
    if server is None:
        return None
    downstream = spec.security or server.default_downstream_security
    upstream = spec.request_template.security or server.default_upstream_security
    passthrough = bool((downstream is not None and downstream.passthrough)
                       or (upstream is not None and upstream.passthrough))
    raw = server.passthrough_auth_header and downstream is None
    scheme = _scheme(server, upstream, field_path) if upstream is not None else None
    if upstream is None or scheme is None:
        return UpstreamAuth("", "Authorization", "", raw_authorization=True) if raw else None
    credential = upstream.credential if upstream.credential is not None else scheme.default_credential
    if credential and not is_header_safe(credential):
        # Named by scheme id only: the credential itself never goes into a message.
        raise invalid(field_path, f"credential of security scheme {upstream.id!r} contains a control character")
    where, name, style = _placement(scheme, upstream, field_path)
    if not credential and not passthrough:
        log.warning("%s: security scheme %r has no credential; calling without credentials", field_path, upstream.id)
        return UpstreamAuth("", "Authorization", "", raw_authorization=True) if raw else None
    return UpstreamAuth(where, name, _format(style, credential) if credential else "", style,
                        passthrough=passthrough, raw_authorization=raw)


def client_secret(presented: str) -> str:
    """The credential inside the client's Authorization value, without its scheme word."""
    scheme, _, rest = presented.strip().partition(" ")
    if rest and scheme.lower() in ("bearer", "basic"):
        return rest.strip()
    return presented.strip()


def for_call(auth: UpstreamAuth, client_credential: str) -> tuple[UpstreamAuth | None, str]:
    """(the credential to apply, the raw Authorization value to add or "") for one call."""
    presented = client_credential if client_credential and is_header_safe(client_credential) else ""
    raw = presented if auth.raw_authorization else ""
    if auth.where == "":
        return None, raw
    if auth.passthrough and presented:
        secret = client_secret(presented)
        if secret:
            return UpstreamAuth(auth.where, auth.name, _format(auth.style, secret), auth.style), raw
    if not auth.value:
        return None, raw
    return UpstreamAuth(auth.where, auth.name, auth.value, auth.style), raw
