"""What translated templates call: field access, range, output, and gjson_template's builtins.

The translator writes Jinja that calls these (all named `_go_*` in the template's globals), so a
Go template's meaning lives here in plain Python, and the Jinja sandbox still guards anything an
operator writes in Jinja itself. Builtins follow gjson_template (Higress's engine) where it
renders; where it fails at run time (a piped value into `len`, `range` over a missing value) they
follow Go's text/template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote_plus

from mcpgw.gotemplate import gjson, sprig
from mcpgw.gotemplate.gofmt import sprintf
from mcpgw.gotemplate.gotime import GoTime
from mcpgw.gotemplate.values import (
    MISSING,
    RawFloat,
    TemplateRuntimeError,
    Trusted,
    function_arg,
    function_result,
    gjson_string,
    go_json,
    go_number,
    is_number,
    text,
    truth,
)

_GJSON_SPECIAL = re.compile(r"[.*?#@|\\!()\[\]{}]")


def field(value: Any, *keys: str) -> Any:
    """`.a.b` on a value (gjson's `Get("a.b")`: objects by key; anything else has no fields)."""
    for key in keys:
        if isinstance(value, Mapping):
            try:
                value = value[key]
            except KeyError:
                return MISSING
        else:
            return MISSING
    return value


def items(value: Any, variables: int) -> Iterator[tuple[Any, Any]]:
    """What `range` visits: (index or key, element)."""
    if isinstance(value, list | tuple):
        return iter(enumerate(value))
    if isinstance(value, Mapping):
        return iter(value.items())
    if value is MISSING or value is None:
        return iter(())  # gjson_template fails here; Go's text/template runs the else branch
    if is_number(value):
        if variables > 1:
            raise TemplateRuntimeError(f"can't use {text(value)} to iterate over more than one variable")
        count = int(value)
        return iter((i, i) for i in range(count))
    if isinstance(value, str):
        return _string_items(value)
    raise TemplateRuntimeError(f"range can't iterate over {text(value)}")


def _string_items(value: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for ch in value:  # Go ranges over runes, indexed by byte offset
        yield offset, ch
        offset += len(ch.encode())


def out(value: Any) -> str:
    return text(value)


def out_field(value: Any, *keys: str) -> str:
    return text(field(value, *keys))


def call(fn: Callable[..., Any], final: Any, *args: Any) -> Any:
    """A function call; `final` is the piped value (not passed when it is missing, as gjson_template)."""
    converted = [function_arg(a) for a in args]
    if final is not _NO_FINAL and final is not MISSING:
        converted.append(function_arg(final))
    try:
        result = fn(*converted)
        if isinstance(result, GoTime):  # gjson_template keeps a time.Time as its fmt.Sprint text
            return str(result)
        return function_result(result)
    except TemplateRuntimeError:
        raise
    except TypeError as exc:  # wrong number of arguments: Go fails the call the same way
        raise TemplateRuntimeError(f"wrong number of args: {exc}") from None


_NO_FINAL: Any = object()


def builtin_args(final: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*args, final) if final is not _NO_FINAL else args


def _len(final: Any, *args: Any) -> int:
    (value,) = _exactly(builtin_args(final, args), 1, "len")
    if isinstance(value, list | tuple | Mapping):
        return len(value)
    if isinstance(value, str):
        return len(value.encode())
    return 0


def _exactly(args: tuple[Any, ...], count: int, name: str) -> tuple[Any, ...]:
    if len(args) != count:
        raise TemplateRuntimeError(f"wrong number of args for {name}: want {count} got {len(args)}")
    return args


def _index(final: Any, *args: Any) -> Any:
    container, key = _exactly(builtin_args(final, args), 2, "index")
    if isinstance(container, list | tuple):
        if not is_number(key):
            raise TemplateRuntimeError("index of array must be integer")
        position = int(go_number(key))
        if position < 0 or position >= len(container):
            raise TemplateRuntimeError(f"array index out of range: {position}")
        return container[position]
    if isinstance(container, Mapping):
        name = gjson_string(key)
        if _GJSON_SPECIAL.search(name):  # gjson reads the key as a path
            try:
                return gjson.get(container, name)
            except gjson.PathRefused as exc:
                raise TemplateRuntimeError(f"index: unsupported GJSON path: {exc}") from None
        return field(container, name)
    raise TemplateRuntimeError(f"can't index {_kind(container)}")


def _kind(value: Any) -> str:
    if value is MISSING or value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if is_number(value):
        return "Number"
    return "String" if isinstance(value, str) else "JSON"


def _print(final: Any, *args: Any) -> str:
    return " ".join(gjson_string(a) for a in builtin_args(final, args))


def _println(final: Any, *args: Any) -> str:
    return _print(final, *args) + "\n"


def _printf(final: Any, *args: Any) -> str:
    fmt, *rest = builtin_args(final, args) or (None,)
    if not isinstance(fmt, str):
        raise TemplateRuntimeError("first argument to printf must be a format string")
    return sprintf(fmt, [_printf_arg(a) for a in rest])


def _printf_arg(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, list | tuple | Mapping):
        return go_json(value)  # gjson_template passes an array or object as its JSON text
    return go_number(value) if is_number(value) else value


def _html(final: Any, *args: Any) -> str:
    (value,) = _exactly(builtin_args(final, args), 1, "html")
    escaped = (gjson_string(value).replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;")
               .replace(">", "&gt;").replace('"', "&#34;").replace("\x00", "\ufffd"))
    return escaped


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def _js(final: Any, *args: Any) -> str:
    (value,) = _exactly(builtin_args(final, args), 1, "js")
    parts = []
    for ch in gjson_string(value):
        if ch in _JS:
            parts.append(_JS[ch])
        elif ord(ch) < 0x20:
            parts.append(f"\\u{ord(ch):04X}")
        else:
            parts.append(ch)
    return "".join(parts)


def _urlquery(final: Any, *args: Any) -> str:
    (value,) = _exactly(builtin_args(final, args), 1, "urlquery")
    # url.QueryEscape; the result is already encoded, so a URL template does not encode it again.
    return Trusted(quote_plus(gjson_string(value), safe=""))


def _not(final: Any, *args: Any) -> bool:
    (value,) = _exactly(builtin_args(final, args), 1, "not")
    return not truth(value)


def equal(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return bool(a == b)
    if (is_number(a) and isinstance(b, str)) or (isinstance(a, str) and is_number(b)):
        number, other = (a, b) if is_number(a) else (b, a)
        try:
            return bool(number == float(other))
        except ValueError:
            return False
    if type(a) is not type(b) and not (isinstance(a, str) and isinstance(b, str)):
        return False
    if isinstance(a, list | tuple | Mapping):
        return go_json(a) == go_json(b)
    return bool(a == b)


def _compare(name: str) -> Callable[..., bool]:
    def compare(final: Any, *args: Any) -> bool:
        a, b = _exactly(builtin_args(final, args), 2, name)
        if name == "eq":
            return equal(a, b)
        if name == "ne":  # gjson_template compares the JSON texts: a number never equals a string
            return not equal(a, b) or is_number(a) != is_number(b)
        if is_number(a) and is_number(b):
            x: Any = a
            y: Any = b
        else:
            x, y = gjson_string(a), gjson_string(b)
        return bool({"lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y}[name])
    return compare


def _gjson(final: Any, dot: Any, *args: Any) -> Any:
    (path,) = _exactly(builtin_args(final, args), 1, "gjson")
    if not isinstance(path, str):
        raise TemplateRuntimeError("gjson requires a string path argument")
    try:
        return gjson.get(dot, path)
    except gjson.PathRefused as exc:
        raise TemplateRuntimeError(f"gjson: unsupported path: {exc}") from None


BUILTINS: dict[str, Callable[..., Any]] = {
    "len": _len, "index": _index, "print": _print, "println": _println, "printf": _printf,
    "html": _html, "js": _js, "urlquery": _urlquery, "not": _not, "gjson": _gjson,
    **{name: _compare(name) for name in ("eq", "ne", "lt", "le", "gt", "ge")},
}

GLOBALS: dict[str, Any] = {
    "_go_field": field,
    "_go_items": items,
    "_go_out": out,
    "_go_out_field": out_field,
    "_go_truth": truth,
    "_go_call": call,
    "_go_nofinal": _NO_FINAL,
    "_go_missing": MISSING,
    "_go_lit": Trusted,  # template text: the operator's own, never encoded in a URL
    "_go_rawfloat": RawFloat,
    **{f"_go_b_{name}": fn for name, fn in BUILTINS.items()},
    **{f"_go_s_{name}": fn for name, fn in sprig.FUNCTIONS.items()},
}
