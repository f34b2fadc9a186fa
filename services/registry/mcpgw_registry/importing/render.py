"""A tools document as YAML text: what GET /tools returns for imported servers and what they compile from."""

from __future__ import annotations

import msgspec

from mcpgw.contracts.tools import ToolsDocument
from mcpgw_registry.importing.yaml_emit import dump

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

