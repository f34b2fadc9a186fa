"""Template values as Higress's engine (gjson_template) sees them: JSON, and how each prints.

Higress renders with a fork of Go's text/template whose data is one JSON document addressed with
GJSON (github.com/higress-group/gjson_template). We hold that data as decoded Python values and
reproduce the engine's reading of them:

- a path that leads nowhere is *missing* (`MISSING`): it prints as nothing and is false;
- strings print as they are, numbers as their JSON text, `true`/`false`/`null` as those words,
  objects and arrays as compact JSON;
- the JSON text of a number is what Go wrote (arguments and config: Go's float formatting) or
  what the backend wrote (a response: `RawFloat` keeps its text, so `21.0` stays `21.0`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec


class TemplateRuntimeError(Exception):
    """A template failed on this data (Higress fails the call the same way)."""


class _Missing:
    """What a path to nothing yields (gjson's non-existent Result)."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "MISSING"

    def __str__(self) -> str:
        return ""


MISSING: Any = _Missing()


class Trusted(str):
    """A string from the operator's `config` (or already encoded): put into URLs as it is."""

    __slots__ = ()


class RawFloat(float):
    """A float that keeps the JSON text it was read from (a backend's `21.0` prints `21.0`)."""

    __slots__ = ("raw",)
    raw: str

    def __new__(cls, raw: str) -> RawFloat:
        self = super().__new__(cls, raw)
        self.raw = raw
        return self

    def __str__(self) -> str:
        return self.raw

    __repr__ = __str__


_response_decoder = msgspec.json.Decoder(float_hook=RawFloat)


def decode_response(body: bytes) -> Any:
    """A backend's JSON with each float's own text kept; raises msgspec.DecodeError when not JSON."""
    return _response_decoder.decode(body)


def go_float(value: float) -> str:
    """A float64 as Go's encoding/json writes it (shortest digits; exponent only outside 1e-6..1e21)."""
    if isinstance(value, RawFloat):
        return value.raw
    if math.isnan(value) or math.isinf(value):
        raise TemplateRuntimeError(f"json: unsupported value: {value}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    magnitude = abs(value)
    if 1e-6 <= magnitude < 1e21:
        text = format(Decimal(repr(value)), "f")
        return text[:-2] if text.endswith(".0") else text
    mantissa, _, exponent = repr(value).partition("e")
    sign = exponent[0]
    digits = exponent[1:].lstrip("0")
    if len(digits) < 2 and magnitude >= 1e21:  # Go keeps two exponent digits: 1e+21
        digits = digits.rjust(2, "0")
    return f"{mantissa.removesuffix('.0')}e{sign}{digits}"


def _escape_html_json(text: str) -> str:
    # Go's json.Marshal escapes these so JSON can sit inside HTML; Higress's data passes through it.
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _json_string(text: str) -> str:
    return msgspec.json.encode(str(text)).decode()


def go_json(value: Any, escape_html: bool = True) -> str:
    """`value` as Go's json.Marshal writes it: compact, keys in order, Go's number formatting."""
    out = _go_json(value)
    return _escape_html_json(out) if escape_html else out


def _go_json(value: Any) -> str:
    if value is None or value is MISSING:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_json_string(str(k))}:{_go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    raise TemplateRuntimeError(f"json: unsupported type {type(value).__name__}")


def go_pretty_json(value: Any, indent: str = "  ", depth: int = 0) -> str:
    """json.MarshalIndent(value, "", indent), as Sprig's toPrettyJson calls it."""
    pad, inner = indent * depth, indent * (depth + 1)
    if isinstance(value, Mapping) and value:
        items = [f"{inner}{_json_string(str(k))}: {go_pretty_json(v, indent, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list | tuple) and value:
        return "[\n" + ",\n".join(inner + go_pretty_json(v, indent, depth + 1) for v in value) + "\n" + pad + "]"
    return go_json(value)


def text(value: Any) -> str:
    """What `{{pipeline}}` prints for a value (gjson_template's printValue)."""
    if isinstance(value, str):
        return value  # a Trusted string stays Trusted for the URL encoder
    if value is MISSING:
        return ""
    return go_json(value)


def gjson_string(value: Any) -> str:
    """gjson's Result.String(): what `print`, comparisons and string builtins see."""
    if isinstance(value, str):
        return value
    if value is MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not isinstance(value, RawFloat):
        return go_float_f(value)
    if isinstance(value, RawFloat):
        raw = value.raw
        return raw if raw.lstrip("-").isdigit() else go_float_f(value)
    return go_json(value)


def go_float_f(value: float) -> str:
    """strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent."""
    text = format(Decimal(repr(float(value))), "f")
    return text[:-2] if text.endswith(".0") else text


def truth(value: Any) -> bool:
    """gjson_template's truth: missing, null, false, 0, "", [] and {} are false."""
    if value is MISSING or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | Mapping | list | tuple):
        return len(value) > 0
    return True


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def go_number(value: Any) -> Any:
    """How gjson hands a JSON number to a Go function: int when integral, else float64."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, RawFloat):
        return float(value)
    return value


def function_arg(value: Any) -> Any:
    """A value as a Sprig function receives it: missing is nil, numbers as gjson converts them."""
    if value is MISSING:
        return None
    if is_number(value):
        return go_number(value)
    return value


def function_result(value: Any) -> Any:
    """A Go function's result as gjson_template stores it: floats become their `%f` text."""
    if isinstance(value, float) and not isinstance(value, RawFloat):
        if math.isnan(value) or math.isinf(value):
            raise TemplateRuntimeError(f"function returned {value}")
        return RawFloat(f"{value:f}")
    return value
