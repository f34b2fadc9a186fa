"""Running the official MCP conformance suite (`@modelcontextprotocol/conformance`) and reading its
verdicts: shared by the test of the fixture server and the tests of the gateway.

The suite saves each scenario's checks in `<out>/server-<scenario>-<timestamp>/checks.json`.
INFO checks record what happened; a WARNING (a SHOULD missed), SKIPPED (nothing checked) or
FAILURE is a shortfall.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.node import npm_binary, run_node_tool

VERSION = "0.2.0-alpha.12"
PASSING = frozenset({"SUCCESS", "INFO"})
RESULT_DIR = re.compile(r"server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z")

Checks = list[dict[str, object]]


async def conformance_binary() -> Path:
    return await npm_binary("@modelcontextprotocol/conformance", VERSION, "conformance")


async def run_suite(binary: Path, url: str, out: Path, *selection: str, scenario_timeout_ms: int = 10_000,
                    timeout: float = 60.0) -> tuple[dict[str, Checks], str]:
    """Run the scenarios `selection` names (`--requirements R` or `--scenario S`) against `url`:
    each scenario's checks, and the suite's output."""
    _, output = await run_node_tool(binary, "server", "--url", url, *selection, "--timeout",
                                    str(scenario_timeout_ms), "-o", str(out / "results"), home=out, timeout=timeout)
    return recorded(out / "results", output), output


def recorded(results_dir: Path, output: str) -> dict[str, Checks]:
    results: dict[str, Checks] = {}
    for path in sorted(results_dir.glob("*/checks.json")):
        found = RESULT_DIR.fullmatch(path.parent.name)
        assert found, f"unexpected result directory {path.parent.name}"
        assert found["scenario"] not in results, f"{found['scenario']} ran twice\n{output[-3000:]}"
        results[found["scenario"]] = json.loads(path.read_text())
    return results


def shortfalls(checks: Checks) -> list[tuple[object, ...]]:
    """The checks of one scenario that did not succeed: (id, status, why)."""
    return [(c.get("id"), c.get("status"), c.get("errorMessage") or c.get("details"))
            for c in checks if c.get("status") not in PASSING]


def idle(checks: Checks) -> bool:
    """A scenario that succeeded at nothing: it would pass the per-check assertions vacuously."""
    return not any(c.get("status") == "SUCCESS" for c in checks)
