"""A relayed request's SSE stream is resumable (2025-11-25): a client that lost it picks it up again."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.cluster import Cluster
from tests.edge.raw import ACCEPT_BOTH, Raw
from tests.upstream.raw_server import RawUpstream


async def _event(stream: aiohttp.ClientResponse) -> dict[str, str]:
    """The next SSE event's fields (comments skipped)."""
    fields: dict[str, str] = {}
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), 5)).decode()
        if line in ("\n", "\r\n", ""):
            if fields or line == "":
                return fields
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.rstrip("\r\n").partition(":")
        fields[name] = value.removeprefix(" ")


def _headers(client: Raw, **extra: str) -> dict[str, str]:
    return {"Mcp-Session-Id": client.session_id or "", "MCP-Protocol-Version": client.version or "", **extra}


async def test_a_client_that_lost_the_stream_resumes_it_with_last_event_id(
        cluster: Cluster, upstream: RawUpstream, http: aiohttp.ClientSession) -> None:
    await cluster.host("slow-stream", upstream.url)
    url = cluster.mcp_url("slow-stream")
    client = Raw(http, url)
    await client.initialize()
    upstream.mode = "stream"
    call: dict[str, Any] = {"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                            "params": {"name": "whoami", "arguments": {}, "_meta": {"progressToken": "p1"}}}
    async with http.post(url, json=call, headers=_headers(client, Accept=ACCEPT_BOTH)) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        primed = await _event(stream)
        assert primed["data"] == "" and primed["id"].endswith("_0")  # the priming event
        progress = await _event(stream)
        assert json.loads(progress["data"])["method"] == "notifications/progress"
        last_id = progress["id"]
    # The client went away; the call goes on, and its answer waits for the client to come back.
    upstream.release.set()

    refused = await http.get(url, headers=_headers(client, Accept="text/event-stream", **{"Last-Event-ID": "nope"}))
    assert refused.status == 404
    other = Raw(http, url)
    await other.initialize()
    stolen = await http.get(url, headers=_headers(other, Accept="text/event-stream", **{"Last-Event-ID": last_id}))
    assert stolen.status == 404  # a stream is resumed only in its own session

    async with http.get(url, headers=_headers(client, Accept="text/event-stream",
                                              **{"Last-Event-ID": last_id})) as resumed:
        assert resumed.status == 200
        final = await _event(resumed)
        assert json.loads(final["data"]) == {"jsonrpc": "2.0", "id": 5, "result": {
            "content": [{"type": "text", "text": "done after a while"}]}}
        assert final["id"] == last_id.rsplit("_", 1)[0] + "_2"
        assert await resumed.content.read() == b""  # the stream ends with the answer


async def test_older_clients_get_a_plain_stream(cluster: Cluster, upstream: RawUpstream,
                                                http: aiohttp.ClientSession) -> None:
    await cluster.host("plain-stream", upstream.url)
    url = cluster.mcp_url("plain-stream")
    client = Raw(http, url)
    await client.initialize("2025-06-18")
    upstream.mode = "stream"
    upstream.release.set()
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
    async with http.post(url, json=call, headers=_headers(client, Accept=ACCEPT_BOTH)) as stream:
        events = [await _event(stream), await _event(stream)]
    assert all("id" not in e for e in events)  # no ids, no priming event with empty data
    assert json.loads(events[1]["data"])["id"] == 1
