"""The acceptance OpenAPI documents vendored in `tests/data/specs/` (xz; origins and licences in SOURCES.md).

A clone alone runs every test that uses them. Each is decompressed at most once per test session:
all ten take 0.13 to 0.26 s on the 2-core VM (14.6 MB of text out of 0.5 MB), so a test pays for a
document only the first time any test asks for it.
"""

from __future__ import annotations

import functools
import lzma
import re
from pathlib import Path
from typing import NamedTuple

SPECS = Path(__file__).resolve().parent / "data" / "specs"
SOURCES = SPECS / "SOURCES.md"
_ROW = re.compile(r"^\|\s*`(?P<file>[^`]+)`\s*\|\s*(?P<version>[^|]+?)\s*\|\s*(?P<ops>\d+)\s*\|\s*\d+\s*\|"
                  r"\s*(?P<bytes>\d+)\s*\|\s*(?P<xz>\d+)\s*\|")
_DIGEST = re.compile(r"^(?P<sha256>[0-9a-f]{64})  (?P<file>\S+)$")


class Source(NamedTuple):
    """What SOURCES.md says of one document."""

    version: str
    operations: int
    size: int  # decompressed, in bytes
    xz_size: int
    sha256: str


@functools.cache
def sources() -> dict[str, Source]:
    """File name -> its row of the SOURCES.md table and its sha256."""
    text = SOURCES.read_text()
    digests = {m["file"]: m["sha256"] for m in map(_DIGEST.match, text.splitlines()) if m}
    return {m["file"]: Source(m["version"], int(m["ops"]), int(m["bytes"]), int(m["xz"]), digests.get(m["file"], ""))
            for m in map(_ROW.match, text.splitlines()) if m}


def spec_names() -> list[str]:
    return sorted(sources())


def operation_counts() -> dict[str, int]:
    """File name -> operation count, from the SOURCES.md table."""
    return {name: source.operations for name, source in sources().items()}


@functools.cache
def raw(name: str) -> bytes:
    """The document's bytes, exactly as published."""
    if name not in sources():
        raise KeyError(f"{name} is not listed in {SOURCES}")
    return lzma.decompress((SPECS / f"{name}.xz").read_bytes())


def write(name: str, directory: Path) -> Path:
    """The document as a file in `directory`, for what reads a path (the `mcpgw` command line)."""
    path = directory / name
    path.write_bytes(raw(name))
    return path
