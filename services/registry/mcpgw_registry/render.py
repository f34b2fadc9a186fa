"""A tools document as YAML text: what GET /tools returns for imported servers and what they compile from."""

from __future__ import annotations

import msgspec

from mcpgw.contracts.tools import SecurityRef, ToolsDocument
from mcpgw_registry.yaml_emit import dump

HEADER = (
    "# Generated from an OpenAPI document by mcpgw. Tools are keyed by `source` (method + path):\n"
    "# edits of name, description, disabled and argument defaults survive a re-import, and an\n"
    "# argument left out of inputSchema stays hidden (always sent with its default).\n"
)

_decode = msgspec.json.Decoder(ToolsDocument).decode


def render(doc: ToolsDocument, header: str = HEADER) -> str:
    # omit_defaults leaves a default out only when it is the very object of the field's default; a
    # JSON round trip yields those for Literal fields, so equal documents render the same text.
    canonical = _decode(msgspec.json.encode(doc))
    return header + dump(msgspec.to_builtins(canonical))


MASK = "******"


def _ref(ref: SecurityRef | None) -> SecurityRef | None:
    if ref is None or not ref.credential:
        return ref
    return msgspec.structs.replace(ref, credential=MASK)


def masked(doc: ToolsDocument) -> ToolsDocument:
    """`doc` as callers may see it: every backend credential replaced by `******`.

    The same fields and mask as reads of `GET .../tools`, so a masked document can be PUT back.
    """
    server = doc.server
    server = msgspec.structs.replace(
        server,
        security_schemes=[s if not s.default_credential else msgspec.structs.replace(s, default_credential=MASK)
                          for s in server.security_schemes],
        default_upstream_security=_ref(server.default_upstream_security),
        default_downstream_security=_ref(server.default_downstream_security),
    )
    tools = [msgspec.structs.replace(t, security=_ref(t.security), request_template=msgspec.structs.replace(
        t.request_template, security=_ref(t.request_template.security))) for t in doc.tools]
    return msgspec.structs.replace(doc, server=server, tools=tools)
