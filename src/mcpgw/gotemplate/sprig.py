"""The Sprig functions the translator runs, each as Sprig v3 defines it.

Arguments arrive as gjson_template converts them (missing is nil, integral numbers are ints), with
one deliberate difference: Higress hands an array or object to a Sprig function as its JSON text,
so `toJson` quotes it (higress#2751) and `join`/`first` see one string; here they receive the
array or object itself, as Go's text/template would. A function not listed here is refused when
the tool is saved.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from mcpgw.gotemplate import gotime
from mcpgw.gotemplate.gofmt import _plain, go_quote
from mcpgw.gotemplate.values import TemplateRuntimeError, go_json, go_pretty_json

_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"


def _s(value: Any, name: str) -> str:
    """A `string` parameter: Go refuses any other type at the call."""
    if not isinstance(value, str):
        raise TemplateRuntimeError(f"{name}: wrong type for value; expected string; got {_type(value)}")
    return value


def _i(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TemplateRuntimeError(f"{name}: wrong type for value; expected int; got {_type(value)}")
    return value


def _type(value: Any) -> str:
    if value is None:
        return "<nil>"
    return {bool: "bool", int: "int", float: "float64", str: "string", list: "[]interface {}",
            dict: "map[string]interface {}"}.get(type(value), type(value).__name__)


def strval(value: Any) -> str:
    """fmt.Sprintf("%v", value)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "[" + " ".join(strval(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{strval(value[k])}" for k in sorted(value)) + "]"
    return _plain(value) if not isinstance(value, gotime.GoTime) else str(value)


def _go_parse_int(text: str) -> int:
    """strconv.ParseInt(s, 0, 64) after cast's trimming of a zero decimal part (`"2.0"`)."""
    text = re.sub(r"\.0*$", "", text)
    m = re.fullmatch(r"([+-]?)(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9_]*|0)", text)
    if not m:
        raise ValueError(text)
    sign, digits = m.groups()
    digits = digits.replace("_", "")
    lower = digits.lower()
    if lower.startswith("0x"):
        value = int(lower[2:], 16)
    elif lower.startswith("0b"):
        value = int(lower[2:], 2)
    elif lower.startswith("0o"):
        value = int(lower[2:] or "0", 8)
    elif len(lower) > 1 and lower.startswith("0"):
        value = int(lower[1:], 8)
    else:
        value = int(lower)
    return -value if sign == "-" else value


def to_int(value: Any) -> int:
    """cast.ToInt64 as Sprig's toInt64 calls it: what cannot convert is 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        try:
            return _go_parse_int(value)
        except ValueError:
            return 0
    return 0


def to_float(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) == 0
    return False


def _default(fallback: Any, *given: Any) -> Any:
    return fallback if not given or empty(given[0]) else given[0]


def _ternary(yes: Any, no: Any, cond: Any) -> Any:
    if not isinstance(cond, bool):
        raise TemplateRuntimeError(f"ternary: wrong type for value; expected bool; got {_type(cond)}")
    return yes if cond else no


def _strslice(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [strval(v) for v in value if v is not None]
    return [strval(value)]


def _list_end(value: Any, name: str, last: bool) -> Any:
    if not isinstance(value, list | tuple):
        raise TemplateRuntimeError(f"{name}: Cannot find {name} on type {_type(value)}")
    return (value[-1] if last else value[0]) if value else None


def _go_div(a: int, b: int, name: str, mod: bool) -> int:
    if b == 0:
        raise TemplateRuntimeError(f"{name}: runtime error: integer divide by zero")
    quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # Go truncates toward zero
    return a - b * quotient if mod else quotient


def _decimal(value: Any) -> Decimal:
    return Decimal(repr(to_float(value)))


def _title(text: str) -> str:
    """strings.Title: upper-case the first letter of each word (words split on non-letters/digits)."""
    out, previous = [], " "
    for ch in text:
        is_sep = not (ch.isalnum() or ch == "_")
        out.append(ch.upper() if (not is_sep and (previous.isspace() or not (previous.isalnum() or previous == "_")))
                   else ch)
        previous = ch
    return "".join(out)


def _byte_slice(text: str, start: int | None, end: int | None) -> str:
    return text.encode()[start:end].decode(errors="replace")


def _substr(start: Any, end: Any, text: Any) -> str:
    s, a, b = _s(text, "substr"), _i(start, "substr"), _i(end, "substr")
    size = len(s.encode())
    if a < 0:
        return _byte_slice(s, None, b)
    if b < 0 or b > size:
        return _byte_slice(s, a, None)
    return _byte_slice(s, a, b)


def _trunc(count: Any, text: Any) -> str:
    s, c = _s(text, "trunc"), _i(count, "trunc")
    size = len(s.encode())
    if c < 0 and size + c > 0:
        return _byte_slice(s, size + c, None)
    if c >= 0 and size > c:
        return _byte_slice(s, None, c)
    return s


def _b64dec(text: Any) -> str:
    s = _s(text, "b64dec")
    try:
        return base64.b64decode(s.encode(), validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        bad = next((i for i, ch in enumerate(s) if ch not in
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="), len(s) - len(s) % 4)
        return f"illegal base64 data at input byte {bad}"


def _round(value: Any, places: Any, *round_on: Any) -> float:
    pivot = to_float(round_on[0]) if round_on else 0.5
    power = math.pow(10, to_float(places))
    digit = power * to_float(value)
    fraction = math.modf(digit)[0]
    return (math.ceil(digit) if fraction >= pivot else math.floor(digit)) / power


def _to_json(value: Any) -> str:
    return go_json(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # strings
    "upper": lambda s: _s(s, "upper").upper(),
    "lower": lambda s: _s(s, "lower").lower(),
    "title": lambda s: _title(_s(s, "title")),
    "trim": lambda s: _s(s, "trim").strip(_GO_SPACE),
    "trimAll": lambda cut, s: _s(s, "trimAll").strip(_s(cut, "trimAll")),
    "trimPrefix": lambda p, s: _s(s, "trimPrefix").removeprefix(_s(p, "trimPrefix")),
    "trimSuffix": lambda p, s: _s(s, "trimSuffix").removesuffix(_s(p, "trimSuffix")),
    "replace": lambda old, new, s: _s(s, "replace").replace(_s(old, "replace"), _s(new, "replace")),
    "contains": lambda sub, s: _s(sub, "contains") in _s(s, "contains"),
    "hasPrefix": lambda p, s: _s(s, "hasPrefix").startswith(_s(p, "hasPrefix")),
    "hasSuffix": lambda p, s: _s(s, "hasSuffix").endswith(_s(p, "hasSuffix")),
    "repeat": lambda n, s: _s(s, "repeat") * max(_i(n, "repeat"), 0),
    "substr": _substr,
    "trunc": _trunc,
    "nospace": lambda s: "".join(ch for ch in _s(s, "nospace") if ch not in _GO_SPACE),
    "quote": lambda *v: " ".join(go_quote(strval(x)) for x in v if x is not None),
    "squote": lambda *v: " ".join(f"'{strval(x)}'" for x in v if x is not None),
    "cat": lambda *v: " ".join(strval(x) for x in v if x is not None),
    "join": lambda sep, v: _s(sep, "join").join(_strslice(v)),
    "first": lambda v: _list_end(v, "first", False),
    "last": lambda v: _list_end(v, "last", True),
    # defaults and flow
    "default": _default,
    "empty": empty,
    "coalesce": lambda *v: next((x for x in v if not empty(x)), None),
    "ternary": _ternary,
    # conversion and encoding
    "toString": strval,
    "toJson": _to_json,
    "toRawJson": lambda v: go_json(v, escape_html=False),
    "toPrettyJson": go_pretty_json,
    "int": to_int,
    "int64": to_int,
    "float64": to_float,
    "atoi": lambda s: to_int(s) if re.fullmatch(r"[+-]?\d+", _s(s, "atoi")) else 0,
    "b64enc": lambda s: base64.b64encode(_s(s, "b64enc").encode()).decode(),
    "b64dec": _b64dec,
    "sha1sum": lambda s: hashlib.sha1(_s(s, "sha1sum").encode()).hexdigest(),
    "sha256sum": lambda s: hashlib.sha256(_s(s, "sha256sum").encode()).hexdigest(),
    # math: integer functions go through int64, the `f` ones through float64
    "add": lambda *v: sum(to_int(x) for x in v),
    "add1": lambda v: to_int(v) + 1,
    "sub": lambda a, b: to_int(a) - to_int(b),
    "mul": lambda a, *v: math.prod([to_int(a), *(to_int(x) for x in v)]),
    "div": lambda a, b: _go_div(to_int(a), to_int(b), "div", mod=False),
    "mod": lambda a, b: _go_div(to_int(a), to_int(b), "mod", mod=True),
    "max": lambda a, *v: max([to_int(a), *(to_int(x) for x in v)]),
    "min": lambda a, *v: min([to_int(a), *(to_int(x) for x in v)]),
    "addf": lambda *v: float(sum((_decimal(x) for x in v), Decimal(0))),
    "subf": lambda a, *v: float(_decimal(a) - sum((_decimal(x) for x in v), Decimal(0))),
    "mulf": lambda a, *v: float(math.prod([_decimal(a), *(_decimal(x) for x in v)])),
    "divf": lambda a, *v: float(_divf(a, v)),
    "floor": lambda v: float(math.floor(to_float(v))),
    "ceil": lambda v: float(math.ceil(to_float(v))),
    "round": _round,
    # time and identity
    "now": gotime.now,
    "date": lambda layout, t: gotime.date(_s(layout, "date"), t),
    "dateInZone": lambda layout, t, zone: gotime.date_in_zone(_s(layout, "dateInZone"), t, _s(zone, "dateInZone")),
    "unixEpoch": gotime.unix_epoch,
    "uuidv4": lambda: str(uuid.uuid4()),
}

def _as_go_text(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A Sprig function declared to return interface{}: gjson_template turns its result into the text
    fmt.Sprint gives (an array or object: the JSON text it was handed), so `default false .x`
    yields the string "false" and `toJson (default 0 .n)` quotes it, as in Higress."""
    def text_result(*args: Any) -> str:
        value = fn(*args)
        if isinstance(value, list | tuple | Mapping):
            return go_json(value)
        return strval(value)
    return text_result


for _name in ("default", "coalesce", "ternary", "first", "last"):
    FUNCTIONS[_name] = _as_go_text(FUNCTIONS[_name])

# Functions whose result changes from one call to the next: such a template is never cached.
VOLATILE = frozenset({"now", "uuidv4", "date", "dateInZone", "unixEpoch"})


def _divf(a: Any, rest: tuple[Any, ...]) -> Decimal:
    result = _decimal(a)
    for x in rest:
        divisor = _decimal(x)
        if divisor == 0:
            raise TemplateRuntimeError("divf: division by zero")
        result /= divisor
    return result
