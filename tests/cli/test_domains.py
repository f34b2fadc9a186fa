"""`mcpgw domains create|list|get|update|delete`, and `servers create|update --domain`."""

from __future__ import annotations

import asyncio

from tests.cli.run import mcpgw
from tests.cluster import Cluster


async def test_a_domain_from_create_to_delete(cluster: Cluster) -> None:
    ran = await mcpgw(cluster, "domains", "create", "API.example.com", "--protocol", "HTTPS", "--cert", "c-1")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Created domain API.example.com (d-")
    ran = await mcpgw(cluster, "domains", "update", "api.example.com", "--force-https", "--no-cert")
    assert ran.code == 0, ran.err
    shown, listed, as_json = await asyncio.gather(
        mcpgw(cluster, "domains", "get", "API.example.com"), mcpgw(cluster, "domains", "list", "--name-like", "api"),
        mcpgw(cluster, "domains", "list", "--json"))
    assert shown.code == 0, shown.err
    assert (shown.fields["Name"], shown.fields["Protocol"], shown.fields["Force HTTPS"]) == (
        "api.example.com", "HTTPS", "yes")
    assert "Certificate" not in shown.fields and "MCP server" not in shown.fields  # empty: left out
    assert listed.lines[1].split()[1:] == ["api.example.com", "HTTPS", "yes"]
    [item] = as_json.json()
    domain_id = item["domainId"]

    # A server that answers on it keeps it from being deleted, naming the server.
    ran = await mcpgw(cluster, "servers", "create", "s", "--domain", "api.example.com")
    assert ran.code == 0, ran.err
    shown, refused = await asyncio.gather(mcpgw(cluster, "domains", "get", domain_id),
                                          mcpgw(cluster, "domains", "delete", "api.example.com"))
    assert shown.fields["MCP server"].startswith("s (mcp-")
    assert refused.code == 1 and refused.err.startswith("error: InvalidParameter (400): domainId: ")
    assert "used by MCP server 's'" in refused.err
    ran = await mcpgw(cluster, "servers", "update", "s", "--no-domains")
    assert ran.code == 0, ran.err
    ran = await mcpgw(cluster, "domains", "delete", "api.example.com")
    assert ran.code == 0 and ran.out == f"Deleted domain api.example.com ({domain_id})\n"
