"""Every HTTP request hosting makes upstream is counted by address and outcome (the middleware on
`UpstreamHttp`'s sessions), and a trace context that arrived with the message goes on upstream even
when hosting records no spans. Scraped and parsed as Prometheus reads it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from mcpgw_hosting.upstream.http import UpstreamHttp
from opentelemetry import trace

from mcpgw.contracts import UpstreamTarget
from mcpgw.devcluster import free_port
from mcpgw.runtime import tracing
from tests.runtime.test_metrics import scrape, value
from tests.upstream.raw_server import RawUpstream

NAME = "mcpgw_upstream_request_duration_seconds"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "t", "version": "1"}}}


async def counts(http: aiohttp.ClientSession, upstream_http: UpstreamHttp, address: str) -> dict[str, float]:
    found = await scrape(http, lambda: [upstream_http.telemetry.timings.family()])
    outcomes = {s.labels["outcome"] for s in found.get(NAME, []) if s.labels.get("upstream") == address}
    found_counts = {o: value(found, NAME, NAME + "_count", upstream=address, outcome=o) for o in outcomes}
    return {o: n for o, n in found_counts.items() if n}


async def test_upstream_requests_are_counted_by_address_and_outcome(upstream: RawUpstream,
                                                                    http: aiohttp.ClientSession) -> None:
    assert not tracing.enabled()  # the pass-through below is the untraced path's
    upstream_http = UpstreamHttp(connect_timeout=2, read_timeout=5, per_host=8)
    address = upstream.url.split("/")[2]
    refused = f"127.0.0.1:{free_port()}"
    client = upstream_http.client(UpstreamTarget(address=address))
    try:
        # A message handled with a caller's trace context: the upstream is told it.
        with tracing.span(trace.get_tracer("test"), "hosting.call", parent={"traceparent": TRACEPARENT}):
            async with client.post(upstream.url, json=INITIALIZE) as resp:
                assert resp.status == 200
                session: dict[str, Any] = {"Mcp-Session-Id": resp.headers["Mcp-Session-Id"]}
        assert upstream.calls("initialize")[-1].headers["traceparent"] == TRACEPARENT
        async with client.get(f"http://{address}/elsewhere") as resp:
            assert resp.status == 404
        try:
            async with client.post(f"http://{refused}/mcp", json=INITIALIZE):
                raise AssertionError("nothing listens there")
        except aiohttp.ClientConnectionError:
            pass
        # Cancelled before the answer's headers (the client gave up): not the upstream's latency.
        upstream.mode = "hang"
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
        hanging = asyncio.ensure_future(client.post(upstream.url, json=call, headers=session))
        await asyncio.wait_for(upstream.called.wait(), 5)
        hanging.cancel()
        await asyncio.gather(hanging, return_exceptions=True)

        assert await counts(http, upstream_http, address) == {"2xx": 1, "4xx": 1}
        assert await counts(http, upstream_http, refused) == {"failed": 1}
        # Labels are the address only: no path, no session id.
        found = await scrape(http, lambda: [upstream_http.telemetry.timings.family()])
        labels = {(s.labels["upstream"], s.labels["outcome"]) for s in found[NAME] if s.name == NAME + "_count"}
        assert {u for u, _ in labels} == {address, refused}
        assert {o for _, o in labels} == {"failed", "1xx", "2xx", "3xx", "4xx", "5xx"}
    finally:
        await upstream_http.close()
