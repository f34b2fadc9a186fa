"""`mcpgw credentials set|get|delete`: a consumer's own upstream credential for a hosted server."""

from __future__ import annotations

import asyncio

from tests.cli.run import mcpgw
from tests.cluster import Cluster


async def test_a_consumers_own_upstream_credential(cluster: Cluster) -> None:
    await cluster.host("weather", "http://127.0.0.1:9/mcp")
    await cluster.create_server("rest")
    await cluster.create_consumer("app")
    ran = await mcpgw(cluster, "credentials", "set", "weather", "app", "--api-key-env", "APP_KEY",
                      "--key-name", "X-Api-Key", env={"APP_KEY": "app-upstream-secret"})
    assert ran.code == 0, ran.err
    assert ran.out == ("app reaches the upstream of weather with its own ApiKey (name X-Api-Key, location header; "
                       "write-only)\n")
    shown, as_json, server = await asyncio.gather(
        mcpgw(cluster, "credentials", "get", "weather", "app"),
        mcpgw(cluster, "credentials", "get", "weather", "app", "--json"),
        mcpgw(cluster, "servers", "get", "weather", "--json"))
    assert shown.out == "ApiKey (name X-Api-Key, location header; write-only)\n"
    assert as_json.json()["upstreamCredential"] == {"type": "ApiKey", "name": "X-Api-Key", "location": "header",
                                                    "configured": True}
    assert "app-upstream-secret" not in shown.out + as_json.out + server.out

    rest, none, unknown = await asyncio.gather(
        mcpgw(cluster, "credentials", "set", "rest", "app", "--bearer-env", "HOME"),
        mcpgw(cluster, "credentials", "set", "weather", "app"),
        mcpgw(cluster, "credentials", "get", "weather", "nobody"))
    assert rest.code == 1 and rest.err.startswith("error: InvalidParameter (400): mcpServerId: ")
    assert none.code == 2 and "give the credential" in none.err
    assert unknown.code == 3 and unknown.err == "error: no consumer named 'nobody'\n"

    ran = await mcpgw(cluster, "credentials", "delete", "weather", "app")
    assert ran.code == 0 and ran.out.startswith("Deleted the credential of app for weather")
    ran = await mcpgw(cluster, "credentials", "get", "weather", "app")
    assert ran.code == 3 and ran.err.startswith("error: NotFound (404): upstreamCredential: ")
