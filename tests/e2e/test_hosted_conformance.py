"""The official conformance suite through the gateway: a hosted server must score what its upstream scores.

The fixture server (tests/upstream) is scored directly, and through the gateway hosting it over
each upstream transport (Streamable HTTP, legacy SSE), in one concurrent run. The suite is a
Streamable HTTP client, so that is the downstream transport here; the SDK tests beside this one
cover legacy SSE downstream. The test asserts equality scenario by scenario.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.cluster import Cluster
from tests.conformance import Checks, idle, run_suite, shortfalls
from tests.upstream.fixture_server import running_fixture
from tests.upstream.test_fixture_conformance import REQUIREMENT_SETS, run_requirement_set

# (run, scenario) -> why it scores differently through the gateway without the client losing
# anything. A scenario the client fares worse in through the gateway is a gateway bug, never here.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("SSE upstream", "server-sse-polling"): (
        "the scenario's tool closes its request's stream for the client to poll; the gateway mirrors "
        "that when its upstream does, but a legacy HTTP+SSE upstream has no request streams to close, "
        "so the gateway answers with plain JSON (MCP allows it) and the suite has nothing to check. "
        "The client gets the tool's result either way."),
}


def verdicts(results: dict[str, Checks]) -> dict[str, bool]:
    return {scenario: not shortfalls(checks) and not idle(checks) for scenario, checks in results.items()}


# The gateway's runs per requirement set. The 2026-07-28 set over a legacy HTTP+SSE upstream is
# not an equality run: the gateway bridges the eras there, and the scenarios a handshake-era
# upstream cannot serve are listed with their reasons in BRIDGE_CANNOT below.
RUNS = {
    "2025-11-25": ("StreamableHTTP upstream", "SSE upstream"),
    "2026-07-28": ("StreamableHTTP upstream",),
}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("requirements", sorted(RUNS))
async def test_a_hosted_server_scores_what_its_upstream_scores(cluster: Cluster, conformance: Path, tmp_path: Path,
                                                               requirements: str) -> None:
    async with running_fixture() as fixture:
        await cluster.host("via-streamable", fixture.url, transport="StreamableHTTP")
        await cluster.host("via-sse", fixture.sse_url, transport="SSE")
        urls = {"StreamableHTTP upstream": cluster.mcp_url("via-streamable"),
                "SSE upstream": cluster.mcp_url("via-sse")}
        runs = {"direct": fixture.url, **{name: urls[name] for name in RUNS[requirements]}}
        outcomes = await asyncio.gather(*(
            run_requirement_set(conformance, url, tmp_path / name.replace(" ", "-"), requirements)
            for name, url in runs.items()))
    scores = {name: verdicts(results) for name, (results, _) in zip(runs, outcomes, strict=True)}
    direct = scores["direct"]
    for name, score in scores.items():
        print(f"{requirements} {name}: {sum(score.values())}/{len(score)} scenarios passed")
    excused = REQUIREMENT_SETS[requirements].expected_failures
    assert direct and all(passed for s, passed in direct.items() if s not in excused), direct
    for name, (results, output) in zip(runs, outcomes, strict=True):
        if name == "direct":
            continue
        score = scores[name]
        assert set(score) == set(direct), f"{name}: scenarios differ\n{output[-2000:]}"
        differ = {s: shortfalls(results[s]) or "no checks ran" for s in direct
                  if score[s] != direct[s] and (name, s) not in KNOWN_DIFFERENCES}
        assert not differ, f"{requirements}, {name} scores differently from the upstream: {differ}"
        now_equal = [s for run, s in KNOWN_DIFFERENCES if run == name and s in direct and score.get(s) == direct.get(s)]
        assert not now_equal, f"{name}: {now_equal} score the same now: drop them from KNOWN_DIFFERENCES"


# The 2026-07-28 set through a legacy HTTP+SSE upstream: the gateway bridges the eras. Scenario ->
# why it cannot pass through such an upstream; every other scenario of the set must.
BRIDGE_CANNOT: dict[str, str] = {
    **{scenario: "a handshake-era upstream has no Tasks extension" for scenario in (
        "tasks-lifecycle", "tasks-capability-negotiation", "tasks-wire-fields", "tasks-request-state-removal",
        "tasks-mrtr-input", "tasks-request-headers", "tasks-dispatch-and-envelope", "tasks-required-task-error",
        "tasks-mrtr-composition")},
    "tasks-status-notifications": "the suite skips it by design (also directly)",
    **{scenario: "the suite answers input requests under the keys the fixture gives them in 2026-07-28; a "
                 "handshake-era upstream asks without naming its requests, so the bridge names them" for scenario in (
        "input-required-result-basic-elicitation", "input-required-result-basic-sampling",
        "input-required-result-multi-round", "input-required-result-non-tool-request",
        "input-required-result-tampered-state", "input-required-result-validate-input",
        "input-required-result-ignore-extra-params")},
    "input-required-result-multiple-input-requests": "a handshake-era upstream asks one thing at a time",
    "server-stateless": "the fixture's handshake era declares no listChanged, and runs test_missing_capability "
                        "for a client without sampling instead of refusing it (4 of 30 checks)",
    "http-custom-header-server-validation": "a handshake-era upstream does not check Mcp-Param-* headers",
}


@pytest.mark.timeout(120)
async def test_a_2026_07_28_client_through_the_bridge_to_a_legacy_upstream(cluster: Cluster, conformance: Path,
                                                                          tmp_path: Path) -> None:
    scenarios = REQUIREMENT_SETS["2026-07-28"].scenarios
    assert set(BRIDGE_CANNOT) <= scenarios
    bridged = sorted(scenarios - set(BRIDGE_CANNOT))
    gate = asyncio.Semaphore(6)
    async with running_fixture() as fixture:
        await cluster.host("via-sse", fixture.sse_url, transport="SSE")
        url = cluster.mcp_url("via-sse")

        async def one(scenario: str) -> tuple[str, dict[str, Checks]]:
            async with gate:
                results, _ = await run_suite(conformance, url, tmp_path / scenario, "--spec-version", "2026-07-28",
                                             "--scenario", scenario, timeout=60)
            return scenario, results

        outcomes = await asyncio.gather(*(one(s) for s in bridged))
    failed = {s: [shortfalls(c) or "no checks ran" for c in results.values()] or "did not run"
              for s, results in outcomes if not results or any(shortfalls(c) or idle(c) for c in results.values())}
    print(f"2026-07-28 bridged to a legacy SSE upstream: {len(bridged) - len(failed)}/{len(scenarios)} scenarios")
    assert not failed, failed
