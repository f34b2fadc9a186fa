"""The part of GJSON path syntax the translator runs (`{{gjson "users.#(age>=30)#.name"}}`).

Supported, with GJSON's meaning: keys (`a.b`), array indexes (`users.0`), escapes (`fav\\.movie`),
`*`/`?` wildcards in keys, `#` (the length), `#.key` (that key of every element), queries
`#(key op value)` (first match) and `#(key op value)#` (every match) with `==`, `=`, `!=`, `<`,
`<=`, `>`, `>=`, `%` and `!%` (wildcard match), `~true`/`~false`/`~null`/`~*` values, and the
modifiers `@reverse`, `@keys`, `@values` and `@this`. `check` refuses everything else (pipes
`|`, multipaths `[..]`/`{..}`, literals `!..`, other modifiers) at save time, so a path is never
read differently from Higress at call time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from mcpgw.gotemplate.values import MISSING, is_number

_MODIFIERS = ("@reverse", "@keys", "@values", "@this")
_OPS = ("==", "!=", "<=", ">=", "!%", "=", "<", ">", "%")


class PathRefused(Exception):
    """A GJSON path using syntax outside the supported part."""


def _split(path: str) -> list[str]:
    """Components separated by unescaped dots; queries `#(...)` are kept whole."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "\\" and i + 1 < len(path):
            cur.append(path[i:i + 2])
            i += 2
            continue
        if ch == '"' and depth:
            end = i + 1
            while end < len(path) and path[end] != '"':
                end += 2 if path[end] == "\\" else 1
            cur.append(path[i:end + 1])
            i = end + 1
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "." and depth == 0:
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        elif ch == "|" and depth == 0:
            raise PathRefused("the `|` path separator")
        cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(component: str) -> str:
    return re.sub(r"\\(.)", r"\1", component)


class _Query:
    __slots__ = ("all", "op", "path", "value")

    def __init__(self, path: str, op: str, value: str, every: bool) -> None:
        self.path, self.op, self.value, self.all = path, op, value, every


def _parse_query(component: str) -> _Query:
    every = component.endswith(")#")
    inner = component[2:-2] if every else component[2:-1]
    if not component.startswith("#(") or not (component.endswith(")") or every):
        raise PathRefused(f"the query {component!r}")
    split = None
    depth = 0
    for i, ch in enumerate(inner):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in "!=<>%":
            split = i
            break
    if split is None:
        return _Query(inner.strip(), "", "", every)
    key, rest = inner[:split].strip(), inner[split:]
    op = next(o for o in _OPS if rest.startswith(o))
    value = rest[len(op):].strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = _unescape(value[1:-1])
    if op == "==":
        op = "="
    if key:
        check(key)
    return _Query(key, op, value, every)


@lru_cache(maxsize=512)
def _compiled(path: str) -> tuple[tuple[str, Any], ...]:
    steps: list[tuple[str, Any]] = []
    for component in _split(path):
        if component.startswith("#("):
            steps.append(("query", _parse_query(component)))
        elif component == "#":
            steps.append(("count", None))
        elif component.startswith("@"):
            if component not in _MODIFIERS:
                raise PathRefused(f"the modifier {component.split(':')[0]!r}")
            steps.append(("modifier", component))
        elif component.startswith(("[", "{")):
            raise PathRefused("multipaths ([...] or {...})")
        elif component.startswith("!"):
            raise PathRefused("literals (!...)")
        elif component == "" and path:
            raise PathRefused("an empty path component")
        else:
            wild = re.search(r"(?<!\\)[*?]", component) is not None
            steps.append(("wild" if wild else "key", component if wild else _unescape(component)))
    return tuple(steps)


def check(path: str) -> None:
    """Raise PathRefused when the path uses syntax outside the supported part."""
    _compiled(path)


def _wild_match(text: str, pattern: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c[-1])
                    for c in re.findall(r"\\.|.", pattern, re.S))
    return re.fullmatch(regex, text, re.S) is not None


def _key(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        try:
            return value[key]
        except KeyError:
            return MISSING
    if isinstance(value, list) and key.isdigit():
        index = int(key)
        return value[index] if index < len(value) else MISSING
    return MISSING


def _truthish(value: Any, want: str) -> bool | None:
    if want == "*":
        return value is not MISSING
    if want == "null":  # a missing key is null to GJSON (its zero Result has type Null)
        return value is None or value is MISSING
    if isinstance(value, str):
        parsed = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}.get(value.lower())
        return None if parsed is None else parsed == (want == "true")
    if want == "true":
        return value is True or (is_number(value) and value != 0)
    if want == "false":
        return value in (None, MISSING, False) or (is_number(value) and value == 0)
    return None


def _matches(query: _Query, element: Any) -> bool:
    value = get(element, query.path) if query.path else element
    op, want = query.op, query.value
    if want.startswith("~"):
        ish = _truthish(value, want[1:])
        if ish is None:
            return False
        value, want = ish, "true"
    if value is MISSING:
        return False
    if not op:
        return True
    if isinstance(value, bool):
        expected = want == "true"
        return {"=": value == expected, "!=": value != expected,
                ">": value and want == "false", ">=": value,
                "<": not value and want == "true", "<=": not value}.get(op, False)
    if isinstance(value, str):
        if op in ("%", "!%"):
            return _wild_match(value, want) == (op == "%")
        return {"=": value == want, "!=": value != want, "<": value < want, "<=": value <= want,
                ">": value > want, ">=": value >= want}.get(op, False)
    if is_number(value):
        try:
            number = float(want)
        except ValueError:
            number = 0.0
        return bool({"=": value == number, "!=": value != number, "<": value < number, "<=": value <= number,
                     ">": value > number, ">=": value >= number}.get(op, False))
    return False


def _apply(value: Any, steps: tuple[tuple[str, Any], ...]) -> Any:
    for n, (kind, arg) in enumerate(steps):
        if value is MISSING:
            return MISSING
        if kind == "key":
            value = _key(value, arg)
        elif kind == "wild":
            if not isinstance(value, Mapping):
                return MISSING
            value = next((v for k, v in value.items() if _wild_match(str(k), arg)), MISSING)
        elif kind == "count":
            if not isinstance(value, list):
                return MISSING
            return len(value) if n == len(steps) - 1 else _map(value, steps[n + 1:])
        elif kind == "query":
            if not isinstance(value, list):
                return MISSING
            rest = steps[n + 1:]
            found = [e for e in value if _matches(arg, e)]
            if arg.all:
                return _map(found, rest)
            return _apply(found[0], rest) if found else MISSING
        else:
            value = _modifier(value, arg)
    return value


def _map(elements: list[Any], rest: tuple[tuple[str, Any], ...]) -> list[Any]:
    results = (_apply(e, rest) for e in elements)
    return [r for r in results if r is not MISSING]


def _modifier(value: Any, name: str) -> Any:
    if name == "@this":
        return value
    if name == "@reverse":
        if isinstance(value, list):
            return value[::-1]
        if isinstance(value, Mapping):
            return dict(reversed(list(value.items())))
        return value
    if not isinstance(value, Mapping):
        return MISSING if name == "@keys" else []
    return list(value.keys()) if name == "@keys" else list(value.values())


def get(value: Any, path: str) -> Any:
    """`value.Get(path)` for the supported part of GJSON paths."""
    if path == "":
        return MISSING
    return _apply(value, _compiled(path))
