"""Servers of hundreds of imported tools, end to end: admin API import, the official SDK lists every
tool (page by page) through the edge and calls one, toolexec reaches the backend.

Each server's compiled tools are larger than one NATS message, so every lookup reply (registry ->
edge, registry -> toolexec) travels compressed and in chunks.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client

from tests.cluster import Cluster, running_cluster
from tests.specs import raw

PAGE = 100  # tools per tools/list page at the edge, so the SDK has to follow cursors


@dataclass(frozen=True)
class Case:
    server: str
    spec: str
    # A tool without an outputSchema: the SDK checks structured results against one, and the
    # recording backend answers every call with the same small JSON object.
    tool: str
    arguments: dict[str, Any]
    method: str
    path: str  # as sent on the wire (percent-encoded)
    query: dict[str, str] = field(default_factory=dict)


CASES = [
    # Slack's Web API has no path parameters: a query argument instead.
    Case("slack", "slack_web_openapi_v2.swagger.json", "pins_list", {"channel": "C42"},
         "GET", "/pins.list", {"channel": "C42"}),
    Case("twilio", "twilio_api_v2010.json", "DeleteCall", {"AccountSid": "AC1", "Sid": "CA2"},
         "DELETE", "/2010-04-01/Accounts/AC1/Calls/CA2.json"),
    # The largest: its lookup reply (~30 MB of JSON, ~4 MB compressed) travels in chunks.
    Case("k8s", "kubernetes-1.12.swagger.json", "connectGetNamespacedPodExec",
         {"namespace": "default", "name": "web-0", "command": "ls", "stdout": True},
         "GET", "/api/v1/namespaces/default/pods/web-0/exec", {"command": "ls", "stdout": "true"}),
]


@dataclass
class Recorder:
    url: str = ""
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


@asynccontextmanager
async def recording_backend() -> AsyncIterator[Recorder]:
    """Answers every request with a small JSON body and records method, raw path and query."""
    recorder = Recorder()

    async def record(request: web.Request) -> web.Response:
        recorder.seen.append((request.method, request.raw_path.split("?", 1)[0], dict(request.query)))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    recorder.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield recorder
    finally:
        await runner.cleanup()


@pytest.fixture
async def paged_cluster(nats_url: str, redis_url: str, root: str) -> AsyncIterator[Cluster]:
    async with running_cluster(nats_url, redis_url, root, tools_page_size=PAGE) as cluster:
        yield cluster


async def _import(cluster: Cluster, case: Case, base_url: str) -> list[str]:
    server_id = await cluster.create_server(case.server)
    started = time.perf_counter()
    status, body = await cluster.admin("POST", f"/v1/mcp-servers/{server_id}/tools/import?baseUrl={base_url}",
                                       data=raw(case.spec), content_type="application/json")
    assert status == 200, body
    data = body["data"]
    assert data["applied"] is True
    assert len(data["tools"]) + len(data["skipped"]) == data["operations"]  # OPTIONS/HEAD are skipped
    print(f"\n{case.spec}: {len(data['tools'])} tools applied in {time.perf_counter() - started:.1f}s")
    tools: list[str] = data["tools"]
    return tools


async def _list_all(session: ClientSession) -> list[str]:
    names: list[str] = []
    cursor: str | None = None
    for _ in range(100):  # bounded: a cursor that never ends is a failure, not a hang
        page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        assert len(page.tools) <= PAGE
        names += [tool.name for tool in page.tools]
        cursor = page.next_cursor
        if cursor is None:
            return names
    raise AssertionError("tools/list kept returning a next cursor")


async def test_large_imports_list_and_call_through_the_edge(paged_cluster: Cluster) -> None:
    cluster = paged_cluster
    async with recording_backend() as backend:
        imported = {case.server: await _import(cluster, case, backend.url) for case in CASES}
        for case in CASES:
            async with streamable_http_client(cluster.mcp_url(case.server)) as (read, write), \
                    ClientSession(read, write) as session:
                await session.initialize()
                names = await _list_all(session)
                assert names == imported[case.server] and len(names) > PAGE
                result = await session.call_tool(case.tool, case.arguments)
                assert not result.is_error, result.content
                assert json.loads("".join(getattr(c, "text", "") for c in result.content)) == {"ok": True}
                assert backend.seen[-1] == (case.method, case.path, case.query)
