"""Independent clients of both MCP eras against the gateway: each lists and calls a tool on a REST
server and on a hosted server, both asking for a consumer key, once with the key and once without.

With the key a client must negotiate the revision it is known to speak and get the tool's answer;
without it, a clean 401 (with a `WWW-Authenticate` challenge) that the client reports as an error
at once, never a hang.

The clients: the official Python SDK 1.x in three releases (each in its own venv, as a subprocess;
one release per handshake revision), the SDK 2.x `Client` in auto mode (2026-07-28) and in legacy
mode, the official TypeScript SDK (`Client` + `StreamableHTTPClientTransport`), and MCP Inspector's
CLI with `--protocol-era auto` and `legacy`. One gateway serves the module; every run of every client
goes out at once (subprocesses a few at a time) when the first test asks for the matrix, and each
test then reads its own cell. The whole matrix is also written to `.run/clients/matrix.md` (and
`matrix.json`, with every HTTP status each client got).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.backends import petstore_yaml, run_backend
from tests.clients.install import SDK1_SSE, SDK1_VERSIONS, TS_SDK_VERSION, VENVS, Installed
from tests.cluster import running_cluster
from tests.node import node_env, node_program
from tests.upstream.fixture_server import running_fixture
from tests.util import run_to_end

HERE = Path(__file__).resolve().parent
RUN_TIMEOUT = 30.0
SUBPROCESSES = 4  # client processes at once (each costs a second of CPU to start)

REST_TOOLS = ["add_pet", "broken", "get_pet", "slow"]
HOSTED_TEXT = "This is a simple text response for testing."
MODERN = "2026-07-28"

# client -> the revision it must negotiate with the gateway
CLIENTS: dict[str, str] = {
    **{f"sdk-{v}{'-sse' if v in SDK1_SSE else ''}": revision for v, revision in SDK1_VERSIONS.items()},
    "sdk-2-auto": MODERN,
    "sdk-2-legacy": "2025-11-25",
    f"ts-sdk-{TS_SDK_VERSION}": "2025-11-25",
    "inspector-auto": MODERN,
    "inspector-legacy": "2025-11-25",
}
KINDS = ("rest", "hosted")
ACCESS = ("key", "no-key")
CELLS = [(c, k, a) for c in CLIENTS for k in KINDS for a in ACCESS]
CALLS: dict[str, tuple[str, dict[str, Any]]] = {"rest": ("get_pet", {"id": 5}), "hosted": ("test_simple_text", {})}


@dataclass
class Outcome:
    """What one client run reported. `http` is every HTTP response it got: [method, status, WWW-Authenticate]."""

    protocol: str | None = None
    tools: list[str] = field(default_factory=list)
    text: str = ""
    is_error: bool = False
    error: str | None = None
    http: list[list[Any]] = field(default_factory=list)
    seconds: float = 0.0
    output: str = ""

    def __str__(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v not in (None, "", [])}, indent=1)[:6000]


@dataclass
class Gateway:
    urls: dict[str, str]
    key: str


@pytest.fixture(scope="module")
async def gateway(nats_url: str, redis_url: str) -> AsyncIterator[Gateway]:
    """One cluster for the module: `rest` (the pet store) and `hosted` (the fixture MCP server), both
    with consumer authentication on, and a consumer granted both."""
    async with running_cluster(nats_url, redis_url, "t" + uuid.uuid4().hex[:12]) as cluster, \
            run_backend() as backend, running_fixture() as fixture:
        rest = await cluster.create_server("rest", petstore_yaml(backend.url), consumerAuthInfo={"enable": True})
        hosted = await cluster.host("hosted", fixture.url, consumerAuthInfo={"enable": True})
        consumer, key = await cluster.create_consumer("clients")
        await cluster.grant(consumer, rest)
        await cluster.grant(consumer, hosted)
        yield Gateway({kind: cluster.mcp_url(kind) for kind in KINDS}, key)


async def _subprocess(args: list[str], env: dict[str, str], limit: asyncio.Semaphore) -> tuple[int, str, float]:
    """Run a client to completion within RUN_TIMEOUT: exit code, stdout (stderr appended), seconds."""
    async with limit:
        started = time.monotonic()
        code, text, err = await run_to_end(args, RUN_TIMEOUT, env=env)
        if err.strip():
            text += "\n--- stderr\n" + err[-3000:]
        return code, text, time.monotonic() - started


def _from_json(code: int, output: str, seconds: float) -> Outcome:
    """An Outcome from a script that prints one JSON object as its first line."""
    try:
        data = json.loads(output.splitlines()[0])
    except (IndexError, ValueError):
        return Outcome(error=f"no JSON from the client (exit {code})", output=output, seconds=seconds)
    return Outcome(protocol=data.get("protocol"), tools=data.get("tools") or [], text=data.get("text") or "",
                   is_error=bool(data.get("is_error", data.get("isError"))), error=data.get("error"),
                   http=data.get("http") or [], seconds=seconds, output=output)


def _key_env(key: str | None, env: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if env is None else env)
    env.pop("MCPGW_KEY", None)
    if key:
        env["MCPGW_KEY"] = key
    return env


async def run_sdk1(python: Path, sse: bool, url: str, key: str | None, kind: str,
                   limit: asyncio.Semaphore) -> Outcome:
    tool, args = CALLS[kind]
    transport = ["sse", url + "/sse"] if sse else ["http", url]
    code, output, seconds = await _subprocess(
        [str(python), str(HERE / "sdk1_client.py"), *transport, tool, json.dumps(args)], _key_env(key), limit)
    return _from_json(code, output, seconds)


async def run_ts(sdk: Path, url: str, key: str | None, kind: str, limit: asyncio.Semaphore,
                 home: Path) -> Outcome:
    tool, args = CALLS[kind]
    code, output, seconds = await _subprocess(
        [node_program(), str(HERE / "ts_client.mjs"), str(sdk), url, tool, json.dumps(args)],
        _key_env(key, node_env(home)), limit)
    return _from_json(code, output, seconds)


def _describe(exc: BaseException) -> str:
    """The exception, or the leaves of an exception group (what a transport's task group raised)."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


async def run_sdk2(mode: str, url: str, key: str | None, kind: str) -> Outcome:
    """The project's own SDK 2.x `Client`, in this process."""
    tool, args = CALLS[kind]
    outcome = Outcome()

    async def record(response: httpx2.Response) -> None:
        outcome.http.append([response.request.method, response.status_code,
                             response.headers.get("www-authenticate")])

    started = time.monotonic()
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"} if key else None)
    http.event_hooks["response"].append(record)
    try:
        async with http, asyncio.timeout(RUN_TIMEOUT):
            async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
                outcome.protocol = client.protocol_version
                outcome.tools = sorted(t.name for t in (await client.list_tools()).tools)
                result = await client.call_tool(tool, args)
                outcome.text = "".join(getattr(c, "text", "") for c in result.content)
                outcome.is_error = bool(result.is_error)
    except TimeoutError:
        outcome.error = f"timeout: no answer in {RUN_TIMEOUT:g}s (a hang)"
    except Exception as exc:
        outcome.error = _describe(exc)[:2000]
    outcome.seconds = time.monotonic() - started
    return outcome


async def run_inspector(binary: Path, era: str, url: str, key: str | None, kind: str, limit: asyncio.Semaphore,
                        home: Path) -> Outcome:
    """Two runs of the CLI (it does one method per run): tools/list, then tools/call. The CLI prints
    only results, so `record_fetch.mjs`, preloaded, logs its HTTP exchanges: the negotiated revision
    is the `MCP-Protocol-Version` its tools/call carried."""
    tool, args = CALLS[kind]
    common = ["--cli", url, "--transport", "http", "--protocol-era", era, "--stored-auth-only", "--format", "json"]
    if key:
        common += ["--header", f"Authorization: Bearer {key}"]
    log = home / "fetch.jsonl"
    env = {**node_env(home), "NODE_OPTIONS": f"--import {(HERE / 'record_fetch.mjs').as_uri()}",
           "MCPGW_FETCH_LOG": str(log)}
    outcome = Outcome()

    def exchanges() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    async def run(*args: str) -> tuple[int, str]:
        code, output, seconds = await _subprocess([str(binary), *common, *args], env, limit)
        outcome.output += f"=== {' '.join(args)} (exit {code})\n{output}\n"
        outcome.seconds += seconds
        outcome.http = [[e["method"], e["status"], e["challenge"]] for e in exchanges()]
        return code, output.split("--- stderr")[0]

    code, listed = await run("--method", "tools/list")
    if code != 0:
        outcome.error = f"tools/list exit {code}"
        return outcome
    outcome.tools = sorted(set(re.findall(r'"name":\s*"([^"]+)"', listed)))
    code, called = await run("--method", "tools/call", "--tool-name", tool, "--tool-args-json", json.dumps(args))
    if code != 0:
        outcome.error = f"tools/call exit {code}"
        return outcome
    try:
        result = json.loads(called)["result"]
    except (ValueError, KeyError, TypeError):
        outcome.error = "tools/call printed no result"
        return outcome
    outcome.text = "".join(c.get("text", "") for c in result.get("content", []))
    outcome.is_error = bool(result.get("isError"))
    versions = {e["version"] for e in exchanges() if e["rpc"] in ("tools/list", "tools/call")}
    outcome.protocol = versions.pop() if len(versions) == 1 else f"mixed: {sorted(map(str, versions))}"
    return outcome


def _cell_runner(client: str, kind: str, access: str, gateway: Gateway, installed: Installed,
                 limit: asyncio.Semaphore, home: Path) -> Callable[[], Awaitable[Outcome]]:
    url, key = gateway.urls[kind], (gateway.key if access == "key" else None)

    def program(found: Path | BaseException) -> Path:
        if isinstance(found, BaseException):
            raise AssertionError(f"{client} could not be installed: {found}")
        return found

    async def run() -> Outcome:
        if client.startswith("sdk-1."):
            release = client.removeprefix("sdk-").removesuffix("-sse")
            return await run_sdk1(program(installed.sdk1[release]), release in SDK1_SSE, url, key, kind, limit)
        if client.startswith("sdk-2-"):
            return await run_sdk2(client.removeprefix("sdk-2-"), url, key, kind)
        if client.startswith("ts-sdk-"):
            return await run_ts(program(installed.ts_sdk), url, key, kind, limit, home)
        return await run_inspector(program(installed.inspector), client.removeprefix("inspector-"), url, key, kind,
                                   limit, home)
    return run


Matrix = dict[tuple[str, str, str], Outcome | BaseException]


@pytest.fixture(scope="module")
async def matrix(gateway: Gateway, installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    """Every cell, run concurrently; a cell whose client could not run at all holds the exception."""
    limit = asyncio.Semaphore(SUBPROCESSES)
    runners = [_cell_runner(*cell, gateway, installed, limit, tmp_path_factory.mktemp("home")) for cell in CELLS]
    results = await asyncio.gather(*(run() for run in runners), return_exceptions=True)
    found: Matrix = dict(zip(CELLS, results, strict=True))
    _write_table(found)
    return found


def _verdict(client: str, kind: str, access: str, outcome: Outcome | BaseException) -> str | None:
    """None when the cell is right, else what is wrong."""
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {outcome}"
    if access == "key":
        if outcome.error:
            return f"failed: {outcome.error}"
        if outcome.protocol != CLIENTS[client]:
            return f"negotiated {outcome.protocol}, expected {CLIENTS[client]}"
        if kind == "rest" and outcome.tools != REST_TOOLS:
            return f"tools {outcome.tools}"
        if kind == "hosted" and "test_simple_text" not in outcome.tools:
            return f"tools {outcome.tools}"
        expected = "pet-5" if kind == "rest" else HOSTED_TEXT
        if outcome.is_error or expected not in outcome.text:
            return f"call answered {outcome.text!r} (isError {outcome.is_error})"
        return None
    if not outcome.error:
        return "no error without a key"
    if "timeout" in outcome.error or "did not finish" in outcome.error:
        return f"hung: {outcome.error}"
    statuses = [status for _, status, _ in outcome.http]
    if client.startswith("inspector-") and outcome.error != "tools/list exit 3":
        return f"refused otherwise (the CLI's auth_required is exit 3): {outcome.error}"
    said = outcome.output if client.startswith("inspector-") else outcome.error
    if "401" not in said and "Unauthorized" not in said:
        return f"the client's error does not say it was refused (401): {outcome.error}"
    if not statuses or set(statuses) - {401}:
        return f"HTTP statuses {statuses}, expected only 401"
    if not all((challenge or "").startswith("Bearer") for _, _, challenge in outcome.http):
        return f"401 without a Bearer challenge: {outcome.http}"
    return None


def _write_table(found: Matrix) -> None:
    lines = ["| client | server | key | negotiated | seconds | result | the client's error |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for (client, kind, access), outcome in found.items():
        verdict = _verdict(client, kind, access, outcome)
        if isinstance(outcome, BaseException):
            lines.append(f"| {client} | {kind} | {access} | | | FAIL {verdict} | |")
            continue
        shown = outcome.protocol or ("401" if access == "no-key" and verdict is None else "-")
        lines.append(f"| {client} | {kind} | {access} | {shown} | {outcome.seconds:.1f} | "
                     f"{'pass' if verdict is None else 'FAIL ' + verdict.replace('|', '/')} | "
                     f"{(outcome.error or '').replace('|', '/').replace(chr(10), ' ')[:160]} |")
    VENVS.mkdir(parents=True, exist_ok=True)
    (VENVS / "matrix.md").write_text("\n".join(lines) + "\n")
    (VENVS / "matrix.json").write_text(json.dumps(
        [{"client": c, "server": k, "access": a, **({"exception": repr(o)} if isinstance(o, BaseException) else
                                                    {f: v for f, v in o.__dict__.items() if f != "output"})}
         for (c, k, a), o in found.items()], indent=1))


@pytest.mark.parametrize(("client", "kind", "access"), CELLS, ids=["-".join(cell) for cell in CELLS])
async def test_client(matrix: Matrix, client: str, kind: str, access: str) -> None:
    outcome = matrix[client, kind, access]
    verdict = _verdict(client, kind, access, outcome)
    assert verdict is None, f"{client} on the {kind} server ({access}): {verdict}\n{outcome}"

