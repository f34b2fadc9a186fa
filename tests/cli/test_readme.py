"""The README's shell blocks, run as written: the `mcpgw` walk-through (fenced blocks marked
`sh walkthrough`) against a test cluster and the demo backend, and "Operate it" (marked `sh operate`)
against the services as separate processes with their metrics ports and an OTLP receiver; each in
order, in one shell, from the checkout.

The README speaks of `make up`'s default addresses; only those are replaced by the test's own (the
edge's http://127.0.0.1:8080, the demo backend's http://127.0.0.1:8082, the admin API's
http://127.0.0.1:8081, the edge's metrics at http://127.0.0.1:9464), the admin API's also by
MCPGW_ADMIN_URL, which mcpgw honours, and `.run/admin-token` by the test's run directory. The token
is where `make up` keeps it (a run directory's `admin-token`), not exported. Every command and
option is the README's, so it cannot drift.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcpgw import localstate
from mcpgw.devcluster import spawn_ready
from tests.cluster import ADMIN_TOKEN, Cluster
from tests.otlp import Span
from tests.processes import ADMIN_TOKEN as PROCESSES_TOKEN
from tests.processes import Processes, running
from tests.util import run_to_end

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```sh walkthrough\n(.*?)^```$", re.MULTILINE | re.DOTALL)
OPERATE = re.compile(r"^```sh operate\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SPANS = re.compile(r"^```text spans\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SH_BLOCK = re.compile(r"^```sh[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
EDGE, BACKEND = "http://127.0.0.1:8080", "http://127.0.0.1:8082"
ADMIN, EDGE_METRICS, TOKEN_FILE = "http://127.0.0.1:8081", "http://127.0.0.1:9464/metrics", ".run/admin-token"
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


@pytest.fixture
async def processes(nats_url: str, redis_url: str) -> AsyncIterator[Processes]:
    async with running(nats_url, redis_url) as started:
        yield started


def operate() -> list[str]:
    return OPERATE.findall(README.read_text())


def readme_spans() -> list[tuple[str, str, str]]:
    """The README's spans of one call, root first: (name, process, kind)."""
    [block] = SPANS.findall(README.read_text())
    rows = [re.split(r"\s{2,}", line.strip()) for line in block.splitlines() if line.strip()]
    return [(row[0], row[1], row[2]) for row in rows]


KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
# Test-only, before the statistics block: toolexec flushes statistics every second, so wait (with a
# deadline) until the four calls of the blocks before are in Redis.
STATS_FLUSHED = """calls() { .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["totals"]["calls"])'; }
for _ in $(seq 100); do
  [ "$(.venv/bin/mcpgw --json stats shop | calls)" = 4 ] && break
  sleep 0.1
done
"""


async def a_trace_with(processes: Processes, service: str, name: str) -> list[Span]:
    """The spans of a trace holding span `name` of `service`, once the edge's HTTP span arrived too."""
    receiver = processes.receiver

    async def found() -> str:
        async with receiver.arrived:
            while not (ids := [s.trace_id for s in receiver.spans if s.service == service and s.name == name]):
                await receiver.arrived.wait()
            return ids[0]

    trace_id = await asyncio.wait_for(found(), 20)
    http = ("mcpgw-edge", "POST /mcp-servers/{name}")
    return await receiver.trace(trace_id, lambda spans: any((s.service, s.name) == http for s in spans))


async def test_operate_it_runs_as_written(processes: Processes, demo_backend: str, tmp_path: Path) -> None:
    blocks = operate()
    assert len(blocks) == 6, "Operate it: domains, match, deploy, statistics, metrics, removal: ```sh operate"
    text = "".join(blocks)
    for address in (EDGE, BACKEND, ADMIN, EDGE_METRICS, TOKEN_FILE):
        assert address in text, address  # what is replaced below is there to be replaced
    parts = [(STATS_FLUSHED if " stats " in block else "") + f"echo '{MARK}{n}'\n{block}"
             for n, block in enumerate(blocks)]
    script = "set -euo pipefail\n" + "".join(parts)
    ours = ((EDGE_METRICS, processes.metrics_url("edge")), (EDGE, processes.mcp_url("").removesuffix("/mcp-servers/")),
            (BACKEND, demo_backend), (ADMIN, processes.admin_url),
            (TOKEN_FILE, str(tmp_path / localstate.ADMIN_TOKEN_FILE)))
    for readme, replacement in ours:
        script = script.replace(readme, replacement)
    bin_dir = Path(sys.executable).parent
    if bin_dir != ROOT / ".venv" / "bin":
        script = script.replace(".venv/bin/", f"{bin_dir}/")
    localstate.keep_secret(tmp_path / localstate.ADMIN_TOKEN_FILE, lambda: PROCESSES_TOKEN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPGW_")}
    env.update(MCPGW_ADMIN_URL=processes.admin_url, MCPGW_RUN_DIR=str(tmp_path))

    code, out, err = await run_to_end(["bash", "-c", script], 120, cwd=str(ROOT), env=env)
    assert code == 0, f"{out}\n{err}"
    domains, match, deploy, stats, metrics, removed = [part.split("\n", 1)[1] for part in out.split(MARK)[1:]]

    # On its domain the server answers and its tools are called; on another host it does not exist.
    assert re.search(r"^Created domain shop\.example\.com \(d-\w+\)$", domains, re.M), domains
    assert len(re.findall(r"^call (get_pet|add_pet) .*\n\s+isError: False$", domains, re.M)) == 2, domains
    assert domains.rstrip().endswith("\n404"), domains
    # The match: set (200), a request without the header is refused (404), one with it served.
    assert match.startswith("200\n404\n"), match
    assert len(re.findall(r"^call (get_pet|add_pet) .*\n\s+isError: False$", match, re.M)) == 2, match
    # Undeployed: 404; deployed again; rolled back to before the domain and the match: found on any host.
    assert re.search(r"^MCP server shop \(mcp-\w+\): NotDeployed\n404\nMCP server shop \(mcp-\w+\): Deployed$",
                     deploy, re.M), deploy
    assert [line.split()[0] for line in deploy.splitlines() if re.match(r"\d+\s+\d{4}-", line)] == \
        ["5", "4", "3", "2", "1"], deploy
    assert re.search(r"^Rolled shop \(mcp-\w+\) back to revision 2: published as revision 6\n400$", deploy, re.M)
    # The four calls counted, none failed; per tool two each.
    assert re.search(r"^total\s+4\s+0\s+0\s", stats, re.M), stats
    assert re.search(r"^get_pet\s+2\s+0\s+0\s", stats, re.M) and re.search(r"^add_pet\s+2\s+0\s+0\s", stats, re.M)
    assert 'mcpgw_edge_request_duration_seconds_count{method="tools/call",outcome="ok",server="shop",' \
           'tool="get_pet"} 2.0' in metrics, metrics

    assert re.search(r"^Deleted MCP server shop", removed, re.M) and "shop.example.com" in removed, removed
    for collection in ("mcp-servers", "domains"):
        assert (await processes.admin("GET", f"/v1/{collection}"))["items"] == [], collection

    # The spans the README lists for one get_pet call, each the parent of the next.
    spans = await a_trace_with(processes, "mcpgw-toolexec", "execute_tool get_pet")
    by_id = {s.span_id: s for s in spans}
    chain = [next(s for s in spans if s.service == "mcpgw-toolexec" and s.name == "GET")]
    while chain[-1].parent_id:
        chain.append(by_id[chain[-1].parent_id])
    got = [(s.name, s.service.removeprefix("mcpgw-"), KINDS[s.kind]) for s in reversed(chain)]
    assert got == readme_spans()
