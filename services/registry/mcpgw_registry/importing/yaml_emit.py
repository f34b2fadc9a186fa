"""A fast block-style YAML emitter for JSON-like data (dict, list, str, int, float, bool, None).

PyYAML's dumper spends ~13 µs per node in Python, 11 s for the tools of a Kubernetes import;
this takes about a tenth of that. It quotes conservatively: a string is written plain only when
it cannot be read back as anything else, as a literal block when it has several simple lines,
and double-quoted with escapes otherwise, so PyYAML's safe loader reads every output back as the
data it came from (see tests/registry/importing/test_yaml_emit.py).
"""

from __future__ import annotations

import math
import re
from typing import Any

# Plain: starts with a letter, `_` or `/`, then only characters that mean nothing to YAML, no
# trailing space. Indicators (`:` `#` `-` at the start, quotes, brackets...) never get here.
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_ ./()+=-]*")
# Words the YAML 1.1 resolvers read as booleans or null (every plain string that matches _PLAIN
# and is not one of these stays a string: numbers and timestamps start with a digit, sign or dot).
_RESERVED = frozenset(
    w for base in ("y", "yes", "n", "no", "true", "false", "on", "off", "null")
    for w in (base, base.capitalize(), base.upper()))
# A literal block is used only for text YAML cannot mangle: printable characters and tabs, no
# carriage returns or other line breaks (U+0085, U+2028, U+2029), no trailing whitespace on a
# line, not starting with whitespace, at most one final newline.
_BLOCK_UNSAFE = re.compile(r"[^\n\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                           r"\U00010000-\U0010ffff]|[ \t]\n|[ \t]$|\n\n$|^[ \t\n]")
# PyYAML reads an implicit key only up to this many characters; longer ones are written `? key`.
_MAX_SIMPLE_KEY = 1000
_ESCAPES = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), 0x7f, *range(0x80, 0xa0))},
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\0"): "\\0",
    ord("\t"): "\\t",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    0x85: "\\N",
    0xa0: "\\_",
    0x2028: "\\L",
    0x2029: "\\P",
    0xfeff: "\\ufeff",
    **{c: f"\\u{c:04x}" for c in range(0xd800, 0xe000)},
    0xfffe: "\\ufffe",
    0xffff: "\\uffff",
}


def _quoted(value: str) -> str:
    return '"' + value.translate(_ESCAPES) + '"'


# Keys and short values repeat endlessly in schemas ("type", "string", "description"): their
# written form is remembered (bounded, and only ever a pure function of the string).
_SHORT = 48
_CACHE_SIZE = 65536
_written: dict[str, str] = {}


def _key(value: str) -> str:
    text = _written.get(value)
    if text is not None:
        return text
    if _PLAIN.fullmatch(value) and value not in _RESERVED and not value.endswith(" "):
        text = value
    else:
        text = _quoted(value)
    if len(value) <= _SHORT and len(_written) < _CACHE_SIZE:
        _written[value] = text
    return text


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    # YAML 1.1 floats need a dot: 1e+16 would read back as a string.
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


def _scalar(value: Any) -> str | None:
    """The one-line form of a scalar, or None for a string that needs a literal block."""
    if type(value) is str:
        if "\n" in value and not _BLOCK_UNSAFE.search(value):
            return None
        return _key(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    raise TypeError(f"cannot emit {type(value).__name__} as YAML")


def _block(out: list[str], value: str, indent: int) -> None:
    """A literal block scalar after its key or dash; `indent` is the content's indentation."""
    out.append(" |\n" if value.endswith("\n") else " |-\n")
    pad = " " * indent
    for line in value.removesuffix("\n").split("\n"):
        out.append(pad + line + "\n" if line else "\n")


def _value(out: list[str], value: Any, indent: int) -> None:
    """A value after `key:` or `-` at `indent`: inline when a scalar, else on the following lines."""
    if type(value) is str and "\n" not in value:
        out.append(" " + _key(value) + "\n")  # by far the most common case
    elif isinstance(value, dict):
        if not value:
            out.append(" {}\n")
        else:
            out.append("\n")
            _mapping(out, value, indent + 2)
    elif isinstance(value, list):
        if not value:
            out.append(" []\n")
        else:
            out.append("\n")
            _sequence(out, value, indent)
    else:
        text = _scalar(value)
        if text is None:
            _block(out, value, indent + 2)
        else:
            out.append(" " + text + "\n")


def _mapping(out: list[str], data: dict[str, Any], indent: int, first: str | None = None) -> None:
    """Each `key: value` at `indent`; `first` replaces the first line's indentation (after a dash)."""
    pad = " " * indent
    for key, value in data.items():
        if not isinstance(key, str):
            raise TypeError(f"cannot emit a {type(key).__name__} key as YAML")
        text = _written.get(key) or _key(key)
        lead = first if first is not None else pad
        first = None
        if len(text) > _MAX_SIMPLE_KEY:
            out.append(f"{lead}? {text}\n{pad}:")
            _value(out, value, indent)
        elif type(value) is str and "\n" not in value:
            # Inlined: most values are one-line strings, and a call per node is most of the cost.
            out.append(lead + text + ": " + (_written.get(value) or _key(value)) + "\n")
        else:
            out.append(lead + text + ":")
            _value(out, value, indent)


def _sequence(out: list[str], data: list[Any], indent: int, first: str | None = None) -> None:
    # Like PyYAML, a sequence in a mapping is not indented further than its key.
    pad = " " * indent
    for item in data:
        dash = (first if first is not None else pad) + "-"
        first = None
        if isinstance(item, dict) and item:
            _mapping(out, item, indent + 2, first=dash + " ")
        elif isinstance(item, list) and item:
            _sequence(out, item, indent + 2, first=dash + " ")
        else:
            out.append(dash)
            _value(out, item, indent)


def dump(data: Any) -> str:
    """`data` as a YAML document (a mapping or sequence at the top; a scalar on its own line)."""
    out: list[str] = []
    if isinstance(data, dict) and data:
        _mapping(out, data, 0)
    elif isinstance(data, list) and data:
        _sequence(out, data, 0)
    else:
        _value(out, data, 0)
        out[0] = out[0].lstrip(" ")
    return "".join(out)
