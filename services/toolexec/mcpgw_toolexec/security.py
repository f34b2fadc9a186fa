"""Backend credentials (Higress §1.5 step 11), resolved once per compiled tool.

Passthrough of the client's own credential is deliberately unsupported: toolexec never sees the
client's headers, so a consumer's token can never reach a backend.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

from mcpgw.contracts import SecurityRef, ServerBlock, ToolSpec, invalid
from mcpgw_toolexec.headers import RESERVED, is_header_safe, is_token

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpstreamAuth:
    """Where the credential goes; exactly one of header/query/cookie is set.

    The value is kept out of `repr` so an accidental log line cannot print it.
    """

    where: str
    name: str
    value: str = field(repr=False)


def resolve(spec: ToolSpec, server: ServerBlock | None, field_path: str) -> UpstreamAuth | None:
    """The credential a tool sends, or None. A broken reference is logged, not fatal (as Higress)."""
    if server is None:
        return None
    ref: SecurityRef | None = spec.request_template.security or server.default_upstream_security
    if ref is None:
        return None
    scheme = next((s for s in server.security_schemes if s.id == ref.id), None)
    if scheme is None:
        log.warning("%s: security scheme %r is not defined; calling without credentials", field_path, ref.id)
        return None
    credential = ref.credential if ref.credential is not None else scheme.default_credential
    if not credential:
        log.warning("%s: security scheme %r has no credential; calling without credentials",
                    field_path, ref.id)
        return None
    if not is_header_safe(credential):
        # Named by scheme id only: the credential itself never goes into a message.
        raise invalid(field_path, f"credential of security scheme {ref.id!r} contains a control character")
    if scheme.type == "http":
        if scheme.scheme == "basic":
            token = base64.b64encode(credential.encode()).decode() if ":" in credential else credential
            return UpstreamAuth("header", "Authorization", f"Basic {token}")
        if scheme.scheme == "bearer":
            return UpstreamAuth("header", "Authorization", f"Bearer {credential}")
        raise invalid(field_path, f"security scheme {ref.id!r}: http scheme must be basic or bearer")
    # apiKey
    name = scheme.name or ""
    where = scheme.in_ or "header"
    if not is_token(name) or (where == "header" and name.lower() in RESERVED):
        raise invalid(field_path, f"security scheme {ref.id!r}: {name!r} is not a usable {where} name")
    return UpstreamAuth(where, name, credential)
