"""Time OpenAPI import (`mcpgw_registry.importing.openapi.convert`) on the three largest acceptance specs.

    .venv/bin/python bench/import_bench.py [--runs N]

Prints the best and median of N runs per document (parse + convert, from bytes in memory) with
the tool counts. The target is Kubernetes 1.12 (826 operations) in under 3 s.
"""

from __future__ import annotations

import argparse
import lzma
import statistics
import sys
import time
from pathlib import Path

from mcpgw_registry.importing.openapi import convert

# The acceptance documents the tests use, vendored xz-compressed (origins and licences in SOURCES.md).
SPECS = Path(__file__).resolve().parents[1] / "tests" / "data" / "specs"
LARGEST = ("kubernetes-1.12.swagger.json", "stripe-spec3.2022-04.json", "github-api.github.com.2020-07.json")
TARGET_SECONDS = {"kubernetes-1.12.swagger.json": 3.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    if not SPECS.is_dir():
        print(f"specs not found at {SPECS.resolve()}", file=sys.stderr)
        return 2
    failed = False
    for name in LARGEST:
        raw = lzma.decompress((SPECS / f"{name}.xz").read_bytes())  # not timed: only the conversion is
        times: list[float] = []
        result = None
        for _ in range(runs):
            start = time.perf_counter()
            result = convert(raw)
            times.append(time.perf_counter() - start)
        assert result is not None
        best, median = min(times), statistics.median(times)
        target = TARGET_SECONDS.get(name)
        verdict = "" if target is None else (" ok" if median < target else f" SLOWER THAN {target:.0f} s")
        failed |= target is not None and median >= target
        print(f"{name:40s} {len(raw) / 1e6:5.1f} MB  {result.operations:4d} ops  {len(result.document.tools):4d} tools"
              f"  best {best:.2f} s  median {median:.2f} s{verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
