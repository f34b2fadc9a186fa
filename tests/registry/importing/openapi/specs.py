"""The acceptance documents (vendored, `tests/specs.py`) as the converter sees them.

Each document is converted at most once per test session (twice for the re-import check): the
large ones take a noticeable fraction of a second each.
"""

from __future__ import annotations

import functools

from mcpgw_registry.importing.openapi import ImportOptions, ImportResult, convert

from tests.specs import raw


@functools.cache
def converted(name: str) -> ImportResult:
    return convert(raw(name), ImportOptions())


@functools.cache
def reconverted(name: str) -> ImportResult:
    return convert(raw(name), ImportOptions())


def by_source(result: ImportResult, method: str, path: str) -> object:
    for tool in result.document.tools:
        if tool.source is not None and tool.source.method == method and tool.source.path == path:
            return tool
    raise AssertionError(f"no tool for {method} {path}")
