"""Bytes -> the document tree, refusing what is too big to import or not an API description."""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec
import yaml

from mcpgw import untrusted
from mcpgw.contracts.errors import ErrorCode, McpgwError, invalid

Version = Literal["2.0", "3.0", "3.1"]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """Safe YAML without timestamps: a `default: 2020-01-01` must stay the text the author wrote,
    or the generated tools would carry date objects that JSON cannot hold."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}

_VERSION = re.compile(r"^\s*(\d+)\.(\d+)")


def load(raw: bytes | str, max_bytes: int) -> tuple[dict[str, Any], Version]:
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise McpgwError(ErrorCode.PAYLOAD_TOO_LARGE,
                         f"document: is {len(data)} bytes, more than the limit of {max_bytes}")
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise invalid("document", "is empty")
    tree: Any = None
    if data.lstrip()[:1] == b"{":
        try:
            untrusted.check_json(data)
            tree = msgspec.json.decode(data)
        except untrusted.TooDeep as exc:
            raise invalid("document", str(exc)) from None
        except msgspec.DecodeError:
            tree = None  # JSON-looking YAML (flow style) still parses below
    if tree is None:
        tree = _yaml(data, max_bytes)
    if not isinstance(tree, dict):
        raise invalid("document", "must be a mapping (an OpenAPI or Swagger object)")
    return tree, _version(tree)


def _yaml(data: bytes, max_bytes: int) -> Any:
    try:
        tree = untrusted.load_yaml(data, _Loader)  # a safe loader subclass
    except untrusted.TooDeep as exc:
        raise invalid("document", str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise invalid("document", f"is neither JSON nor YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise invalid("document", f"is neither JSON nor YAML: {exc}") from None
    _check_expansion(tree, max_bytes)
    return tree


def _check_expansion(tree: Any, max_bytes: int) -> None:
    """YAML aliases let a small text stand for a huge tree ("billion laughs"); every later pass
    walks the expanded tree, so it is bounded here, and its depth with it. A document of n bytes
    cannot honestly hold more than about n/2 nodes."""
    budget = max(max_bytes // 2, 10_000)
    try:
        untrusted.check_tree(tree, budget)
    except untrusted.TooLarge:
        raise invalid("document", "expands to too many nodes (YAML aliases)") from None
    except untrusted.TooDeep as exc:
        raise invalid("document", str(exc)) from None


def _version(tree: dict[str, Any]) -> Version:
    if "openapi" in tree:
        m = _VERSION.match(str(tree["openapi"]))
        if m and m.group(1) == "3":
            return "3.1" if int(m.group(2)) >= 1 else "3.0"
        raise invalid("document.openapi", f"version {tree['openapi']!r} is not supported (3.0 or 3.1)")
    if "swagger" in tree:
        if str(tree["swagger"]).strip() in ("2.0", "2"):
            return "2.0"
        raise invalid("document.swagger", f"version {tree['swagger']!r} is not supported (2.0)")
    raise invalid("document", "is not an OpenAPI 3.x or Swagger 2.0 document (no `openapi` or `swagger` field)")
