"""Client arguments -> the argument map templates and positions see (Higress §1.5 step 1).

Only declared arguments survive, defaults fill gaps, and the loose values models tend to send
("true", 3.0, "42") are coerced to the declared type. A value that still does not fit, or a
missing required argument, is a tool error the model can correct, not a protocol error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from mcpgw.contracts import ToolArg, ToolSpec, invalid
from mcpgw.json_schema import ARG_TYPES
from mcpgw_toolexec.failures import ToolFailure

_INT_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")
_decode_any = msgspec.json.Decoder().decode


@dataclass(frozen=True, slots=True)
class ArgDecl:
    """One declared argument. `type` is None when the schema does not pin a single known type."""

    name: str
    type: str | None = None
    required: bool = False
    default: Any = msgspec.UNSET
    enum: tuple[Any, ...] | None = None
    position: str | None = None
    # The parameter map of imported tools (see `ToolArg`): name on the wire, serialisation.
    wire: str | None = None
    style: str | None = None
    explode: bool | None = None
    binary: bool = False
    nullable: bool = False


def declarations(spec: ToolSpec) -> tuple[ArgDecl, ...]:
    """The tool's arguments: its `args`, or the properties of its explicit `input_schema`.

    With both, the schema (what clients see) decides types, defaults and what is required, and
    the args place each property on the wire: that is how imported tools are written.
    """
    schema = spec.input_schema or {}
    properties = schema.get("properties")
    if spec.args and not isinstance(properties, Mapping):
        return tuple(_from_arg(arg) for arg in spec.args)
    if not isinstance(properties, Mapping):
        return ()
    placed = {arg.name: arg for arg in spec.args}
    required = schema.get("required")
    required_names = set(required) if isinstance(required, list) else set()
    decls: list[ArgDecl] = []
    for name, prop in properties.items():
        prop = prop if isinstance(prop, Mapping) else {}
        kind, nullable = _schema_type(prop)
        enum = prop.get("enum")
        arg = placed.get(str(name))
        decls.append(ArgDecl(
            name=str(name),
            type=kind,
            required=name in required_names,
            default=prop.get("default", msgspec.UNSET),
            enum=tuple(enum) if isinstance(enum, list) else None,
            position=arg.position if arg is not None else None,
            wire=arg.wire_name if arg is not None else None,
            style=arg.style if arg is not None else None,
            explode=arg.explode if arg is not None else None,
            binary=arg is not None and arg.format == "binary",
            nullable=nullable,
        ))
    decls.extend(_from_arg(arg) for arg in spec.args if arg.name not in properties)
    return tuple(decls)


def _from_arg(arg: ToolArg) -> ArgDecl:
    return ArgDecl(
        name=arg.name,
        type=arg.type,
        required=arg.required,
        default=arg.default,
        enum=tuple(arg.enum) if arg.enum is not None else None,
        position=arg.position,
        wire=arg.wire_name,
        style=arg.style,
        explode=arg.explode,
        binary=arg.format == "binary",
    )


def _schema_type(prop: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(the one known type, whether null is allowed) of a property schema."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        nullable = len(kinds) < len(kind)
        single = kinds[0] if len(kinds) == 1 else None
        return (single if single in ARG_TYPES else None), nullable
    any_of = prop.get("anyOf")
    nullable = isinstance(any_of, list) and {"type": "null"} in any_of
    return (kind if isinstance(kind, str) and kind in ARG_TYPES else None), nullable


def decode_arguments(raw: msgspec.Raw | bytes) -> dict[str, Any]:
    """The client's `arguments`; anything but a JSON object is a malformed request."""
    try:
        value = _decode_any(raw)
    except msgspec.DecodeError:
        if not bytes(raw).strip():  # nothing at all: no arguments
            return {}
        raise invalid("arguments", "must be an object") from None
    if value is None:  # a client that sends `"arguments": null` means "no arguments"
        return {}
    if not isinstance(value, dict):
        raise invalid("arguments", "must be an object")
    return value


def prepare(decls: tuple[ArgDecl, ...], given: Mapping[str, Any]) -> dict[str, Any]:
    """Keep declared arguments, apply defaults, coerce, and check required ones and types."""
    args: dict[str, Any] = {}
    for decl in decls:
        value = given.get(decl.name)
        if value is None and decl.default is not msgspec.UNSET:
            value = decl.default
        if value is None:
            if decl.required:
                raise ToolFailure(f"missing required argument: {decl.name}")
            if decl.name in given:
                args[decl.name] = None
            continue
        value = coerce(decl.type, value)
        _check(decl, value)
        args[decl.name] = value
    return args


def coerce(kind: str | None, value: Any) -> Any:
    """Higress's lenient coercions; anything that does not convert cleanly is left as it came."""
    if kind == "boolean" and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    elif kind == "integer":
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            if _INT_TEXT.match(value):
                return int(value)
            number = _float(value)
            if number is not None and number.is_integer():
                return int(number)
    elif kind == "number" and isinstance(value, str):
        if _INT_TEXT.match(value):
            return int(value)  # keeps "5" as 5, not 5.0, when it is rendered into a URL again
        number = _float(value)
        if number is not None:
            return number
    return value


def _float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_EXPECTED = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
}


def _check(decl: ArgDecl, value: Any) -> None:
    ok = True
    if decl.type == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif decl.type == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif decl.type == "boolean":
        ok = isinstance(value, bool)
    elif decl.type == "array":
        ok = isinstance(value, list)
    elif decl.type == "object":
        ok = isinstance(value, dict)
    # "string" stays lenient as in Higress: a number given for a string renders as its JSON text.
    if not ok:
        raise ToolFailure(f"argument {decl.name}: expected {_EXPECTED[decl.type or '']}")
    if decl.enum is not None and value not in decl.enum:
        allowed = ", ".join(msgspec.json.encode(v).decode() for v in decl.enum[:20])
        raise ToolFailure(f"argument {decl.name}: must be one of {allowed}")
