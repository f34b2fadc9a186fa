"""Schemathesis over the admin API's own OpenAPI document, against a real registry (real NATS/JetStream).

Two runs, both deterministic:
- fuzzing (Schemathesis' Python API): every operation gets a bounded number of generated requests,
  valid ones (positive) and ones that break the document (negative), with the ids of resources
  created first, so they reach the handlers behind the 404.
- coverage (Schemathesis' CLI, `st run --phases coverage`): for every operation the boundary
  values of each parameter and body field, missing and malformed ones, unexpected methods, bad
  headers, no token.
Each answer must not be a 5xx and must be what the document says (status, content type, headers,
schema); a request that breaks the document must be refused with a 4xx. The registry must log no
error, and answer normally afterwards.

Schemathesis calls with `requests` (blocking), so the fuzzing sits in a worker thread and the CLI
in a child process while the event loop serves the registry.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from mcpgw_registry.service import RegistryService
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.core.result import Ok

from tests.registry.conftest import ADMIN_TOKEN, Api
from tests.registry.openapi_docs import v1

# Per operation and generation mode: ~510 cases in 16 s on 2 cores (32 s while other work loads them);
# the coverage run adds ~6,300 cases in 26 s.
EXAMPLES = 12
# Valid data may still be refused: the document cannot say "expireTimestamp must be in the future"
# or "a name must not be taken"; such a 400 names the field, and that is the answer wanted.
# allow_header_conformance (coverage run only) reads the `Allow` of /tools/import as wrong for
# listing PATCH, but PATCH is routed there: it edits the tool named "import" (/tools/{toolName}).
EXCLUDED_CHECKS = ("positive_data_acceptance", "allow_header_conformance")


@dataclass
class Seeds:
    """Ids of resources created before the run, by the document's path parameter names."""

    rest: dict[str, str]
    hosted: dict[str, str]

    def for_path(self, path: str) -> dict[str, str]:
        ids = self.hosted if "upstream-credential" in path else self.rest
        return {name: ids[name] for name in ids if "{" + name + "}" in path}


@dataclass
class Run:
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


async def _seed(api: Api) -> Seeds:
    server_id = await api.create_server("seed-rest")
    report = await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/import", data=v1(),
                          headers={"Content-Type": "application/yaml"})
    consumer = await api.ok("POST", "/v1/consumers",
                            json={"name": "seed", "apikeyIdentityConfig": {"credentials": [{}]}})
    consumer_id = consumer["consumerId"]
    rules = await api.ok("POST", "/v1/authorization-rules", json={"authorizationRules": [
        {"consumerId": consumer_id, "resourceType": "MCP", "resourceIdentifier": {"resourceId": server_id},
         "expireMode": "LongTerm"}]})
    service_id = await api.create_service("seed-upstream", "upstream.test:8080")
    hosted_id = await api.create_server("seed-hosted", protocol="StreamableHTTP", exposedUriPath="/mcp",
                                        backendConfig={"services": [{"serviceId": service_id}]})
    await api.ok("PUT", f"/v1/mcp-servers/{hosted_id}/consumers/{consumer_id}/upstream-credential",
                  json={"type": "Bearer", "value": "seed-secret"})
    await api.create_server("seed-assembly", type="AssemblyMCP", assembledSources=[{"mcpServerId": server_id}])
    rest = {"mcpServerId": server_id, "consumerId": consumer_id, "toolName": report["tools"][1],
            "consumerAuthorizationRuleId": rules["consumerAuthorizationRuleIds"][0], "serviceId": service_id}
    return Seeds(rest=rest, hosted={"mcpServerId": hosted_id, "consumerId": consumer_id})


def _summary(exc: BaseException) -> str:
    """What failed, without the generated body (which may be a few kilobytes of noise)."""
    parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    return "\n".join(f"{type(part).__name__}: {str(part).split('Reproduce with')[0][:1500]}" for part in parts)


@dataclass
class _Client:
    base_url: str
    session: requests.Session
    headers: dict[str, str]
    excluded: list[Any]


def _generate(client: _Client, run: Run, strategy: Any, mode: GenerationMode) -> None:
    """Send EXAMPLES cases drawn from `strategy` and check every answer; raises the failures found."""

    @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=strategy)
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=client.base_url, session=client.session, timeout=30)
        run.cases[mode.value] += 1
        run.statuses[response.status_code] += 1
        case.validate_response(response, excluded_checks=client.excluded, headers=client.headers,
                               transport_kwargs={"base_url": client.base_url, "session": client.session,
                                                 "headers": client.headers})

    check()


def _fuzz(document: dict[str, Any], base_url: str, seeds: Seeds) -> Run:
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    session.trust_env = False  # a proxy from the environment must not stand between us and 127.0.0.1
    client = _Client(base_url, session, {"Authorization": f"Bearer {ADMIN_TOKEN}"},
                     [CHECKS.get_one(name) for name in EXCLUDED_CHECKS])
    run = Run()
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document is valid (test_document)
        operations.append(result.ok())
    # Deletions last, so the seeded resources stay for the other operations as long as possible.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # The admin token, not the random bearer tokens Schemathesis would make up; the seeded ids,
            # not random ones (the coverage run sends those, and they end at the 404).
            strategy = operation.as_strategy(generation_mode=mode, headers=client.headers,
                                             path_parameters=seeds.for_path(operation.path) or None)
            try:
                _generate(client, run, strategy, mode)
            except hypothesis.errors.Unsatisfiable:
                # Nothing to break: a path parameter that is any non-empty string has no invalid value a
                # URL can carry, so an operation with no query and no body has no negative case.
                if mode is not GenerationMode.NEGATIVE or len(operation.query) or len(operation.body):
                    run.failures.append(f"{operation.label} ({mode.value}): no case could be generated")
            except (Exception, BaseExceptionGroup) as exc:  # every failing operation is reported
                run.failures.append(f"{operation.label} ({mode.value}): {_summary(exc)}")
    return run


async def _coverage(base_url: str, workdir: Path) -> tuple[int, str]:
    """`st run --phases coverage` against the registry: its exit status and its report."""
    # No proxy from the environment between the CLI and 127.0.0.1.
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/v1/openapi.json", "--phases", "coverage",
        "--header", f"Authorization: Bearer {ADMIN_TOKEN}", "--checks", "all",
        "--exclude-checks", ",".join(EXCLUDED_CHECKS), "--workers", "1", "--seed", "1",
        "--generation-deterministic", "--request-timeout", "30", "--no-color",
        cwd=workdir, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=300)
    return await proc.wait(), out.decode(errors="replace")


async def test_schemathesis_finds_nothing(api: Api, registry: RegistryService, caplog: pytest.LogCaptureFixture,
                                          tmp_path: Path) -> None:
    caplog.set_level(logging.WARNING)
    seeds = await _seed(api)
    base_url = f"http://127.0.0.1:{registry.port}"
    async with api.session.get("/v1/openapi.json") as resp:
        document = await resp.json()

    started = time.monotonic()
    run = await asyncio.to_thread(_fuzz, document, base_url, seeds)
    fuzzed = time.monotonic()
    status, report = await _coverage(base_url, tmp_path)
    covered = re.search(r"^\s*(\d+) generated", report, re.M)
    print(f"schemathesis fuzzing: {sum(run.cases.values())} cases {dict(run.cases)} in {fuzzed - started:.1f} s, "
          f"statuses {dict(sorted(run.statuses.items()))}; coverage: {covered and covered.group(1)} cases in "
          f"{time.monotonic() - fuzzed:.1f} s")

    assert run.failures == [], "\n\n".join(run.failures)
    assert status == 0, report
    assert covered is not None and int(covered.group(1)) > 1000, report
    assert not any(code >= 500 for code in run.statuses)
    assert run.cases["positive"] > 0 and run.cases["negative"] > 0
    # Requests that reached the handlers behind the 404 (the seeds), not only refusals.
    assert run.statuses[200] > 0
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == []

    # Alive: the registry still answers, reads and writes.
    assert (await api.ok("GET", "/healthz")) == {"status": "ok"}
    consumer = await api.ok("POST", "/v1/consumers", json={"name": "after-the-fuzz"})
    assert (await api.ok("GET", f"/v1/consumers/{consumer['consumerId']}"))["name"] == "after-the-fuzz"
