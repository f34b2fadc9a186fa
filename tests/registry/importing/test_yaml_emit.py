"""The registry's YAML emitter: whatever it writes, PyYAML's safe loaders read back as the same data."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import yaml
from mcpgw_registry.importing.yaml_emit import dump

LOADERS = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)]
# Characters and words that mean something to YAML somewhere.
CHARS = [*"ab yZ_/.-:#'\"\\{}[],&*!|>%@`?=+()~\t\n\r0123456789eE",
    "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\xa0", "\u2028", "\u2029", "\ufeff", "\ufffe", "é", "😀",
    "  ", "\n\n", " \n", "\n ", "\n\t"]
WORDS = ["yes", "No", "ON", "off", "y", "null", "Null", "~", "true", "False", "1e3", "0x1F", "0o7", "1_000",
         ".inf", "-.inf", ".nan", "12:30", "2001-12-14", "<<", "=", "-", "---", "...", "", " ", "a: b", "a #b",
         "- x", "? x", "%x", "@x", "!x", "&x", "*x", "|", ">", "'", '"']


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _reads_back(data: Any) -> None:
    text = dump(data)
    for loader in LOADERS:
        assert _same(yaml.load(text, Loader=loader), data), (data, text)


def _string(rnd: random.Random) -> str:
    if rnd.random() < 0.25:
        return rnd.choice(WORDS)
    return "".join(rnd.choice(CHARS) for _ in range(rnd.randint(0, 12)))


def _text(rnd: random.Random) -> str:
    """Multi-line prose, the kind descriptions are made of."""
    def line() -> str:
        lead = rnd.choice(["", "", "", "  ", "    ", "\t", "- ", "# ", "? ", ": ", "---", "..."])
        return lead + " ".join(rnd.choice(["word", "x:", "#y", "é", "'q'", '"d"', "|", ">", "\t", "a  b", "{x}",
                                           "yes", "\\", "%"]) for _ in range(rnd.randint(0, 5)))
    text = "\n".join(line() for _ in range(rnd.randint(1, 6)))
    return text + "\n" if rnd.random() < 0.5 else text


def _value(rnd: random.Random, depth: int = 0) -> Any:
    roll = rnd.random()
    if depth > 4 or roll < 0.5:
        return rnd.choice([
            _string(rnd), _string(rnd), _text(rnd), rnd.randint(-10**20, 10**20), True, False, None,
            rnd.choice([0.0, -0.0, 1.5, 1e16, 1e-7, -3.25e300, math.inf, -math.inf, math.nan, 123456789.125])])
    if roll < 0.75:
        return {_string(rnd) if rnd.random() < 0.95 else "k" * rnd.randint(990, 1100): _value(rnd, depth + 1)
                for _ in range(rnd.randint(0, 4))}
    return [_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]


@pytest.mark.parametrize("seed", range(3))
def test_random_documents_read_back(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(800):
        _reads_back({"root": _value(rnd)} if rnd.random() < 0.5 else _value(rnd))


def test_layout_is_plain_block_yaml() -> None:
    data = {"server": {"name": "s", "config": {}}, "tools": [
        {"name": "get_pet", "description": "Get a pet.\nBy id.\n", "args": [{"name": "id", "required": True}],
         "enum": ["yes", "a b", "1", "x: y"], "nested": [[1, 2], []], "note": "line one\nline two"}]}
    assert dump(data) == (
        "server:\n"
        "  name: s\n"
        "  config: {}\n"
        "tools:\n"
        "- name: get_pet\n"
        "  description: |\n"
        "    Get a pet.\n"
        "    By id.\n"
        "  args:\n"
        "  - name: id\n"
        "    required: true\n"
        "  enum:\n"
        '  - "yes"\n'
        "  - a b\n"
        '  - "1"\n'
        '  - "x: y"\n'
        "  nested:\n"
        "  - - 1\n"
        "    - 2\n"
        "  - []\n"
        "  note: |-\n"
        "    line one\n"
        "    line two\n")
    _reads_back(data)


@pytest.mark.parametrize("value", ["", " lead", "trail ", "two\n\n", "\nfirst", "tab\tin", "cr\r\nlf", "nbsp\xa0",
                                   "bom\ufeff", "ls\u2028ps\u2029", "nel\x85", "astral 😀", "ctl\x01\x1f\x7f",
                                   "k" * 2000, "- item", "# no comment", "key: value", "'single'", '"double"'])
def test_awkward_strings(value: str) -> None:
    _reads_back({value: value, "list": [value, {value: [value]}]})
