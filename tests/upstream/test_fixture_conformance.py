"""The fixture MCP server, scored directly by the official conformance suite: the yardstick for the gateway.

The suite runs the server scenarios a requirement set names (`--requirements R`, each at its
revision's wire) against the fixture over Streamable HTTP, once for 2025-11-25 (the initialize
handshake, sessions) and once for 2026-07-28 (stateless: per-request `_meta`, MRTR,
subscriptions/listen), both on the one `/mcp` endpoint. Every scenario must run, and every check of
every scenario must succeed, save those the set's EXPECTED_FAILURES excuse. Hosting the fixture
behind the gateway must later score the same: `run_requirement_set`, `REQUIREMENT_SETS` and
`shortfalls` are meant for that test too. The suite cannot reach the legacy HTTP+SSE endpoint or the
script mode; the SDK's own client and the launcher's process helper check those below.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import anyio
import mcp.types as types
import pytest
from mcp import Client, ClientSession, MCPError
from mcp.client.context import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types.jsonrpc import MISSING_REQUIRED_CLIENT_CAPABILITY

from mcpgw.devcluster import spawn_ready
from tests.conformance import Checks, idle, run_suite, shortfalls
from tests.node import ROOT
from tests.upstream.fixture_server import NAME, running_fixture
from tests.upstream.tasks import EXTENSION
from tests.upstream.tools import TOOLS

REQUIREMENTS = "2025-11-25"  # the default set of run_requirement_set
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

# What `conformance list --requirements 2026-07-28` names for servers: the 37 scored scenarios
# (stateless serving, the content scenarios at the new wire, caching, MRTR), then those it runs
# without scoring: the Tasks extension's (SEP-2663), json-schema-2020-12 and the two SEP-2243
# header scenarios (pending against the suite's reference fixture). All must pass here.
SCENARIOS_2026 = frozenset({
    "server-stateless", "completion-complete", "tools-list", "tools-call-simple-text", "tools-call-image",
    "tools-call-audio", "tools-call-embedded-resource", "tools-call-mixed-content", "tools-call-error",
    "tools-call-with-progress", "server-sse-multiple-streams", "resources-list", "resources-read-text",
    "resources-read-binary", "resources-templates-read", "sep-2164-resource-not-found", "prompts-list",
    "prompts-get-simple", "prompts-get-with-args", "prompts-get-embedded-resource", "prompts-get-with-image",
    "dns-rebinding-protection", "caching",
    "input-required-result-basic-elicitation", "input-required-result-basic-sampling",
    "input-required-result-basic-list-roots", "input-required-result-request-state",
    "input-required-result-multiple-input-requests", "input-required-result-multi-round",
    "input-required-result-missing-input-response", "input-required-result-non-tool-request",
    "input-required-result-result-type", "input-required-result-unsupported-methods",
    "input-required-result-tampered-state", "input-required-result-capability-check",
    "input-required-result-ignore-extra-params", "input-required-result-validate-input",
    "tasks-lifecycle", "tasks-capability-negotiation", "tasks-wire-fields", "tasks-request-state-removal",
    "tasks-mrtr-input", "tasks-request-headers", "tasks-dispatch-and-envelope", "tasks-status-notifications",
    "tasks-required-task-error", "tasks-mrtr-composition",
    "json-schema-2020-12", "http-header-validation", "http-custom-header-server-validation",
})

EXPECTED_FAILURES_2026: dict[str, str] = {
    "tasks-status-notifications": (
        "the suite skips its only check by design (0.2.0-alpha.12: 'the harness needs a rewrite against "
        "the new channel'): SEP-2663 delivers notifications/tasks on subscriptions/listen, which it does not watch"),
}


@dataclass(frozen=True)
class RequirementSet:
    scenarios: frozenset[str]  # every server scenario the set runs
    expected_failures: dict[str, str]  # scenario -> the suite bug that keeps the fixture from passing it


REQUIREMENT_SETS: dict[str, RequirementSet] = {
    "2025-11-25": RequirementSet(SCENARIOS, EXPECTED_FAILURES),
    "2026-07-28": RequirementSet(SCENARIOS_2026, EXPECTED_FAILURES_2026),
}


async def run_requirement_set(binary: Path, url: str, out: Path, requirements: str = REQUIREMENTS,
                              ) -> tuple[dict[str, Checks], str]:
    """Run the server requirement set `requirements` (a key of REQUIREMENT_SETS) against `url`:
    each scenario's checks, and the suite's output."""
    assert requirements in REQUIREMENT_SETS, requirements
    return await run_suite(binary, url, out, "--requirements", requirements, scenario_timeout_ms=SCENARIO_TIMEOUT_MS,
                           timeout=RUN_TIMEOUT)


def assert_scored(requirements: str, results: dict[str, Checks], output: str) -> None:
    """Every scenario of the set ran, and passed unless its EXPECTED_FAILURES excuse it; prints the score."""
    expected = REQUIREMENT_SETS[requirements]
    scenarios, excused = expected.scenarios, expected.expected_failures
    assert set(excused) <= scenarios
    assert set(results) == scenarios, (
        f"missing {sorted(scenarios - set(results))}, unexpected {sorted(set(results) - scenarios)}\n{output[-3000:]}")
    missed = {scenario: shortfalls(checks) for scenario, checks in results.items()}
    vacuous = sorted(s for s, checks in results.items() if idle(checks))
    # The score, in the test's captured output (`pytest -rP` shows it on a pass too).
    for scenario in sorted(results):
        checks, verdict = results[scenario], "failed" if missed[scenario] or scenario in vacuous else "passed"
        print(f"{requirements} {scenario}: {verdict}, {len(checks) - len(missed[scenario])}/{len(checks)} checks "
              "succeeded")

    unexpected = {s: m for s, m in missed.items() if m and s not in excused}
    assert not unexpected, unexpected
    assert not [s for s in vacuous if s not in excused], vacuous
    # An excuse that no longer applies goes: the yardstick must not hide a newly passing scenario.
    now_passing = sorted(s for s in excused if not missed.get(s) and s not in vacuous)
    assert not now_passing, f"{now_passing} pass now: drop them from the expected failures of {requirements}"


async def test_the_fixture_passes_the_2025_11_25_server_scenarios(conformance: Path, tmp_path: Path) -> None:
    async with running_fixture() as fixture:
        results, output = await run_requirement_set(conformance, fixture.url, tmp_path, "2025-11-25")
    assert_scored("2025-11-25", results, output)


async def test_the_fixture_passes_the_2026_07_28_server_scenarios(conformance: Path, tmp_path: Path) -> None:
    async with running_fixture() as fixture:
        results, output = await run_requirement_set(conformance, fixture.url, tmp_path, "2026-07-28")
    assert_scored("2026-07-28", results, output)


class _User:
    """A client's side of the tools that ask: it answers forms, samples and its roots, and keeps the questions."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def elicit(self, context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params.message)
        assert isinstance(params, types.ElicitRequestFormParams)
        fields = params.requested_schema["properties"]
        answer: dict[str, str | bool] = {"name": "Alice", "color": "blue", "context": "tests", "confirm": True}
        return types.ElicitResult(action="accept", content={k: answer[k] for k in fields})

    async def sample(self, context: ClientRequestContext, params: types.CreateMessageRequestParams,
                     ) -> types.CreateMessageResult:
        self.asked.append("sampling")
        return types.CreateMessageResult(role="assistant", content=types.TextContent(text="Hi"), model="test")

    async def roots(self, context: ClientRequestContext) -> types.ListRootsResult:
        self.asked.append("roots")
        return types.ListRootsResult(roots=[types.Root.model_validate({"uri": "file:///work", "name": "work"})])


async def _interactive_session(url: str, mode: str) -> tuple[list[str], list[str]]:
    user = _User()
    async with Client(url, mode=mode, read_timeout_seconds=CLIENT_TIMEOUT, elicitation_callback=user.elicit,
                      sampling_callback=user.sample, list_roots_callback=user.roots) as client:
        texts = []
        for tool, arguments in (("test_input_required_result_multi_round", {}),
                                ("test_input_required_result_multiple_inputs", {}),
                                ("confirm_delete", {"filename": "a.txt"}), ("test_tool_with_task", {}),
                                ("greet", {"name": "Bob"})):
            if tool == "test_tool_with_task" and mode != "legacy":
                # It runs only as a task on 2026-07-28, to clients that declare the Tasks extension.
                with pytest.raises(MCPError) as refused:
                    await client.call_tool(tool, arguments)
                assert refused.value.error.code == MISSING_REQUIRED_CLIENT_CAPABILITY
                assert refused.value.error.data == {"requiredCapabilities": {"extensions": {EXTENSION: {}}}}
                continue
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, result
            texts.append(" ".join(block.text for block in result.content if isinstance(block, types.TextContent)))
        prompt = await client.get_prompt("test_input_required_result_prompt")
        texts.extend(m.content.text for m in prompt.messages if isinstance(m.content, types.TextContent))
    return texts, user.asked


async def test_the_tools_that_ask_ask_each_era_its_own_way() -> None:
    # 2026-07-28 (stateless): input_required results, which the SDK's client answers and retries;
    # handshake era: server-to-client requests within the call. The same answers make the same results.
    # Without the Tasks extension, the task tools run within the call (the handshake era knows no tasks).
    async with running_fixture() as fixture:
        modern, asked_modern = await _interactive_session(fixture.url, "2026-07-28")
        legacy, asked_legacy = await _interactive_session(fixture.url, "legacy")
    common = ["Alice's favourite colour is blue", "Hi Alice, your roots: file:///work", "Deleted a.txt"]
    assert modern == [*common, "Hello, Bob!", "Answer with this context in mind: tests"]
    assert legacy == [*common, "Hello, Alice, from a task!", "Hello, Bob!", "Answer with this context in mind: tests"]
    assert sorted([*asked_modern, "What is your name?"]) == sorted(asked_legacy)


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
