"""toolexec's /metrics: tool calls by outcome, backend calls by backend and outcome, its snapshot cache."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from mcpgw.devcluster import free_port
from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.runtime.test_metrics import scrape, value

UNREACHABLE_YAML = """\
server:
  name: gone
tools:
- name: ping
  description: A backend nobody listens to
  requestTemplate:
    url: "http://127.0.0.1:{port}/ping"
    method: GET
"""


async def test_calls_backends_and_the_cache_are_counted(cluster: Cluster, http: aiohttp.ClientSession,
                                                        backend: Backend) -> None:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    dead = free_port()
    await cluster.create_server("gone", UNREACHABLE_YAML.format(port=dead))
    pets = Raw(http, cluster.mcp_url("petstore"))
    await pets.initialize()
    for n in range(2):
        assert not (await pets.call("tools/call", {"name": "get_pet", "arguments": {"id": n}})).json["result"].get(
            "isError")
    assert (await pets.call("tools/call", {"name": "broken", "arguments": {}})).json["result"]["isError"]
    gone = Raw(http, cluster.mcp_url("gone"))
    await gone.initialize()
    assert (await gone.call("tools/call", {"name": "ping", "arguments": {}})).json["result"]["isError"]

    found = await scrape(http, cluster.toolexec.metrics)
    calls = "mcpgw_toolexec_call_duration_seconds"
    assert value(found, calls, calls + "_count", server="petstore", tool="get_pet", outcome="ok") == 2
    assert value(found, calls, calls + "_count", server="petstore", tool="broken", outcome="tool_error") == 1
    assert value(found, calls, calls + "_count", server="gone", tool="ping", outcome="tool_error") == 1

    backends = "mcpgw_backend_request_duration_seconds"
    address = urlsplit(backend.url).netloc
    assert value(found, backends, backends + "_count", backend=address, outcome="2xx") == 2
    assert value(found, backends, backends + "_count", backend=address, outcome="5xx") == 1
    assert value(found, backends, backends + "_count", backend=f"127.0.0.1:{dead}", outcome="failed") == 1
    # Some time was spent, and not more than the calls took.
    assert 0 < value(found, backends, backends + "_sum", backend=address, outcome="2xx") < \
        value(found, calls, calls + "_sum", server="petstore", tool="get_pet", outcome="ok")

    served = "mcpgw_nats_served_duration_seconds"
    assert value(found, served, served + "_count", operation="toolexec.call", outcome="ok") == 4
    lookups = "mcpgw_cache_lookups"
    assert value(found, lookups, lookups + "_total", cache="toolexec.servers", result="miss") == 2
    assert value(found, lookups, lookups + "_total", cache="toolexec.servers", result="hit") == 2
