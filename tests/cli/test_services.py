"""`mcpgw services create|list|get|update|delete`."""

from __future__ import annotations

import asyncio

from mcpgw.cli.services import source_type
from tests.cli.run import mcpgw
from tests.cluster import Cluster


def test_the_source_type_follows_the_addresses() -> None:
    assert source_type(["10.0.0.5:3000", "[::1]:80"]) == "VIP"
    assert source_type(["10.0.0.5:3000", "search.internal:443"]) == "DNS"


async def test_a_service_from_create_to_delete(cluster: Cluster) -> None:
    ran = await mcpgw(cluster, "services", "create", "search", "search.internal:443", "--protocol", "HTTPS")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Created service search (svc-") and ran.out.endswith("): DNS HTTPS search.internal:443\n")
    ran = await mcpgw(cluster, "services", "update", "search", "--address", "10.0.0.7:443",
                      "--address", "10.0.0.8:443")
    assert ran.code == 0, ran.err
    shown, listed, as_json = await asyncio.gather(
        mcpgw(cluster, "services", "get", "search"), mcpgw(cluster, "services", "list", "--source-type", "DNS"),
        mcpgw(cluster, "services", "list", "--json", "--name", "search"))
    assert shown.fields["Addresses"] == "10.0.0.7:443\n10.0.0.8:443" and shown.fields["Protocol"] == "HTTPS"
    assert listed.lines[1].split()[1:] == ["search", "DNS", "HTTPS", "10.0.0.7:443", "10.0.0.8:443"]
    [item] = as_json.json()
    service_id = item["serviceId"]

    # A server that uses it keeps it from being deleted, naming why.
    await cluster.create_server("s", type="RealMCP", createFromType="ApiGatewayMcpHosting",
                                protocol="StreamableHTTP", exposedUriPath="/mcp",
                                backendConfig={"scene": "SingleService", "services": [{"serviceId": service_id}]})
    refused, bad_address = await asyncio.gather(
        mcpgw(cluster, "services", "delete", "search"),
        mcpgw(cluster, "services", "create", "other", "no-port-here"))
    assert refused.code == 1 and refused.err.startswith("error: InvalidParameter (400): serviceId: ")
    assert "used by MCP servers 's'" in refused.err
    assert bad_address.code == 1 and bad_address.err.startswith("error: InvalidParameter (400): serviceConfigs[0]")
    await mcpgw(cluster, "servers", "delete", "s")
    ran = await mcpgw(cluster, "services", "delete", service_id)
    assert ran.code == 0 and ran.out == f"Deleted service {service_id} ({service_id})\n"
