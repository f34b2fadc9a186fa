"""A property-based fuzzer over the MCP endpoint's JSON-RPC surface, against a real cluster.

Hypothesis draws POSTs (tests/fuzz/messages.py) for a REST server and a hosted one, on Streamable
HTTP and on a legacy SSE session, in either era. Whatever it sends: no answer is a 5xx, every
answer is well-formed JSON-RPC with the code its fault calls for, nothing is logged as a failure,
and a normal call still works afterwards. The examples are fixed (derandomized) and bounded, so a
run is the same on every machine; Hypothesis runs in a thread of its own while the services keep
the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import ACCEPT_BOTH, Raw
from tests.fuzz.messages import HANDSHAKE_VERSIONS, MODERN, Post, post
from tests.logs import failures
from tests.upstream.raw_server import RawUpstream

EXAMPLES = 400
TIMEOUT = aiohttp.ClientTimeout(total=20)
SSE_WAIT = 3.0  # an answer streamed as SSE is read this long at most (a subscription never ends)
SERVERS = ("petstore", "hosted")


@dataclass
class Target:
    """The cluster as the fuzzer sees it: servers, their sessions, legacy SSE endpoints."""

    cluster: Cluster
    http: aiohttp.ClientSession
    server_ids: tuple[str, ...] = ()
    sessions: dict[tuple[str, str], str] = field(default_factory=dict)
    legacy: dict[str, str] = field(default_factory=dict)
    streamed: list[bytes] = field(default_factory=list)  # what the legacy streams carried


def _problems_of_message(message: Any, *, answer_only: bool) -> list[str]:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return [f"not a JSON-RPC 2.0 message: {str(message)[:200]}"]
    if "method" in message and not answer_only:
        return [] if isinstance(message["method"], str) else [f"method not a string: {message}"]
    if "id" not in message or ("result" in message) == ("error" in message):
        return [f"not an answer (id, and result or error): {str(message)[:200]}"]
    if "error" in message:
        error = message["error"]
        if not isinstance(error, dict) or not isinstance(error.get("message"), str) \
                or not isinstance(error.get("code"), int) or not -32768 <= error["code"] <= -32000:
            return [f"malformed error: {str(error)[:200]}"]
    return []


def _expected_code(sent: Post, status: int) -> int | None:
    """The code a body that is not a message must get, once its headers pass."""
    if status != 400 or any(name in sent.headers for name in ("Content-Type", "Accept", "Origin")):
        return None
    return {"not json": -32700, "too deep": -32600}.get(sent.kind)


async def _read_sse(resp: aiohttp.ClientResponse) -> list[Any]:
    messages: list[Any] = []
    data = b""
    try:
        async with asyncio.timeout(SSE_WAIT):
            async for line in resp.content:
                if line.startswith(b"data:"):
                    data += line[5:].strip()
                elif line.strip() == b"" and data:
                    messages.append(json.loads(data))
                    data = b""
                    if "method" not in messages[-1]:
                        break  # the answer: a request stream ends with it
    except TimeoutError:
        pass
    return messages


def _headers(target: Target, sent: Post) -> dict[str, str]:
    headers = {"Accept": ACCEPT_BOTH, "Content-Type": "application/json"}
    if sent.era in HANDSHAKE_VERSIONS:
        headers["Mcp-Session-Id"] = target.sessions[(sent.server, sent.era)]
        headers["MCP-Protocol-Version"] = sent.era
    elif sent.era == "modern":
        headers["MCP-Protocol-Version"] = MODERN
    elif sent.era == "unknown session":
        headers["Mcp-Session-Id"] = "0" * 32
    elif sent.era == "unknown version":
        headers["MCP-Protocol-Version"] = "2099-01-01"
    for name, value in sent.headers.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


async def _send(target: Target, sent: Post) -> list[str]:
    """POST one drawn request; what is wrong with the answer, if anything."""
    url = target.legacy[sent.server] if sent.legacy else target.cluster.mcp_url(sent.server)
    async with target.http.post(url, data=sent.body, headers=_headers(target, sent), timeout=TIMEOUT,
                                skip_auto_headers=("Content-Type",)) as resp:
        status, kind = resp.status, resp.content_type
        if kind == "text/event-stream":
            messages = await _read_sse(resp)
            body = b""
        else:
            body = await resp.read()
    where = f"HTTP {status} for {sent}"
    if status >= 500:
        return [f"{where}: {body[:300]!r}"]
    if kind == "text/event-stream":
        return [f"{where}: {p}" for m in messages for p in _problems_of_message(m, answer_only=False)]
    if status == 202 or not body:  # accepted (the legacy transport says so in text), or nothing to say
        return []
    if kind != "application/json":
        return [f"{where}: a {kind} body"]
    answer = json.loads(body)
    problems = [p for m in (answer if isinstance(answer, list) else [answer])
                for p in _problems_of_message(m, answer_only=True)]
    expected = _expected_code(sent, status)
    if expected is not None and not problems and answer["error"]["code"] != expected:
        problems.append(f"code {answer['error']['code']}, expected {expected}")
    if sent.kind == "too deep" and expected is not None and "nesting too deep" not in answer["error"]["message"]:
        problems.append(f"not said to nest too deep: {answer['error']['message']}")
    if status == 200 and isinstance(answer, dict) and len(sent.request_ids) == 1 and body.startswith(b"{") \
            and not sent.legacy and answer.get("id") != sent.request_ids[0]:
        problems.append(f"answer id {answer.get('id')!r} for request {sent.request_ids[0]!r}")
    return [f"{where}: {p}" for p in problems]


async def _drain(stream: aiohttp.ClientResponse, target: Target) -> None:
    async for line in stream.content:
        if line.startswith(b"data:"):
            target.streamed.append(line[5:].strip())


@pytest.fixture
async def target(cluster: Cluster, backend: Backend, upstream: RawUpstream,
                 http: aiohttp.ClientSession) -> AsyncIterator[Target]:
    petstore = await cluster.create_server("petstore", petstore_yaml(backend.url))
    hosted = await cluster.host("hosted", upstream.url)
    target = Target(cluster, http, (petstore, hosted))
    for server in SERVERS:
        for version in HANDSHAKE_VERSIONS:
            client = Raw(http, cluster.mcp_url(server))
            await client.initialize(version)
            assert client.session_id is not None
            target.sessions[(server, version)] = client.session_id
    async with aiohttp.ClientSession() as streams:
        drains = []
        for server in SERVERS:
            stream = await streams.get(cluster.mcp_url(server) + "/sse", headers={"Accept": "text/event-stream"})
            async for line in stream.content:
                if line.startswith(b"data:"):
                    target.legacy[server] = f"{cluster.mcp_url(server)}/{line[5:].strip().decode()}"
                    break
            opened = Raw(http, target.legacy[server])
            await opened.send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}}})
            await opened.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            drains.append(asyncio.create_task(_drain(stream, target)))
        yield target
        for task in drains:
            task.cancel()


async def test_no_request_breaks_the_mcp_endpoint(target: Target, caplog: pytest.LogCaptureFixture,
                                                  upstream: RawUpstream) -> None:
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()
    found: list[str] = []

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(post(SERVERS, target.server_ids))
    def one(sent: Post) -> None:
        problems = asyncio.run_coroutine_threadsafe(_send(target, sent), loop).result(TIMEOUT.total)
        found.extend(problems)
        assert not problems, problems

    await asyncio.to_thread(one)
    assert found == []
    for data in target.streamed:
        assert _problems_of_message(json.loads(data), answer_only=False) == [], data
    logged = failures(caplog)
    assert logged == [], '\n\n'.join(logged)

    # Every service still answers: a REST call (edge, auth, registry, toolexec), a hosted one.
    for server, tool, arguments in (("petstore", "get_pet", {"id": 3}), ("hosted", "whoami", {})):
        client = Raw(target.http, target.cluster.mcp_url(server))
        await client.initialize()
        answer = await client.call("tools/call", {"name": tool, "arguments": arguments})
        assert answer.status == 200 and answer.json["result"].get("isError") is not True, answer.text
    status, health = await target.cluster.admin("GET", "/healthz")
    assert status == 200, health
