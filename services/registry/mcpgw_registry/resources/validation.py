"""Request bodies and their checks: the rules every resource applies, and errors that name the field.

msgspec reports `Expected `str`, got `int` - at `$.match.path.type``; callers of the admin API
want `match.path.type: expected `str`, got `int``. Every message starts with the field's path,
written the way the caller wrote it (camelCase, `[i]` for list items).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from mcpgw import untrusted
from mcpgw.contracts.errors import McpgwError, invalid

T = TypeVar("T")

_AT = re.compile(r"^(?P<msg>.*?) - at `\$(?P<path>[^`]*)`$", re.S)
_KEY_AT = re.compile(r"^(?P<msg>.*?) - at `key` in `\$(?P<path>[^`]*)`$", re.S)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>.+)`$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<field>.+)`$", re.S)

# Control characters: in no name or text the registry stores (CR/LF would split a header).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A name a client puts a key, token or credential under: an HTTP header name (an RFC 9110 token)
# or a query parameter name (unreserved URL characters), 1 to 128 characters either way.
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
QUERY_NAME = re.compile(r"^[A-Za-z0-9_.~-]{1,128}$")
# What a read shows in place of a write-only value (a secret); a write that sends it back keeps
# the value stored at that place.
MASK = "******"


class Body(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True, rename="camel"):
    """The base of every request body: camelCase on the wire, and a misspelt field is a 400 naming
    it rather than silently ignored."""


def join(base: str, part: str) -> str:
    """`join("a", "b[0]") == "a.b[0]"`, `join("a", "[0]") == "a[0]"`, `join("", "b") == "b"`."""
    if not base:
        return part
    if not part:
        return base
    if part.startswith("["):
        return base + part
    return f"{base}.{part}"


def _lower_first(text: str) -> str:
    """`Expected ...` -> `expected ...`, but an acronym (`JSON is malformed`) stays as it is."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def field_error(exc: msgspec.ValidationError, root: str = "", whole: str = "body") -> McpgwError:
    """Rewrite a msgspec validation error; `root` prefixes the path, `whole` names the document itself."""
    text = str(exc)
    path = ""
    key_problem = False
    if m := _KEY_AT.match(text):
        text, path, key_problem = m.group("msg"), m.group("path"), True
    elif m := _AT.match(text):
        text, path = m.group("msg"), m.group("path")
    path = path.lstrip(".")
    if m := _UNKNOWN.match(text):
        return invalid(join(join(root, path), m.group("field")), "unknown field")
    if m := _MISSING.match(text):
        return invalid(join(join(root, path), m.group("field")), "is required")
    problem = _lower_first(text)
    if key_problem:
        problem = f"every key {problem.replace('expected', 'must be', 1)}"
    return invalid(join(root, path) or root or whole, problem)


def decode_json(body: bytes, kind: type[T], root: str = "") -> T:
    """Decode a JSON request body into `kind`; malformed JSON or a wrong shape names the field."""
    if not body.strip():
        raise invalid(root or "body", "a JSON object is required")
    try:
        untrusted.check_json(body)
        return msgspec.json.decode(body, type=kind)
    except untrusted.TooDeep as exc:
        raise invalid(root or "body", str(exc)) from None
    except msgspec.ValidationError as exc:
        raise field_error(exc, root) from None
    except msgspec.DecodeError as exc:
        raise invalid(root or "body", f"malformed JSON: {_lower_first(str(exc))}") from None


def convert(obj: Any, kind: type[T], root: str = "", whole: str = "body") -> T:
    try:
        return msgspec.convert(obj, kind)
    except msgspec.ValidationError as exc:
        raise field_error(exc, root, whole) from None
