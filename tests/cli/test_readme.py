"""The README's `mcpgw` walk-through, run as written: its fenced blocks marked `sh walkthrough`, in
order, in one shell, from the checkout, against a test cluster and the demo backend.

The README speaks of `make up`'s default addresses; only those are replaced by the test's own (the
edge's http://127.0.0.1:8080 and the demo backend's http://127.0.0.1:8082), and the admin API's
by MCPGW_ADMIN_URL, which mcpgw honours. The token is where `make up` keeps it (a run directory's
`admin-token`), not exported. Every command and option is the README's, so it cannot drift.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcpgw import localstate
from mcpgw.devcluster import spawn_ready
from tests.cluster import ADMIN_TOKEN, Cluster
from tests.util import run_to_end

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```sh walkthrough\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SH_BLOCK = re.compile(r"^```sh[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
EDGE, BACKEND = "http://127.0.0.1:8080", "http://127.0.0.1:8082"
MARK = "@@@ block "
BACKEND_READY = r"demo-backend ready on \S+"


def walkthrough() -> list[str]:
    return BLOCK.findall(README.read_text())


@pytest.fixture
async def demo_backend() -> AsyncIterator[str]:
    """demo/backend.py as make up runs it, on a free port: its URL."""
    proc = await spawn_ready("backend", [sys.executable, str(ROOT / "demo" / "backend.py"), "--port", "0"],
                             BACKEND_READY, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        yield (await proc.wait_for(BACKEND_READY)).split()[-1]
    finally:
        await proc.stop()


def test_the_readme_calls_mcpgw_by_its_path_in_the_venv() -> None:
    lines = [line for block in SH_BLOCK.findall(README.read_text()) for line in block.splitlines()]
    assert any(line.startswith(".venv/bin/mcpgw ") for line in lines)
    bare = [line for line in lines if re.match(r"(\S+=\S+ )*mcpgw ", line)]
    assert not bare, f"mcpgw is not on PATH after the set-up; the README must say .venv/bin/mcpgw: {bare}"


async def test_the_walkthrough_runs_as_written(cluster: Cluster, demo_backend: str, tmp_path: Path) -> None:
    blocks = walkthrough()
    assert len(blocks) >= 4, "the README's walk-through blocks are marked ```sh walkthrough"
    text = "".join(blocks)
    assert EDGE in text and BACKEND in text  # what is replaced below is there to be replaced
    script = "set -euo pipefail\n" + "".join(f"echo '{MARK}{n}'\n{block}" for n, block in enumerate(blocks))
    script += f'echo "{MARK}key $KEY"\n'  # the key the README kept, for the checks below
    script = script.replace(EDGE, cluster.edge_url()).replace(BACKEND, demo_backend)
    bin_dir = Path(sys.executable).parent
    if bin_dir != ROOT / ".venv" / "bin":  # tests run by another interpreter than the checkout's
        script = script.replace(".venv/bin/", f"{bin_dir}/")
    localstate.keep_secret(tmp_path / localstate.ADMIN_TOKEN_FILE, lambda: ADMIN_TOKEN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPGW_")}
    env.update(MCPGW_ADMIN_URL=cluster.admin_url, MCPGW_RUN_DIR=str(tmp_path))

    code, out, err = await run_to_end(["bash", "-c", script], 120, cwd=str(ROOT), env=env)
    assert code == 0, f"{out}\n{err}"
    outputs = [part.split("\n", 1)[1] if "\n" in part else "" for part in out.split(MARK)[1:]]
    assert len(outputs) == len(blocks) + 1
    imported, put, granted, called = outputs[:4]
    key = out.rsplit(f"{MARK}key ", 1)[1].strip()

    assert re.search(r"^Created MCP server pets \(mcp-\w+\) at /mcp-servers/pets$", imported, re.M), imported
    assert "Preview of importing into pets (nothing was changed):\n  3 tools from 3 operations\n" in imported
    assert re.search(r"^Imported into pets \(revision \d+\):\n  3 tools from 3 operations\n"
                     r"  added \(3\): list_pets, add_pet, get_pet$", imported, re.M), imported
    assert re.search(r"^Put 1 tool into clock \(revision \d+\): server_time$", put, re.M), put
    assert sorted(line.split()[1] for line in put.splitlines() if line.startswith("mcp-")) == ["clock", "pets"]
    assert "Granted app the tools get_pet of pets (rule car-" in granted
    assert re.search(r"^Grants \(1\)\s+pets: get_pet \(car-\w+\)$", granted, re.M), granted
    assert key.startswith("mcpgw_") and key not in granted  # shown once, into KEY; masked after

    # The consumer sees and calls only the tool it was granted, through the edge, with its key.
    assert re.search(r"call get_pet .*\n\s+isError: False\n\s+content:\n.*\"Rex\"", called), called
    assert "call add_pet" not in called and "1 tools:" in called
    assert "Deleted MCP server pets" in called and "Deleted consumer app" in called
    for collection in ("mcp-servers", "consumers", "authorization-rules"):
        status, body = await cluster.admin("GET", f"/v1/{collection}")
        assert status == 200 and body["data"]["items"] == [], (collection, body)
