"""The official MCP conformance suite (`@modelcontextprotocol/conformance`) against a REST-converted server.

A REST-converted server has the gateway's tools only, so the suite's protocol-level scenarios are
the ones that apply, in both eras; they must pass in full. The scenarios that call the suite's own
tools, resources and prompts run against a hosted fixture (tests/e2e/test_hosted_conformance.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.conformance import Checks, idle, run_suite, shortfalls

PROTOCOL_SCENARIOS = (
    "server-initialize",
    "ping",
    "tools-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "server-session-lifecycle",
)


async def test_the_protocol_scenarios_pass_against_the_edge(
        cluster: Cluster, backend: Backend, conformance: Path, tmp_path: Path) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    url = cluster.mcp_url("petstore")
    runs = await asyncio.gather(*(
        run_suite(conformance, url, tmp_path / scenario, "--scenario", scenario) for scenario in PROTOCOL_SCENARIOS))
    results = {scenario: found for (one, _) in runs for scenario, found in one.items()}
    assert set(results) == set(PROTOCOL_SCENARIOS), [output[-2000:] for _, output in runs]
    missed = {scenario: shortfalls(checks) for scenario, checks in results.items() if shortfalls(checks)}
    assert not missed, missed
    assert not [scenario for scenario, checks in results.items() if idle(checks)], results


# 2026-07-28: the scenarios a REST-converted server can pass, in full.
MODERN_SCENARIOS = (
    "tools-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "http-header-validation",
    "http-custom-header-server-validation",
    "input-required-result-unsupported-methods",
    "input-required-result-validate-input",
)
# Scenarios that pass in part, and the checks that cannot pass against a REST-converted server.
MODERN_PARTIAL = {
    "server-stateless": {
        # The suite's own diagnostic tools (a hosted fixture has them).
        "sep-2575-server-rejects-undeclared-capability", "sep-2575-missing-capability-http-400",
        "sep-2575-http-server-no-independent-requests-on-stream", "sep-2575-server-no-log-without-loglevel",
        # Needs a tool that changes the tool list when called; an operator's edit does it here
        # (tests/edge/test_stateless.py), which the suite cannot make.
        "sep-2575-server-sends-tools-list-changed-on-subscription",
        # No prompts on a REST-converted server: nothing to check.
        "sep-2575-server-sends-prompts-list-changed-on-subscription",
    },
    "caching": {  # a REST-converted server has tools only
        "sep-2549-prompts-list-caching-hints", "sep-2549-resources-list-caching-hints",
        "sep-2549-resources-templates-list-caching-hints", "sep-2549-resources-read-caching-hints",
    },
}


def _missed_ids(checks: Checks) -> set[str]:
    return {str(check[0]) for check in shortfalls(checks)}


async def test_the_2026_07_28_protocol_scenarios_pass_against_the_edge(
        cluster: Cluster, backend: Backend, conformance: Path, tmp_path: Path) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    results, output = await run_suite(conformance, cluster.mcp_url("petstore"), tmp_path, "--requirements",
                                      "2026-07-28", timeout=120)
    for scenario in MODERN_SCENARIOS:
        assert scenario in results, output[-2000:]
        assert not shortfalls(results[scenario]) and not idle(results[scenario]), (scenario, results[scenario])
    for scenario, expected in MODERN_PARTIAL.items():
        missed = _missed_ids(results[scenario])
        assert missed <= expected, (scenario, missed - expected)
        assert len(results[scenario]) > len(missed), scenario
