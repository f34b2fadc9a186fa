"""A REST-converted server's backend authentication as one small resource: the security schemes of
its tools document and which one applies by default, credentials write-only.

It is a view of, and an edit to, the tools document (`server.securitySchemes`,
`server.defaultUpstreamSecurity`), not a second place credentials live: what it saves is the
document, through the same path as `PUT …/tools`, so validation, imported tools' recorded edits
and masking are the document's own. The document is written back in canonical form (comments in a
hand-written YAML do not survive; the API says so).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.tools import SecurityRef, SecurityScheme, ToolsDocument
from mcpgw_registry.resources.validation import MASK, Body


class SchemeBody(Body):
    id: str
    type: Literal["http", "apiKey"]
    scheme: Literal["basic", "bearer"] | None = None
    in_: Literal["header", "query", "cookie"] | None = msgspec.field(default=None, name="in")
    name: str | None = None
    # Absent or "******": keep the credential stored for this id; null: none; a string: the new one
    # (Basic: `user:password`).
    credential: str | UnsetType | None = UNSET


class BackendAuthBody(Body):
    schemes: list[SchemeBody] = []
    # The scheme every tool without one of its own uses; null: none.
    default: str | None = None


def view(doc: ToolsDocument | None) -> dict[str, Any]:
    server = doc.server if doc is not None else None
    schemes = server.security_schemes if server is not None else []
    default = server.default_upstream_security if server is not None else None
    return {
        "schemes": [{"id": s.id, "type": s.type, "scheme": s.scheme, "in": s.in_, "name": s.name,
                     "credential": MASK if s.default_credential else None} for s in schemes],
        "default": default.id if default is not None else None,
    }


def apply(doc: ToolsDocument, body: BackendAuthBody) -> ToolsDocument:
    """`doc` with its schemes and default replaced as `body` says, stored credentials kept."""
    stored = {s.id: s.default_credential for s in doc.server.security_schemes}
    schemes = []
    for i, given in enumerate(body.schemes):
        credential: str | None
        if given.credential is UNSET or given.credential == MASK:
            credential = stored.get(given.id)
            if given.credential == MASK and credential is None:
                raise invalid(f"schemes[{i}].credential", f"****** keeps a stored credential, and scheme "
                                                          f"{given.id!r} has none; send the credential")
        else:
            credential = given.credential or None
        schemes.append(SecurityScheme(id=given.id, type=given.type, scheme=given.scheme, in_=given.in_,
                                      name=given.name, default_credential=credential))
    ids = {s.id for s in schemes}
    if body.default is not None and body.default not in ids:
        known = ", ".join(sorted(ids)) or "none"
        raise invalid("default", f"names no scheme ({body.default!r}; the schemes are {known})")
    previous = doc.server.default_upstream_security
    default = None
    if body.default is not None:
        # A credential on the reference itself stays only while it still points at the same scheme.
        kept = previous.credential if previous is not None and previous.id == body.default else None
        default = SecurityRef(id=body.default, credential=kept)
    server = msgspec.structs.replace(doc.server, security_schemes=schemes, default_upstream_security=default)
    return msgspec.structs.replace(doc, server=server)
