"""Traces and metrics of the services running as real processes.

Every service is its own `python -m` process (`tests/processes.py`), exporting spans over OTLP/HTTP
to a receiver this test runs (`tests/otlp.py`: an aiohttp server decoding with `opentelemetry-proto`)
and serving /metrics on its own port. One MCP request makes one trace: the edge's HTTP and MCP
spans, the NATS hop, toolexec's work and its backend call (or hosting's upstream request), and the
registry's and auth's hops when they happen.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from itertools import pairwise

import aiohttp
import pytest
from prometheus_client.samples import Sample

from tests.backends import Backend, petstore_yaml
from tests.edge.raw import Raw
from tests.otlp import CLIENT, CONSUMER, INTERNAL, PRODUCER, SERVER, has, one
from tests.processes import Processes, running
from tests.runtime.test_metrics import samples, value
from tests.upstream.raw_server import RawUpstream


@pytest.fixture(scope="module")
async def processes(nats_url: str, redis_url: str) -> AsyncIterator[Processes]:
    async with running(nats_url, redis_url) as started:
        yield started


def _traceparent() -> tuple[str, str, str]:
    """A client's own trace context: (header, trace id, span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


HTTP = ("mcpgw-edge", "POST /mcp-servers/{name}")


async def test_one_tool_call_is_one_trace_across_the_processes(processes: Processes, backend: Backend) -> None:
    await processes.admin("POST", "/v1/mcp-servers", json={"name": "pets"})
    [server] = (await processes.admin("GET", "/v1/mcp-servers", params={"nameLike": "pets"}))["items"]
    await processes.admin("PUT", f"/v1/mcp-servers/{server['mcpServerId']}/tools", data=petstore_yaml(backend.url),
                          headers={"Content-Type": "application/yaml"})
    receiver = processes.receiver
    async with aiohttp.ClientSession() as http:
        client = Raw(http, processes.mcp_url("pets"))

        # initialize: the edge asks the registry for the server (its first request for it).
        header, init_trace, _ = _traceparent()
        client.headers = {"traceparent": header}
        await client.initialize()
        # Each process exports a span when it ends: the HTTP span is the edge's last, CONSUMER spans
        # their process's last.
        spans = await receiver.trace(init_trace, has(HTTP, ("mcpgw-registry", "process registry.edge.lookup")))
        initialize = one(spans, "mcpgw-edge", "initialize")
        # (The notifications/initialized POST sent the same traceparent: its span is beside this one.)
        [http_span] = [s for s in spans if s.span_id == initialize.parent_id]
        assert http_span.name == "POST /mcp-servers/{name}"
        ask = one(spans, "mcpgw-edge", "send registry.edge.lookup")
        answer = one(spans, "mcpgw-registry", "process registry.edge.lookup")
        assert (http_span.kind, initialize.kind, ask.kind, answer.kind) == (SERVER, SERVER, PRODUCER, CONSUMER)
        assert ask.parent_id == http_span.span_id  # the lookup came before the MCP method was known
        assert answer.parent_id == ask.span_id
        assert initialize.attributes["mcp.method.name"] == "initialize"

        # tools/call: edge -> NATS -> toolexec -> backend, in one trace under the client's span.
        header, call_trace, client_span = _traceparent()
        client.headers = {"traceparent": header}
        answer_ = await client.call("tools/call", {"name": "get_pet", "arguments": {"id": 7}}, request_id=5)
        assert not answer_.json["result"].get("isError"), answer_.text
        spans = await receiver.trace(call_trace, has(HTTP, ("mcpgw-toolexec", "process toolexec.call")))
        http_span = one(spans, "mcpgw-edge", "POST /mcp-servers/{name}")
        mcp = one(spans, "mcpgw-edge", "tools/call get_pet")
        send = one(spans, "mcpgw-edge", "send toolexec.call")
        process = one(spans, "mcpgw-toolexec", "process toolexec.call")
        execute = one(spans, "mcpgw-toolexec", "execute_tool get_pet")
        get = one(spans, "mcpgw-toolexec", "GET")
        chain = [http_span, mcp, send, process, execute, get]
        assert [s.kind for s in chain] == [SERVER, SERVER, PRODUCER, CONSUMER, INTERNAL, CLIENT]
        assert http_span.parent_id == client_span
        for parent, child in pairwise(chain):
            assert child.parent_id == parent.span_id, (parent.name, child.name)
        assert http_span.attributes["http.request.method"] == "POST"
        assert http_span.attributes["http.route"] == "/mcp-servers/{name}"
        assert http_span.attributes["http.response.status_code"] == 200
        assert mcp.attributes["mcp.method.name"] == "tools/call"
        assert mcp.attributes["gen_ai.tool.name"] == "get_pet"
        assert mcp.attributes["gen_ai.operation.name"] == "execute_tool"
        assert mcp.attributes["jsonrpc.request.id"] == "5"
        assert mcp.attributes["mcp.session.id"] == client.session_id
        assert send.attributes["messaging.system"] == "nats"
        assert send.attributes["messaging.operation.type"] == "send"
        assert process.attributes["messaging.operation.type"] == "process"
        assert process.attributes["messaging.consumer.group.name"] == "toolexec"
        assert get.attributes["http.request.method"] == "GET"
        assert get.attributes["http.response.status_code"] == 200
        assert get.attributes["url.full"] == f"{backend.url}/pets/7"
        assert get.attributes["server.port"] == int(backend.url.rsplit(":", 1)[1])
        assert not any(s.error for s in chain)
        # The backend was told its caller's span.
        assert backend.last.headers["traceparent"].split("-")[2] == get.span_id

        # tools/list, and failures: a backend's 500 and a tool the server does not have.
        header, list_trace, _ = _traceparent()
        client.headers = {"traceparent": header}
        await client.call("tools/list")
        spans = await receiver.trace(list_trace, has(HTTP))
        assert one(spans, "mcpgw-edge", "tools/list").parent_id == one(spans, "mcpgw-edge",
                                                                       "POST /mcp-servers/{name}").span_id

        header, broken_trace, _ = _traceparent()
        client.headers = {"traceparent": header}
        await client.call("tools/call", {"name": "broken", "arguments": {}})
        spans = await receiver.trace(broken_trace, has(HTTP, ("mcpgw-toolexec", "process toolexec.call")))
        mcp = one(spans, "mcpgw-edge", "tools/call broken")
        assert mcp.error and mcp.attributes["error.type"] == "tool_error"
        get = one(spans, "mcpgw-toolexec", "GET")
        assert get.error and get.attributes["error.type"] == "500"

        header, unknown_trace, _ = _traceparent()
        client.headers = {"traceparent": header}
        await client.call("tools/call", {"name": "nope", "arguments": {}})
        spans = await receiver.trace(unknown_trace, has(HTTP))
        mcp = one(spans, "mcpgw-edge", "tools/call")  # no tool name a client made up in a span name
        assert mcp.error and mcp.attributes["error.type"] == "-32602"
        assert mcp.attributes["rpc.response.status_code"] == "-32602"


async def test_a_trace_context_in_meta_is_the_parent_and_auth_is_a_hop(processes: Processes,
                                                                      backend: Backend) -> None:
    data = await processes.admin("POST", "/v1/mcp-servers", json={"name": "secure-pets",
                                                                   "consumerAuthInfo": {"enable": True}})
    server_id = data["mcpServerId"]
    await processes.admin("PUT", f"/v1/mcp-servers/{server_id}/tools", data=petstore_yaml(backend.url),
                          headers={"Content-Type": "application/yaml"})
    consumer = await processes.admin("POST", "/v1/consumers", json={
        "name": "tracer", "apikeyIdentityConfig": {"type": "Apikey", "apikeySource": {"source": "Default"},
                                                   "credentials": [{"generateMode": "System"}]}})
    key = consumer["apikeyIdentityConfig"]["credentials"][0]["apikey"]
    await processes.admin("POST", "/v1/authorization-rules", json={"authorizationRules": [{
        "consumerId": consumer["consumerId"], "resourceType": "MCP", "resourceIdentifier": {"resourceId": server_id},
        "expireMode": "LongTerm"}]})
    async with aiohttp.ClientSession() as http:
        client = Raw(http, processes.mcp_url("secure-pets"))
        header, http_trace, _ = _traceparent()
        client.headers = {"Authorization": f"Bearer {key}", "traceparent": header}
        await client.initialize()
        # The consumer was verified by auth, in the trace of the request that needed it.
        spans = await processes.receiver.trace(http_trace, has(HTTP, ("mcpgw-auth", "process auth.verify")))
        assert one(spans, "mcpgw-auth", "process auth.verify").parent_id == \
            one(spans, "mcpgw-edge", "send auth.verify").span_id

        meta, meta_trace, meta_span = _traceparent()
        header, other_trace, _ = _traceparent()
        client.headers["traceparent"] = header
        await client.call("tools/call", {"name": "get_pet", "arguments": {"id": 1}, "_meta": {"traceparent": meta}})
        spans = await processes.receiver.trace(meta_trace, has(("mcpgw-toolexec", "process toolexec.call"),
                                                               ("mcpgw-edge", "tools/call get_pet")))
        mcp = one(spans, "mcpgw-edge", "tools/call get_pet")
        assert mcp.parent_id == meta_span
        # The HTTP request's own span stays in its trace, linked from the MCP span.
        http_spans = await processes.receiver.trace(other_trace, has(HTTP))
        assert mcp.links == [one(http_spans, "mcpgw-edge", "POST /mcp-servers/{name}").span_id]


async def test_every_process_serves_prometheus_metrics_on_its_port(processes: Processes) -> None:
    found: dict[str, dict[str, list[Sample]]] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        # The edge asks the registry about a server it does not know: one lookup each side, at least.
        missing = Raw(http, processes.mcp_url("no-such-server-" + secrets.token_hex(4)))
        answer = await missing.send({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session=False)
        assert answer.status == 404
        for name, port in processes.metrics_ports.items():
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200, name
                found[name] = samples(await resp.text())
    for name, families in found.items():
        assert value(families, "process_cpu_seconds", "process_cpu_seconds_total") > 0, name
        assert "mcpgw_nats_request_duration_seconds" in families, name
    assert "mcpgw_edge_request_duration_seconds" in found["edge"]
    assert "mcpgw_toolexec_call_duration_seconds" in found["toolexec"]
    assert "mcpgw_auth_decisions" in found["auth"]
    assert "mcpgw_nats_served_duration_seconds" in found["registry"]
    served = "mcpgw_nats_served_duration_seconds"
    assert value(found["registry"], served, served + "_count", operation="registry.edge.lookup", outcome="ok") >= 1
    asked = "mcpgw_nats_request_duration_seconds"
    assert value(found["edge"], asked, asked + "_count", operation="registry.edge.lookup", outcome="ok") >= 1


async def test_a_hosted_call_traces_the_upstream_request_and_counts_it(processes: Processes,
                                                                       upstream: RawUpstream) -> None:
    address = upstream.url.split("/")[2]
    [service_id] = (await processes.admin("POST", "/v1/services", json={
        "sourceType": "VIP", "serviceConfigs": [{"name": "raw", "addresses": [address]}]}))["serviceIds"]
    await processes.admin("POST", "/v1/mcp-servers", json={
        "name": "hosted", "type": "RealMCP", "createFromType": "ApiGatewayMcpHosting", "protocol": "StreamableHTTP",
        "exposedUriPath": "/mcp", "backendConfig": {"scene": "SingleService",
                                                    "services": [{"serviceId": service_id, "weight": 100}]}})
    async with aiohttp.ClientSession() as http:
        client = Raw(http, processes.mcp_url("hosted"))
        await client.initialize()
        header, call_trace, client_span = _traceparent()
        client.headers = {"traceparent": header}
        answer = await client.call("tools/call", {"name": "whoami", "arguments": {}}, request_id=9)
        assert not answer.json["result"].get("isError"), answer.text

        # The upstream was told hosting's CLIENT span, in the client's trace: its span can join it.
        sent = upstream.calls("tools/call")[-1].headers["traceparent"].split("-")
        assert sent[1] == call_trace
        spans = await processes.receiver.trace(call_trace, lambda found: any(s.span_id == sent[2] for s in found)
                                               and has(HTTP)(found))
        [post] = [s for s in spans if s.span_id == sent[2]]
        assert (post.service, post.name, post.kind) == ("mcpgw-hosting", "POST", CLIENT)
        assert post.attributes["http.request.method"] == "POST"
        assert post.attributes["server.address"] == "127.0.0.1"
        assert post.attributes["server.port"] == int(address.rsplit(":", 1)[1])
        assert post.attributes["url.scheme"] == "http"
        assert post.attributes["url.full"] == upstream.url
        assert post.attributes["http.response.status_code"] == 200
        assert not post.error
        # Its ancestors, up to the client's own span: hosting's NATS hop, the edge's.
        by_id = {s.span_id: s for s in spans}
        chain = [post]
        while chain[-1].parent_id in by_id:
            chain.append(by_id[chain[-1].parent_id])
        assert [(s.service, s.name, s.kind) for s in reversed(chain)] == [
            ("mcpgw-edge", "POST /mcp-servers/{name}", SERVER),
            ("mcpgw-edge", "tools/call", SERVER),  # the edge does not know a hosted server's tools
            ("mcpgw-edge", "send hosting.call", PRODUCER),
            ("mcpgw-hosting", "process hosting.call", CONSUMER),
            ("mcpgw-hosting", "POST", CLIENT),
        ]
        assert chain[-1].parent_id == client_span

        async with http.get(processes.metrics_url("hosting")) as resp:
            found = samples(await resp.text())
    name = "mcpgw_upstream_request_duration_seconds"
    # initialize, notifications/initialized and the call at least, each answered 2xx.
    assert value(found, name, name + "_count", upstream=address, outcome="2xx") >= 3
    assert value(found, name, name + "_count", upstream=address, outcome="failed") == 0
