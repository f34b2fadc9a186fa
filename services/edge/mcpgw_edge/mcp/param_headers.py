"""MCP 2026-07-28 (SEP-2243): `Mcp-Param-<Name>` headers checked against a `tools/call`'s arguments.

A tool's inputSchema may mark a primitive property `"x-mcp-header": "<Name>"`; a client then
mirrors the argument into the header `Mcp-Param-<Name>` so that intermediaries can route on it
without reading the body. What they route on must be what runs, so the edge refuses (400,
-32020 HeaderMismatch) a call whose mirror disagrees with its body:

- an argument present (and not null) without its header;
- a header whose value, after the `=?base64?…?=` sentinel is decoded, differs from the argument
  (integers compare numerically, so `42.0` matches 42; booleans are `true` / `false`);
- a header with a character a header value may not carry (only visible ASCII, space and tab);
- a header for an argument that is absent, null, or an object or array (nothing to mirror).

Only properties reached from the schema root through `properties` alone count (the registry
refuses annotations anywhere else). `Mcp-Param-*` headers no property declares are ignored. The
headers come through the seam as one value per name (the first), so a repeated header is not seen
as such here.
"""

from __future__ import annotations

import base64
import re
from typing import Any, NamedTuple, Protocol

import msgspec

from mcpgw.json_schema import HEADER_TYPES, X_MCP_HEADER
from mcpgw_edge.mcp.modern import HEADER_MISMATCH, Refusal, decode_header_value
from mcpgw_edge.servers import ServerEntry

HEADER_PREFIX = "Mcp-Param-"
_KEY_PREFIX = HEADER_PREFIX.lower()
_MARK = X_MCP_HEADER.encode()
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# What a header value may hold (RFC 9110 field-value: VCHAR, SP, HTAB).
_VALUE = re.compile(r"[\t\x20-\x7e]*")
# Integer header values compared as numbers: 42, -7, 042, 42.0.
_INTEGER = re.compile(r"-?[0-9]+(?:\.0+)?")
_SENTINEL = re.compile(r"=\?base64\?(.*)\?=", re.S)
_QUOTED = 60  # characters of a value quoted in an error message


class ParamHeader(NamedTuple):
    """One mirrored argument: where it is in the arguments, its header's name, its schema type."""

    path: tuple[str, ...]
    name: str  # the part after `Mcp-Param-`, as declared
    type: str  # string | integer | boolean


class HeaderSource(Protocol):
    """Request headers by lowercase name (the seam's `Headers`, or a dict)."""

    def get(self, name: str, /) -> str | None: ...


class _Listed(msgspec.Struct):
    input_schema: Any = msgspec.field(default=None, name="inputSchema")


class _Call(msgspec.Struct):
    name: Any = None
    arguments: msgspec.Raw = msgspec.Raw(b"{}")


_listed = msgspec.json.Decoder(_Listed)
_call = msgspec.json.Decoder(_Call)


def extract(entry: bytes) -> tuple[ParamHeader, ...]:
    """The `x-mcp-header` properties of one `tools/list` entry (the tool object's JSON), in order.

    Only primitive properties reached through `properties` alone, with a header name that is an
    HTTP token and unique case-insensitively (the first one wins; the registry refuses others).
    """
    if _MARK not in entry:
        return ()
    try:
        schema = _listed.decode(entry).input_schema
    except msgspec.DecodeError:
        return ()
    found: list[ParamHeader] = []
    seen: set[str] = set()
    # Depth first in declaration order: reversed pushes, so the first property pops first.
    stack: list[tuple[tuple[str, ...], Any]] = [((), schema)]
    while stack:
        path, node = stack.pop()
        if not isinstance(node, dict):
            continue
        name = node.get(X_MCP_HEADER)
        kind = node.get("type")
        if (path and isinstance(name, str) and _TOKEN.fullmatch(name) and isinstance(kind, str) and kind in HEADER_TYPES
                and name.lower() not in seen):
            seen.add(name.lower())
            found.append(ParamHeader(path, name, kind))
        props = node.get("properties")
        if isinstance(props, dict):
            stack.extend(((*path, key), sub) for key, sub in reversed(props.items()))
    return tuple(found)


def param_headers(entry: ServerEntry) -> dict[str, tuple[ParamHeader, ...]]:
    """Tool name -> its mirrored arguments, for the tools that have any; built once per snapshot."""
    table = entry.param_headers
    if table is None:
        table = {}
        for listed in entry.listing:
            found = extract(bytes(listed.entry))
            if found:
                table[listed.name] = found
        entry.param_headers = table
    return table


def check_param_headers(entry: ServerEntry, tool_name: str, arguments: bytes, headers: HeaderSource) -> None:
    """Refuse (`Refusal` 400 / -32020) a call of `tool_name` whose `Mcp-Param-*` headers disagree
    with its `arguments` (the JSON object as sent); return when they agree or nothing is mirrored."""
    specs = param_headers(entry).get(tool_name)
    if not specs:
        return
    try:
        values = msgspec.json.decode(arguments)
    except msgspec.DecodeError:
        return  # not this check's to report: the call itself refuses malformed arguments
    for spec in specs:
        _check_one(spec, _at(values, spec.path), headers.get(_KEY_PREFIX + spec.name.lower()))


def check_call(entry: ServerEntry, params: msgspec.Raw | msgspec.UnsetType, headers: HeaderSource,
               allowed: frozenset[str] | None = None) -> None:
    """`check_param_headers` for a `tools/call`'s raw `params` (name and arguments read from it).

    Costs nothing for a server whose tools mirror no argument. A tool the consumer may not call
    (`allowed`) or a malformed `params` is left to the call itself to refuse.
    """
    table = param_headers(entry)
    if not table or params is msgspec.UNSET:
        return
    try:
        call = _call.decode(params)
    except msgspec.DecodeError:
        return
    name = call.name
    if not isinstance(name, str) or name not in table or (allowed is not None and name not in allowed):
        return
    check_param_headers(entry, name, bytes(call.arguments), headers)


def _at(values: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` in the arguments, None when a step is missing or not an object."""
    node = values
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _refuse(message: str) -> Refusal:
    return Refusal(400, HEADER_MISMATCH, f"Header mismatch: {message}")


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTED else text[:_QUOTED] + "…"


def _check_one(spec: ParamHeader, value: Any, raw: str | None) -> None:
    header = HEADER_PREFIX + spec.name
    argument = ".".join(spec.path)
    if raw is not None:
        raw = raw.strip(" \t")  # optional whitespace around a field value is not part of it
        if not _VALUE.fullmatch(raw):
            raise _refuse(f"{header} header value contains characters not allowed in a header value "
                          "(send it base64-encoded: =?base64?…?=)")
    rendered = _render(value)
    if rendered is None:
        if raw is not None:
            what = "absent" if value is None else "not a string, integer or boolean"
            raise _refuse(f"{header} header is present but the {argument!r} argument is {what}")
        return
    if raw is None:
        raise _refuse(f"the {header} header is required: the {argument!r} argument is {_quote(value)}")
    decoded = _decode(raw)
    if not _matches(spec.type, value, rendered, decoded):
        raise _refuse(f"{header} header value {_quote(decoded)} does not match body value {_quote(value)}")


def _decode(raw: str) -> str:
    """`modern.decode_header_value`, refusing base64 that is not in its one canonical form too."""
    decoded = decode_header_value(raw)
    sentinel = _SENTINEL.fullmatch(raw)
    if sentinel is not None and base64.b64encode(decoded.encode()).decode("ascii") != sentinel.group(1):
        raise _refuse("malformed base64 header value")
    return decoded


def _render(value: Any) -> str | None:
    """The value the way a client writes it in the header, None when there is none to write."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than int -> str allows
            return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return None


def _matches(kind: str, value: Any, rendered: str, decoded: str) -> bool:
    if kind == "integer" and not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
        if _INTEGER.fullmatch(decoded) is None:
            return False
        try:
            return int(decoded.partition(".")[0]) == int(value)
        except ValueError:  # more digits than str -> int allows
            return False
    return decoded == rendered
