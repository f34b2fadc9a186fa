"""A trace started in the host application continues through the gateway to the backend (SEP-414).

The client puts W3C trace context in a request's `_meta`; the backend sees the same trace id in
its `traceparent` header, in either protocol era. (With no exporter configured the gateway records
nothing, but passes the context on.)
"""

from __future__ import annotations

import aiohttp

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def test_trace_context_in_meta_reaches_the_backend_in_both_eras(
        cluster: Cluster, backend: Backend, http: aiohttp.ClientSession) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    url = cluster.mcp_url("petstore")

    legacy = Raw(http, url)
    await legacy.initialize()
    await legacy.call("tools/call", {"name": "get_pet", "arguments": {"id": 1},
                                     "_meta": {"traceparent": TRACEPARENT, "tracestate": "vendor=1"}})
    assert backend.last.headers["traceparent"].split("-")[1] == TRACE_ID

    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}, "traceparent": TRACEPARENT}
    modern = await Raw(http, url).send(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_pet", "arguments": {"id": 2},
                                                                       "_meta": meta}},
        headers={"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "get_pet"})
    assert modern.status == 200, modern.text
    assert backend.last.path == "/pets/2"
    assert backend.last.headers["traceparent"].split("-")[1] == TRACE_ID
