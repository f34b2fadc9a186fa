"""Go's fmt verbs as `printf` uses them, and strconv.Quote (`%q`, Sprig's `quote`).

`printf` receives what gjson_template hands it: nil, bool, int (a JSON number that is integral),
float64, string, or the JSON text of an array or object. Supported: flags `+ - # 0` and space,
width, precision, and the verbs v s d f F e E g G x X o b c q t %; `check_format` refuses any
other verb, `*` widths and `[n]` argument indexes at save time.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

_SPEC = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d*))?(.?)", re.S)
_VERBS = set("vsdfFeEgGxXobcqt%")


class FormatRefused(Exception):
    pass


def check_format(fmt: str) -> None:
    for m in _SPEC.finditer(fmt):
        verb = m.group(4)
        if verb == "*" or verb == "[" or (verb and verb not in _VERBS) or not verb:
            raise FormatRefused(f"the printf verb %{m.group(1)}{m.group(2) or ''}{verb}")


def _printable(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return ch == " " or not (cat.startswith(("C", "Z")))


def go_quote(text: str) -> str:
    """strconv.Quote: a double-quoted Go string literal."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif _printable(ch):
            out.append(ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                        "\t": "\\t", "\v": "\\v"}[ch])
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    return "string"


def _shortest_g(value: float, exp_limit: int) -> str:
    """%v of a float64: shortest digits, %e form when the exponent is < -4 or >= exp_limit."""
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    digits, exponent = Decimal(repr(value)).normalize().as_tuple()[1:]
    assert isinstance(exponent, int)
    e10 = len(digits) + exponent - 1
    if e10 < -4 or e10 >= exp_limit:
        mant = "".join(map(str, digits))
        mant = mant[0] + ("." + mant[1:] if len(mant) > 1 else "")
        return f"{'-' if value < 0 else ''}{mant}e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def _bad(verb: str, value: Any) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({_go_type(value)}={_plain(value)})"


def _plain(value: Any) -> str:
    """%v."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _shortest_g(value, 21)
    return str(value)


def _pad(text: str, flags: str, width: int | None, zero_ok: bool) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and zero_ok:
        sign = text[0] if text[:1] in "+- " else ""
        return sign + text[len(sign):].rjust(width - len(sign), "0")
    return text.rjust(width)


def _number(value: int, flags: str, base: int, upper: bool, precision: int | None) -> str:
    spec = {10: "d", 16: "X" if upper else "x", 8: "o", 2: "b"}[base]
    body = format(abs(value), spec)
    if precision is not None:
        body = body.rjust(precision, "0") if precision or value else ""
    if "#" in flags:
        body = {16: "0X" if upper else "0x", 8: "0", 2: "0b", 10: ""}[base] + body
    sign = "-" if value < 0 else "+" if "+" in flags else " " if " " in flags else ""
    return sign + body


def _one(verb: str, flags: str, width: int | None, precision: int | None, value: Any) -> str:
    zero_ok = True
    if (verb in "vs" and isinstance(value, str | None.__class__)) or (verb == "v" and isinstance(value, bool)):
        if verb == "s" and value is None:
            return _bad(verb, value)
        text = _plain(value)
        if precision is not None:
            text = text[:precision]
        zero_ok = False
    elif verb == "v" and isinstance(value, int):
        text = _number(value, flags, 10, False, precision)
    elif verb == "v" and isinstance(value, float):
        text = _shortest_g(value, 21)
        if "+" in flags and value >= 0:
            text = "+" + text
    elif verb == "t":
        if not isinstance(value, bool):
            return _bad(verb, value)
        text = "true" if value else "false"
    elif verb in "dxXob" and isinstance(value, int) and not isinstance(value, bool):
        base = {"d": 10, "x": 16, "X": 16, "o": 8, "b": 2}[verb]
        text = _number(value, flags, base, verb == "X", precision)
        zero_ok = precision is None
    elif verb in "xX" and isinstance(value, str):
        text = value.encode().hex()
        text = text.upper() if verb == "X" else text
    elif verb == "c" and isinstance(value, int) and not isinstance(value, bool):
        text = chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
    elif verb == "q" and isinstance(value, str):
        text = go_quote(value)
    elif verb in "fFeEgG" and isinstance(value, float):
        if verb in "gG" and precision is None:
            text = _shortest_g(value, 21)
        else:
            sign = "+" if "+" in flags else " " if " " in flags else ""
            text = format(value, f"{sign}.{6 if precision is None else precision}{verb.replace('F', 'f')}")
    else:
        return _bad(verb, value)
    return _pad(text, flags, width, zero_ok)


def sprintf(fmt: str, args: list[Any]) -> str:
    """fmt.Sprintf for the supported verbs (Go's `%!verb(type=value)` for a wrong type)."""
    out: list[str] = []
    pos = 0
    used = 0
    for m in _SPEC.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, precision, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if not verb:
            out.append("%!(NOVERB)")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_one(verb, flags, int(width) if width else None,
                        (int(precision) if precision else 0) if precision is not None else None, args[used]))
        used += 1
    out.append(fmt[pos:])
    if used < len(args):
        extra = ", ".join("<nil>" if a is None else f"{_go_type(a)}={_plain(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
