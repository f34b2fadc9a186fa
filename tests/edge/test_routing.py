"""Where a server answers, on a real edge: by `Host` for a server with domains, by its `match`
otherwise refused as if it did not exist (404), and an edit taking effect without a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.cluster import Cluster
from tests.edge.raw import Answer, Raw
from tests.util import eventually

INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "routing", "version": "1"}}}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _domain(cluster: Cluster, name: str) -> str:
    status, body = await cluster.admin("POST", "/v1/domains", json={"name": name})
    assert status == 200, body
    return str(body["data"]["domainId"])


async def _update(cluster: Cluster, server_id: str, **fields: Any) -> None:
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json=fields)
    assert status == 200, body


def _initialize(http: aiohttp.ClientSession, url: str, host: str | None = None, *, method: str = "POST",
                **headers: str) -> Callable[[], Awaitable[Answer]]:
    async def probe() -> Answer:
        sent = dict(headers)
        if host is not None:
            sent["Host"] = host
        return await Raw(http, url).send(INIT, method=method, headers=sent, session=False)
    return probe


async def _status(http: aiohttp.ClientSession, url: str, host: str | None = None, **headers: str) -> int:
    return (await _initialize(http, url, host, **headers)()).status


async def test_hosts_pick_the_server(cluster: Cluster, http: aiohttp.ClientSession) -> None:
    one, two = await _domain(cluster, "one.example.com"), await _domain(cluster, "two.example.com")
    await cluster.create_server("alpha", domainIds=[one])
    await cluster.create_server("beta", domainIds=[two])
    await cluster.create_server("open")
    alpha, beta, open_ = cluster.mcp_url("alpha"), cluster.mcp_url("beta"), cluster.mcp_url("open")

    assert await _status(http, alpha, "one.example.com") == 200
    assert await _status(http, alpha, "ONE.example.com.:8443") == 200  # case, trailing dot and port aside
    assert await _status(http, beta, "two.example.com") == 200
    wrong = await _initialize(http, alpha, "two.example.com")()
    assert wrong.status == 404 and wrong.json["error"]["message"] == "MCP server not found: alpha"
    assert await _status(http, alpha) == 404  # the edge's own address is not one of alpha's hosts
    assert await _status(http, beta, "one.example.com") == 404
    # Without domains: every host the edge answers on, as before. This edge is bound to loopback,
    # so another server's domain is still refused (DNS rebinding), and loopback names are fine.
    assert await _status(http, open_) == 200
    assert await _status(http, open_, "one.example.com") == 421
    # The protected-resource metadata of a server is routed the same way.
    metadata = f"{cluster.edge_url()}/.well-known/oauth-protected-resource/mcp-servers/alpha"
    async with http.get(metadata, headers={"Host": "two.example.com"}) as resp:
        assert resp.status == 404
    async with http.get(metadata, headers={"Host": "one.example.com"}) as resp:
        assert resp.status == 200


async def test_a_domain_edit_reaches_every_edge(cluster: Cluster, http: aiohttp.ClientSession) -> None:
    await cluster.add_edge()
    one, two = await _domain(cluster, "one.example.com"), await _domain(cluster, "two.example.com")
    server_id = await cluster.create_server("alpha", domainIds=[one])
    urls = [cluster.mcp_url("alpha", 0), cluster.mcp_url("alpha", 1)]
    for url in urls:
        assert await _status(http, url, "one.example.com") == 200  # cached by each edge from here on

    await _update(cluster, server_id, domainIds=[two])
    for url in urls:
        await eventually(_initialize(http, url, "one.example.com"), lambda a: a.status == 404, within=1.0)
        assert await _status(http, url, "two.example.com") == 200
    await _update(cluster, server_id, domainIds=[])
    for url in urls:
        await eventually(_initialize(http, url), lambda a: a.status == 200, within=1.0)


async def test_match_rules(cluster: Cluster, http: aiohttp.ClientSession) -> None:
    server_id = await cluster.create_server("gamma", match={
        "path": {"type": "Prefix", "value": "/mcp-servers/gam"},
        "headers": [{"name": "X-Env", "type": "Exact", "value": "prod"}],
        "queryParams": [{"name": "tenant", "type": "Regex", "value": "t-[0-9]+"}],
        "methods": ["POST", "GET", "DELETE"]})
    url = cluster.mcp_url("gamma")
    assert await _status(http, url + "?tenant=t-42", None, **{"X-Env": "prod"}) == 200
    assert await _status(http, url + "?tenant=t-42", None, **{"X-Env": "production"}) == 404  # exact
    assert await _status(http, url + "?tenant=t-42") == 404  # header missing
    assert await _status(http, url + "?tenant=t-42x", None, **{"X-Env": "prod"}) == 404  # whole value
    assert await _status(http, url, None, **{"X-Env": "prod"}) == 404  # query parameter missing

    # An edit reaches the edge: a method list without POST, then a path the URL does not fit.
    await _update(cluster, server_id, match={"methods": ["GET"]})
    await eventually(_initialize(http, url), lambda a: a.status == 404, within=1.0)
    await _update(cluster, server_id, match={"path": {"type": "Exact", "value": "/MCP-servers/GAMMA"}})
    await eventually(_initialize(http, url), lambda a: a.status == 404, within=1.0)
    await _update(cluster, server_id, match={"path": {"type": "Exact", "value": "/MCP-servers/GAMMA"},
                                              "ignoreUriCase": True})
    await eventually(_initialize(http, url), lambda a: a.status == 200, within=1.0)
    await _update(cluster, server_id, match={"path": {"type": "Regex", "value": "/mcp-servers/g[a-z]+"},
                                              "methods": ["OPTION", "POST"]})
    await eventually(_initialize(http, url), lambda a: a.status == 200, within=1.0)
    await _update(cluster, server_id, match=None)
    assert await _status(http, url) == 200
