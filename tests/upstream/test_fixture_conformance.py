"""The fixture MCP server, scored directly by the official conformance suite: the yardstick for the gateway.

The suite runs the server scenarios its 2025-11-25 requirement set names (`--requirements
2025-11-25`, at that revision's wire) against the fixture over Streamable HTTP. Every scenario must
run, and every check of every scenario must succeed, save those EXPECTED_FAILURES excuses. Hosting
the fixture behind the gateway must later score the same: `run_requirement_set` and `shortfalls` are
meant for that test too. The suite cannot reach the legacy HTTP+SSE endpoint or the script mode;
the SDK's own client and the launcher's process helper check those below.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import mcp.types as types
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcpgw.devcluster import spawn_ready
from tests.conformance import Checks, idle, run_suite, shortfalls
from tests.node import ROOT
from tests.upstream.fixture_server import NAME, running_fixture
from tests.upstream.tools import TOOLS

REQUIREMENTS = "2025-11-25"
SCENARIO_TIMEOUT_MS = 10_000
RUN_TIMEOUT = 60.0
CLIENT_TIMEOUT = 10.0

# What `conformance list --requirements 2025-11-25` names for servers: the scored scenarios, then
# three it runs without scoring (server-session-lifecycle postdates the release the set was frozen
# from; json-schema-2020-12 and server-sse-polling were pending there). All must pass here.
SCENARIOS = frozenset({
    "server-initialize", "logging-set-level", "ping", "completion-complete", "tools-list",
    "tools-call-simple-text", "tools-call-image", "tools-call-audio", "tools-call-embedded-resource",
    "tools-call-mixed-content", "tools-call-with-logging", "tools-call-error", "tools-call-with-progress",
    "tools-call-sampling", "tools-call-elicitation", "elicitation-sep1034-defaults", "server-sse-multiple-streams",
    "elicitation-sep1330-enums", "resources-list", "resources-read-text", "resources-read-binary",
    "resources-templates-read", "resources-subscribe", "resources-unsubscribe", "prompts-list",
    "prompts-get-simple", "prompts-get-with-args", "prompts-get-embedded-resource", "prompts-get-with-image",
    "dns-rebinding-protection",
    "server-session-lifecycle", "json-schema-2020-12", "server-sse-polling",
})

# Scenario -> why the fixture cannot pass it; only reasons outside the fixture's control (a suite bug).
EXPECTED_FAILURES: dict[str, str] = {}


async def run_requirement_set(binary: Path, url: str, out: Path) -> tuple[dict[str, Checks], str]:
    """Run the 2025-11-25 server requirement set against `url`: each scenario's checks, and the output."""
    return await run_suite(binary, url, out, "--requirements", REQUIREMENTS, scenario_timeout_ms=SCENARIO_TIMEOUT_MS,
                           timeout=RUN_TIMEOUT)


async def test_the_fixture_passes_the_2025_11_25_server_scenarios(conformance: Path, tmp_path: Path) -> None:
    assert set(EXPECTED_FAILURES) <= SCENARIOS
    async with running_fixture() as fixture:
        results, output = await run_requirement_set(conformance, fixture.url, tmp_path)

    assert set(results) == SCENARIOS, (
        f"missing {sorted(SCENARIOS - set(results))}, unexpected {sorted(set(results) - SCENARIOS)}\n{output[-3000:]}")
    missed = {scenario: shortfalls(checks) for scenario, checks in results.items()}
    vacuous = sorted(s for s, checks in results.items() if idle(checks))
    # The score, in the test's captured output (`pytest -rP` shows it on a pass too).
    for scenario in sorted(results):
        checks, verdict = results[scenario], "failed" if missed[scenario] or scenario in vacuous else "passed"
        print(f"{scenario}: {verdict}, {len(checks) - len(missed[scenario])}/{len(checks)} checks succeeded")

    unexpected = {s: m for s, m in missed.items() if m and s not in EXPECTED_FAILURES}
    assert not unexpected, unexpected
    assert not [s for s in vacuous if s not in EXPECTED_FAILURES], vacuous
    # An excuse that no longer applies goes: the yardstick must not hide a newly passing scenario.
    now_passing = sorted(s for s in EXPECTED_FAILURES if not missed.get(s) and s not in vacuous)
    assert not now_passing, f"{now_passing} pass now: drop them from EXPECTED_FAILURES"


async def test_the_legacy_sse_endpoint_serves_the_same_fixture() -> None:
    logs: list[types.LoggingMessageNotificationParams] = []
    three_logged = anyio.Event()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)
        if len(logs) >= 3:
            three_logged.set()

    async def set_level(session: ClientSession, level: types.LoggingLevel) -> None:
        # The request itself: the SDK's `set_logging_level` warns that 2026-07-28 drops it.
        await session.send_request(types.SetLevelRequest(params=types.SetLevelRequestParams(level=level)),
                                   types.EmptyResult)

    async with running_fixture() as fixture, sse_client(fixture.sse_url, timeout=CLIENT_TIMEOUT) as (read, write), \
            ClientSession(read, write, read_timeout_seconds=CLIENT_TIMEOUT, logging_callback=on_log) as session:
        await session.initialize()
        assert {tool.name for tool in (await session.list_tools()).tools} == set(TOOLS)
        # Below the connection's level, the tool's info logs are not sent; at it, all three are.
        await set_level(session, "warning")
        assert not (await session.call_tool("test_tool_with_logging", {})).is_error
        await set_level(session, "info")
        assert not (await session.call_tool("test_tool_with_logging", {})).is_error
        with anyio.fail_after(CLIENT_TIMEOUT):
            await three_logged.wait()
    assert [(log.level, log.data) for log in logs] == [
        ("info", "Tool execution started"), ("info", "Tool processing data"), ("info", "Tool execution completed")]


async def test_the_fixture_runs_as_a_script_that_prints_its_url() -> None:
    argv = [sys.executable, "-m", "tests.upstream.fixture_server", "--port", "0"]
    proc = await spawn_ready("fixture", argv, rf"{NAME} ready on \S+", cwd=str(ROOT))
    try:
        url = (await proc.wait_for(rf"{NAME} ready on \S+")).split()[-1]
        async with streamable_http_client(url) as (read, write), \
                ClientSession(read, write, read_timeout_seconds=CLIENT_TIMEOUT) as session:
            assert (await session.initialize()).server_info.name == NAME
            assert (await session.read_resource("test://template/7/data")).contents[0].uri == "test://template/7/data"
    finally:
        await proc.stop()
    assert proc.proc.returncode == 0, list(proc.lines)  # SIGTERM stops it cleanly
