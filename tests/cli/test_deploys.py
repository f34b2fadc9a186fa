"""`mcpgw servers deploy|undeploy|revisions|rollback`."""

from __future__ import annotations

from tests.cli.run import mcpgw
from tests.cluster import Cluster


async def test_deploy_undeploy_revisions_and_rollback(cluster: Cluster) -> None:
    server_id = await cluster.create_server("shop", description="first")
    status, body = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "second"})
    assert status == 200, body

    ran = await mcpgw(cluster, "servers", "undeploy", "shop")
    assert ran.code == 0 and ran.out == f"MCP server shop ({server_id}): NotDeployed\n", ran.err
    ran = await mcpgw(cluster, "servers", "deploy", server_id)
    assert ran.code == 0 and ran.out == f"MCP server {server_id} ({server_id}): Deployed\n", ran.err

    listed = await mcpgw(cluster, "servers", "revisions", "shop")
    assert [line.split()[0] for line in listed.lines[1:]] == ["3", "2", "1"], listed.out
    shown = await mcpgw(cluster, "servers", "revisions", "shop", "2")
    assert shown.code == 0 and "Against revision 1; fields changed: description" in shown.out, shown.err

    ran = await mcpgw(cluster, "servers", "rollback", "shop", "1")
    assert ran.code == 0 and ran.out == f"Rolled shop ({server_id}) back to revision 1: published as revision 4\n"
    status, body = await cluster.admin("GET", f"/v1/mcp-servers/{server_id}")
    assert body["data"]["description"] == "first"
    as_json = (await mcpgw(cluster, "servers", "revisions", "shop", "--json")).json()
    newest = as_json["items"][0]
    assert newest == {"revision": 4, "rollbackOf": 1, "createTimestamp": newest["createTimestamp"]}

    missing = await mcpgw(cluster, "servers", "rollback", "shop", "9")
    assert missing.code == 3 and "revision" in missing.err


async def test_update_draft_then_deploy(cluster: Cluster) -> None:
    server_id = await cluster.create_server("shop", description="served")
    ran = await mcpgw(cluster, "servers", "update", "shop", "--description", "edited", "--draft")
    assert ran.code == 0 and ran.out.startswith(f"Saved a draft of MCP server shop ({server_id})"), ran.err
    shown = await mcpgw(cluster, "servers", "get", "shop")
    assert "Deployed, revision 1 published, unpublished changes" in shown.out, shown.out
    assert (await mcpgw(cluster, "servers", "revisions", "shop", "--json")).json()["items"][0]["revision"] == 1
    ran = await mcpgw(cluster, "servers", "deploy", "shop")
    assert ran.code == 0, ran.err
    shown = await mcpgw(cluster, "servers", "get", "shop", "--json")
    assert shown.json()["description"] == "edited" and shown.json()["publishedRevision"] == 2
    assert not shown.json()["hasUnpublishedChanges"]
    nothing = await mcpgw(cluster, "servers", "update", "shop", "--draft")
    assert nothing.code != 0 and "nothing to change" in nothing.err
