"""The nesting limit on documents from outside: the JSON scan agrees with a real decoder's depth,
trees are walked without recursion, and YAML's value errors are YAML errors."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mcpgw import untrusted
from mcpgw.untrusted import MAX_DEPTH, TooDeep, TooLarge


def _depth(value: Any) -> int:
    """Levels of arrays and objects, as a decoder recurses into them."""
    best, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            best = max(best, depth)
            stack.extend((v, depth) for v in (node.values() if isinstance(node, dict) else node))
    return best


def _is_refused(data: bytes, limit: int = MAX_DEPTH) -> bool:
    try:
        untrusted.check_json(data, limit)
    except TooDeep:
        return True
    return False


# Strings full of what the scan must not take for structure: brackets, quotes, backslashes.
_TEXT = st.text(alphabet='[]{}"\\ab\n', max_size=6)
_SIBLING: st.SearchStrategy[Any] = st.one_of(st.none(), st.integers(), _TEXT, st.lists(_TEXT, max_size=2),
                     st.dictionaries(_TEXT, st.lists(st.just([]), max_size=1), max_size=2))


@st.composite
def _chain(draw: st.DrawFn) -> Any:
    """A value nested about as deep as the limit, with shallow siblings all along the way."""
    siblings = draw(st.lists(_SIBLING, min_size=1, max_size=4))
    levels = draw(st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.booleans()),
                           min_size=MAX_DEPTH - 8, max_size=MAX_DEPTH + 3))
    value: Any = draw(_TEXT)
    for i, (count, is_list, first) in enumerate(levels):
        around = [siblings[(i + k) % len(siblings)] for k in range(count)]
        if is_list:
            value = [value, *around] if first else [*around, value]
        else:
            value = {**{f"{k}{{": v for k, v in enumerate(around)}, '"]\\': value}
    return value


@settings(max_examples=200, derandomize=True, deadline=None)
@given(_chain())
@example([[["]]]]"]]])
def test_the_scan_agrees_with_the_depth_a_decoder_sees(value: Any) -> None:
    data = json.dumps(value).encode()
    assert _is_refused(data) == (_depth(msgspec.json.decode(data)) > MAX_DEPTH)


@pytest.mark.parametrize("opener,closer", [(b"[", b"]"), (b'{"a":', b"}")])
def test_the_limit_itself_passes_and_one_more_level_is_refused(opener: bytes, closer: bytes) -> None:
    for depth in (MAX_DEPTH - 1, MAX_DEPTH):
        assert not _is_refused(opener * depth + b"1" + closer * depth)
    for depth in (MAX_DEPTH + 1, 982, 100_000):
        assert _is_refused(opener * depth + b"1" + closer * depth)


def test_brackets_in_strings_and_escapes_are_not_structure() -> None:
    text = json.dumps({"a": "[" * 500 + '\\"{' * 300 + "\\", "b": [[1]]}).encode()
    assert not _is_refused(text)
    # `\\` ends its escape: the quote after it closes the string, and what follows is structure.
    assert _is_refused(b'["\\\\"' + b"[" * 200 + b"]" * 200 + b"]")


def test_malformed_json_is_judged_up_to_where_a_decoder_stops() -> None:
    # Cut short while deep: a decoder would recurse all the way down before it noticed.
    assert _is_refused(b"[" * 200)
    # An unterminated string runs to the end.
    assert not _is_refused(b'["' + b"[" * 200)


def test_trees_are_walked_without_recursion_whatever_their_shape() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = {"a": [deep]}
    with pytest.raises(TooDeep):
        untrusted.check_tree(deep, 1_000_000)
    at_limit: Any = "x"
    for _ in range(MAX_DEPTH):
        at_limit = [at_limit]
    untrusted.check_tree(at_limit, 1_000)
    loop: list[Any] = []
    loop.append(loop)  # what `&a [*a]` loads as
    with pytest.raises(TooDeep):
        untrusted.check_tree(loop, 1_000_000)
    shared = list(range(100))
    with pytest.raises(TooLarge):  # aliases: 100 lists of the same 100 items is 10,000 nodes
        untrusted.check_tree([shared] * 100, 5_000)


@pytest.mark.parametrize("loader", [yaml.SafeLoader, yaml.CSafeLoader])
def test_yaml_values_no_python_type_holds_are_yaml_errors(loader: Any) -> None:
    with pytest.raises(yaml.YAMLError, match="an integer has too many digits"):
        untrusted.load_yaml("a: " + "9" * 5000, loader)
    with pytest.raises(yaml.YAMLError, match="a value cannot be read"):
        untrusted.load_yaml("a: 2024-13-01", loader)
    assert untrusted.load_yaml("a: [1, {b: 2}]", loader) == {"a": [1, {"b": 2}]}


def test_yaml_deeper_than_the_pure_python_composer_can_go_is_too_deep() -> None:
    text = "[" * 600 + "]" * 600
    with pytest.raises(TooDeep):
        untrusted.load_yaml(text, yaml.SafeLoader)
    with pytest.raises(TooDeep):
        untrusted.compose_yaml(text, yaml.SafeLoader)
    # libyaml stops at 1000 levels by itself, with a YAML error.
    with pytest.raises(yaml.YAMLError, match="maximum nesting depth"):
        untrusted.load_yaml("[" * 1001 + "]" * 1001, yaml.CSafeLoader)
