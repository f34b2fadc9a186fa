"""Legacy HTTP+SSE: the endpoint event, 202 for POSTs, answers on the stream — across replicas."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.util import eventually

TIMEOUT = aiohttp.ClientTimeout(total=10)


async def _events(stream: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, str]]:
    event, data = "message", []
    async for raw in stream.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield event, "\n".join(data)
            event, data = "message", []


async def _post(http: aiohttp.ClientSession, url: str, message: Any) -> tuple[int, str]:
    async with http.post(url, json=message, timeout=TIMEOUT) as resp:
        return resp.status, await resp.text()


async def test_sse_messages_posted_to_another_replica_reach_the_stream(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    await cluster.add_edge()
    async with aiohttp.ClientSession() as http, \
            http.get(cluster.mcp_url("petstore") + "/sse", headers={"Accept": "text/event-stream"}) as stream:
        assert stream.status == 200
        events = _events(stream)
        kind, endpoint = await anext(events)
        assert kind == "endpoint" and endpoint.startswith("message?session_id=")
        session_id = endpoint.split("=", 1)[1]

        # POST to the *other* replica: its answer must travel to the stream over NATS.
        message_url = cluster.mcp_url("petstore", index=1) + "/" + endpoint
        status, text = await _post(http, message_url, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                                       "params": {"protocolVersion": "2024-11-05"}})
        assert (status, text) == (202, "Accepted")
        kind, data = await anext(events)
        assert kind == "message"
        assert json.loads(data)["result"]["protocolVersion"] == "2024-11-05"

        assert (await _post(http, message_url, {"jsonrpc": "2.0", "method": "notifications/initialized"}))[0] == 202
        status, _ = await _post(http, message_url, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                                    "params": {"name": "get_pet", "arguments": {"id": 5}}})
        assert status == 202
        answer = json.loads((await anext(events))[1])
        assert answer["id"] == 2 and answer["result"]["isError"] is False
        assert backend.last.path == "/pets/5"

        # errors of the POST itself are answered on the POST
        local_url = cluster.mcp_url("petstore") + "/" + endpoint
        async with http.post(local_url, data=b"{nope", headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 400 and (await resp.json())["error"]["code"] == -32700
        async with http.post(cluster.mcp_url("petstore") + "/message", json={}) as resp:
            assert resp.status == 400
        async with http.post(cluster.mcp_url("petstore") + "/message?session_id=" + "0" * 32, json={}) as resp:
            assert resp.status == 404

    # Closing the stream ends the session, on every replica.
    async with aiohttp.ClientSession() as http:
        probe = cluster.mcp_url("petstore", index=1) + "/message?session_id=" + session_id

        async def status_now() -> int:
            return (await _post(http, probe, {"jsonrpc": "2.0", "id": 3, "method": "ping"}))[0]

        await eventually(status_now, lambda s: s == 404, within=3.0)
