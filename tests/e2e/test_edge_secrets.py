"""The internet-facing edge never holds a backend or upstream credential.

Servers are created with known secret strings in every place a credential can be (backend
security schemes, tool credentials, secret config values, a hosted server's upstream credential, a
consumer's own upstream credential) and called through the edge, while a spy on the real NATS
records every message under the cluster's subject root and every reply to the edge's inbox. No
secret may appear in any of them, nor in the server views the edge caches.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import msgspec
import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from mcpgw.contracts import EdgeServer
from mcpgw.runtime.bus_large import CHUNK_HEADER, ENCODING_HEADER
from tests.backends import Backend
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.upstream.raw_server import RawUpstream

SCHEME_SECRET = "scheme-secret-0c1"
TOOL_SECRET = "tool-secret-9d2"
CONFIG_KEY_SECRET = "config-key-secret-7e3"
CONFIG_DECLARED_SECRET = "config-declared-secret-4f4"
UPSTREAM_SECRET = "upstream-secret-2a5"
CONSUMER_UPSTREAM_SECRET = "consumer-upstream-secret-8b6"
SECRETS = (SCHEME_SECRET, TOOL_SECRET, CONFIG_KEY_SECRET, CONFIG_DECLARED_SECRET, UPSTREAM_SECRET,
           CONSUMER_UPSTREAM_SECRET)


def _rest_tools(base: str) -> str:
    return f"""\
server:
  name: keyed
  config:
    baseUrl: {base}
    apiKey: {CONFIG_KEY_SECRET}
    tenant: {CONFIG_DECLARED_SECRET}
  secretConfig: [tenant]
  securitySchemes:
    - {{id: bearer, type: http, scheme: bearer, defaultCredential: {SCHEME_SECRET}}}
    - {{id: key, type: apiKey, in: header, name: X-Tool-Key}}
  defaultUpstreamSecurity: {{id: bearer}}
tools:
  - name: with_config
    requestTemplate:
      url: "{{{{.config.baseUrl}}}}/echo"
      headers:
        - {{key: X-Config-Key, value: "{{{{.config.apiKey}}}}"}}
        - {{key: X-Tenant, value: "{{{{.config.tenant}}}}"}}
  - name: with_tool_credential
    requestTemplate:
      url: "{{{{.config.baseUrl}}}}/echo"
      security: {{id: key, credential: {TOOL_SECRET}}}
"""


@dataclass
class Spy:
    """Every message on the cluster's subjects and on the edge's inbox, as delivered."""

    nc: NatsClient
    prefixes: tuple[str, ...]
    marker: str
    seen: list[tuple[str, bytes]] = field(default_factory=list)
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)

    async def catch_up(self) -> None:
        """Return once every message delivered before now is in `seen`: one subscription gets its
        messages in order, so a marker published now arrives after them."""
        self.caught_up.clear()
        await self.nc.publish(self.marker, b"")
        await asyncio.wait_for(self.caught_up.wait(), 5)

    async def on_message(self, msg: Msg) -> None:
        if not msg.subject.startswith(self.prefixes):
            return  # JetStream's own traffic: the registry's store, which does hold the secrets
        if msg.subject == self.marker:
            self.caught_up.set()
            return
        headers = msg.headers or {}
        assert CHUNK_HEADER not in headers, "a chunked message: reassemble before looking into it"
        data = zlib.decompress(msg.data) if headers.get(ENCODING_HEADER) == "zlib" else msg.data
        self.seen.append((msg.subject, json.dumps(headers).encode() + data))


@pytest.fixture
async def spy(cluster: Cluster) -> AsyncIterator[Spy]:
    nc = await nats.connect(cluster.nats_url)
    try:
        spy = Spy(nc, (cluster.root + ".", cluster.edges[0].edge.bus.inbox), f"{cluster.root}.spy.marker")
        await nc.subscribe(">", cb=spy.on_message)
        await nc.flush()
        yield spy
    finally:
        await nc.close()


def _text(answer: dict[str, object]) -> str:
    result = answer["result"]
    assert isinstance(result, dict) and not result.get("isError"), answer
    return "".join(c.get("text", "") for c in result["content"])


async def test_no_credential_reaches_the_edge(cluster: Cluster, spy: Spy, backend: Backend, upstream: RawUpstream,
                                              http: aiohttp.ClientSession) -> None:
    rest = await cluster.create_server("keyed", _rest_tools(backend.url))
    hosted = await cluster.host("guarded", upstream.url, consumerAuthInfo={"enable": True},
                                upstreamCredential={"type": "Bearer", "value": UPSTREAM_SECRET})
    status, body = await cluster.admin("POST", "/v1/mcp-servers", json={
        "name": "mixed", "type": "AssemblyMCP", "createFromType": "ApiGatewayAssembly",
        "assembledSources": [{"mcpServerId": rest, "tools": ["with_config"]}]})
    assert status == 200, body
    alice, alice_key = await cluster.create_consumer("alice")
    bob, bob_key = await cluster.create_consumer("bob")
    for consumer in (alice, bob):
        await cluster.grant(consumer, hosted)
    status, body = await cluster.admin(
        "PUT", f"/v1/mcp-servers/{hosted}/consumers/{alice}/upstream-credential",
        json={"type": "ApiKey", "name": "X-Api-Key", "location": "header", "value": CONSUMER_UPSTREAM_SECRET})
    assert status == 200, body

    # REST tools: the backend gets every credential and config secret, the client gets its answer.
    client = Raw(http, cluster.mcp_url("keyed"))
    await client.initialize()
    listed = (await client.call("tools/list")).json["result"]["tools"]
    assert [t["name"] for t in listed] == ["with_config", "with_tool_credential"]
    for tool in ("with_config", "with_tool_credential"):
        assert _text((await client.call("tools/call", {"name": tool, "arguments": {}})).json)
    config_call, tool_call = backend.received[-2:]
    assert config_call.headers["x-config-key"] == CONFIG_KEY_SECRET
    assert config_call.headers["x-tenant"] == CONFIG_DECLARED_SECRET
    assert config_call.headers["authorization"] == f"Bearer {SCHEME_SECRET}"
    assert tool_call.headers["x-tool-key"] == TOOL_SECRET

    # The assembly: the edge looks its source up by id.
    assembly = Raw(http, cluster.mcp_url("mixed"))
    await assembly.initialize()
    assert _text((await assembly.call("tools/call", {"name": "with_config", "arguments": {}})).json)

    # A hosted server, as a consumer with its own upstream credential and as one without.
    for key in (alice_key, bob_key):
        hosted_client = Raw(http, cluster.mcp_url("guarded"))
        await hosted_client.initialize_with({"Authorization": f"Bearer {key}"})
        assert [t["name"] for t in (await hosted_client.call("tools/list")).json["result"]["tools"]] == [
            "whoami", "shared"]
    upstream_lists = upstream.calls("tools/list")
    assert upstream_lists[0].headers["x-api-key"] == CONSUMER_UPSTREAM_SECRET
    assert upstream_lists[-1].headers["authorization"] == f"Bearer {UPSTREAM_SECRET}"

    # What the edge keeps: views of the servers, with listings and flags only.
    edge = cluster.edges[0].edge
    for name in ("keyed", "guarded", "mixed"):
        entry = edge.servers.cached(name)
        assert entry is not None and isinstance(entry.snapshot, EdgeServer), name
        kept = msgspec.json.encode(entry.snapshot) + b"".join(bytes(t.entry) for t in entry.listing)
        for secret in SECRETS:
            assert secret.encode() not in kept, (name, secret)

    await spy.catch_up()
    assert any(subject.startswith(edge.bus.inbox) and b"with_tool_credential" in data
               for subject, data in spy.seen), "the spy saw no server listing reach the edge"
    for subject, data in spy.seen:
        for secret in SECRETS:
            assert secret.encode() not in data, (subject, secret, data[:500])
