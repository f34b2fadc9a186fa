"""A tools document as YAML text: what GET /tools returns for imported servers and what they compile from."""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

from mcpgw.contracts.tools import ToolsDocument

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

HEADER = (
    "# Generated from an OpenAPI document by mcpgw. Tools are keyed by `source` (method + path):\n"
    "# edits of name, description, disabled and argument defaults survive a re-import, and an\n"
    "# argument left out of inputSchema stays hidden (always sent with its default).\n"
)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    pass


def _str(dumper: Any, value: str) -> Any:
    # Multi-line descriptions read far better as blocks than as one quoted line full of \n.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


_decode = msgspec.json.Decoder(ToolsDocument).decode


def render(doc: ToolsDocument, header: str = HEADER) -> str:
    # omit_defaults leaves a default out only when it is the very object of the field's default; a
    # JSON round trip yields those for Literal fields, so equal documents render the same text.
    canonical = _decode(msgspec.json.encode(doc))
    body = yaml.dump(msgspec.to_builtins(canonical), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=120)
    return header + body
