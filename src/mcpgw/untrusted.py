"""Documents from outside — request bodies, imported specs, backend and upstream answers — are
checked for nesting depth before anything recurses into them, and their YAML loads as YAML errors.

msgspec, the stdlib json module and PyYAML's pure-Python composer recurse once per level of
nesting with no limit of their own but the interpreter's (1000 frames, shared with every frame
already on the stack): a body 982 levels deep raised RecursionError inside the edge's decode, an
answer of 500 with a traceback per request. Later walks of a decoded document (template
rendering, schema checks, the OpenAPI converter) spend one to three frames a level as well.

MAX_DEPTH is 128 levels of arrays and objects: serde_json's default, well below the interpreter's
limit even for a walk that spends three frames a level, and above what anything honest sends. The
deepest of ten real API descriptions (Stripe's) nests 23 levels and the tools document imported
from it 24; the registry's own schema rule allows tool schemas 64 schema levels deep, and under
`properties` a schema level is two levels of JSON, so a tools document holding one the OpenAPI
converter made (at most 60 schema levels) stays within 128.
"""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

MAX_DEPTH = 128

# Every byte but brackets (deleted), and brackets as parentheses: what the depth scan reads.
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_AS_PARENS = bytes.maketrans(b"[{]}", b"(())")
# Near the limit the scan reads this many brackets one by one before it counts in C again.
_STRIDE = 16


class TooDeep(msgspec.DecodeError):
    """A document nested deeper than the limit. A DecodeError, so that code already treating a
    malformed document as such (a backend answer that is not JSON) treats this one alike."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        super().__init__(f"nesting too deep (more than {limit} levels of arrays and objects)")
        self.limit = limit


class TooLarge(ValueError):
    """A loaded tree with more nodes than its budget (YAML aliases expand a small text)."""

    def __init__(self, budget: int) -> None:
        super().__init__(f"more than {budget} nodes after expanding aliases")
        self.budget = budget


def check_json(data: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise TooDeep if JSON text `data` nests deeper than `limit`, before a decoder recurses
    into it. Malformed JSON is judged at least as deep as a decoder would go before it stops.

    Depth cannot exceed the number of opening brackets, so two counts in C decide for nearly
    every body: 0.3 µs for a 130-byte `tools/call` (its decode takes 0.7 µs, the edge's whole call
    ~71 µs of CPU). A body with more brackets is scanned, in about a decode's time (5-7 ms for
    930 KB holding 60,000 arrays and objects), at most ~170 ms for 4 MB crafted to stay just
    below the limit."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return
    if _deeper_than(_brackets(data), limit):
        raise TooDeep(limit)


def _brackets(data: bytes) -> bytes:
    """The brackets of `data` outside strings, as `(` and `)`, without a loop in Python."""
    if b"\\" in data:
        # Escapes pair left to right as a decoder reads them: `\\` first, then `\"` cannot end a string.
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Outside strings every quote starts or ends one: the even pieces are what lies between them
    # (an unterminated string runs to the end, where a decoder stops too).
    return b"".join(data.split(b'"')[::2]).translate(_AS_PARENS, _NOT_BRACKETS)


def _deeper_than(parens: bytes, limit: int) -> bool:
    depth = 0
    pos = 0
    end = len(parens)
    while pos < end:
        room = limit - depth
        if room >= _STRIDE:
            # `room` brackets cannot take the depth past the limit: count them at once.
            chunk = parens[pos:pos + room]
            depth += 2 * chunk.count(b"(") - len(chunk)
            pos += room
        else:
            for byte in parens[pos:pos + _STRIDE]:
                depth += 1 if byte == 0x28 else -1
                if depth > limit:
                    return True
            pos += _STRIDE
        if depth < 0:
            return False  # a bracket closing nothing: a decoder stops there
    return False


def check_tree(tree: Any, max_nodes: int, limit: int = MAX_DEPTH) -> None:
    """Depth (TooDeep) and size (TooLarge) of a loaded tree, walked without recursion: a YAML
    text's depth is only known once it is parsed, and its aliases can make a tree of any size
    (or a cycle) out of a few lines."""
    budget = max_nodes
    stack: list[tuple[Any, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise TooLarge(max_nodes)
        if isinstance(node, dict):
            depth += 1
            if depth > limit:
                raise TooDeep(limit)
            for key, value in node.items():
                stack.append((key, depth))
                stack.append((value, depth))
        elif isinstance(node, list):
            depth += 1
            if depth > limit:
                raise TooDeep(limit)
            stack.extend((item, depth) for item in node)


def load_yaml(text: str | bytes, loader: Any) -> Any:
    """`yaml.load` of an outside text. A value no Python type holds (an integer of more than 4300
    digits, the date 2024-13-01) is a YAML error like any other, not a ValueError. The tree's
    depth is the caller's to check (check_tree, with its node budget)."""
    try:
        return yaml.load(text, Loader=loader)
    except RecursionError:
        # PyYAML's pure-Python composer recurses per level (libyaml's stops at 1000 by itself);
        # only its own frames unwind here.
        raise TooDeep() from None
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(None, None, _value_problem(exc)) from None


def compose_yaml(text: str, loader: Any) -> yaml.Node | None:
    """`yaml.compose` of an outside text (its node graph, with marks), as `load_yaml` guards it."""
    try:
        root: yaml.Node | None = yaml.compose(text, Loader=loader)
    except RecursionError:
        raise TooDeep() from None
    return root


def _value_problem(exc: ValueError) -> str:
    text = str(exc)
    if "integer string conversion" in text:
        return "an integer has too many digits"
    return f"a value cannot be read: {text[:200]}"
