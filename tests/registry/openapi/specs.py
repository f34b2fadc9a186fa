"""The acceptance documents in ../shared/specs (CI clones the repository with `shared/` beside it).

Each document is converted at most once per test session (twice for the re-import check): the
large ones take a noticeable fraction of a second each.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from mcpgw_registry.openapi import ImportOptions, ImportResult, convert

SPECS = Path(__file__).resolve().parents[3] / ".." / "shared" / "specs"
_ROW = re.compile(r"^\|\s*`(?P<file>[^`]+)`\s*\|\s*(?P<version>[^|]+?)\s*\|\s*(?P<ops>\d+)\s*\|")


def require_specs() -> Path:
    if not (SPECS / "SOURCES.md").exists():
        pytest.skip(f"acceptance specs not found at {SPECS.resolve()} (clone `shared/` beside the repository)")
    return SPECS


@functools.cache
def operation_counts() -> dict[str, int]:
    """File name -> operation count, from the SOURCES.md table."""
    counts: dict[str, int] = {}
    for line in (require_specs() / "SOURCES.md").read_text().splitlines():
        m = _ROW.match(line)
        if m:
            counts[m.group("file")] = int(m.group("ops"))
    return counts


def spec_names() -> list[str]:
    if not (SPECS / "SOURCES.md").exists():
        return ["(specs missing)"]
    return sorted(operation_counts())


@functools.cache
def raw(name: str) -> bytes:
    return (require_specs() / name).read_bytes()


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
