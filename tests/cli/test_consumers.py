"""`mcpgw consumers` and `mcpgw grants`: a consumer made, granted a server and one tool, its key used
through the edge, rotated, revoked and deleted."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from tests.backends import Backend, petstore_yaml
from tests.cli.run import mcpgw
from tests.cluster import Cluster
from tests.util import eventually

MODERN = "2026-07-28"


async def call(url: str, key: str | None, tool: str = "get_pet") -> dict[str, Any]:
    """One stateless (2026-07-28) tools/call with the key as a bearer token: its status and JSON."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": tool,
               "Accept": "application/json, text/event-stream"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": tool, "arguments": {"id": 1}, "_meta": meta}}
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as resp:
        answer = await resp.json() if resp.content_type == "application/json" else {}
        return {"status": resp.status, **answer}


async def test_consumer_grant_call_rotate_revoke_delete(cluster: Cluster, backend: Backend) -> None:
    await cluster.create_server("pets", petstore_yaml(backend.url), consumerAuthInfo={"enable": True})
    url = cluster.mcp_url("pets")

    ran = await mcpgw(cluster, "consumers", "create", "app", "--description", "the app", "--print-key")
    assert ran.code == 0, ran.err
    [key] = ran.lines
    assert key.startswith("mcpgw_")
    ran = await mcpgw(cluster, "grants", "add", "app", "pets", "--tools", "get_pet")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Granted app the tools get_pet of pets (rule car-")
    answer = await eventually(lambda: call(url, key), lambda a: a["status"] == 200)
    assert answer["result"]["isError"] is False
    assert (await call(url, key, "add_pet"))["error"]["code"] == -32602  # only get_pet was granted

    shown, listed, grants = await asyncio.gather(
        mcpgw(cluster, "consumers", "get", "app"), mcpgw(cluster, "consumers", "list"),
        mcpgw(cluster, "grants", "list", "--consumer", "app"))
    assert shown.code == 0, shown.err
    fields = shown.fields
    assert fields["Key sent in"] == "Authorization: Bearer" and key not in shown.out
    assert fields["API keys (1)"].startswith("ck-") and " mcpgw_…  System  " in fields["API keys (1)"]
    assert fields["Grants (1)"].startswith("pets: get_pet (car-")
    assert listed.lines[1].split()[1:4] == ["app", "on", "the"]
    assert grants.lines[0].split() == ["RULE", "CONSUMER", "SERVER", "TOOLS", "EXPIRES", "STATUS"]
    assert grants.lines[1].split()[1:] == ["app", "pets", "get_pet", "never", "InEffect"]

    # A new key replaces the old one; the old one stops working.
    ran = await mcpgw(cluster, "consumers", "update", "app", "--rotate-key", "--print-key")
    assert ran.code == 0, ran.err
    [new_key] = ran.lines
    assert new_key != key
    await eventually(lambda: call(url, key), lambda a: a["status"] == 401)
    assert (await call(url, new_key))["status"] == 200

    ran = await mcpgw(cluster, "grants", "revoke", "--consumer", "app", "--server", "pets")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Revoked 1 grant: car-")
    await eventually(lambda: call(url, new_key), lambda a: a["status"] == 403)

    ran = await mcpgw(cluster, "consumers", "delete", "app", "--json")
    assert ran.code == 0, ran.err
    assert set(ran.json()) == {"consumerId"}
    ran = await mcpgw(cluster, "consumers", "get", "app")
    assert ran.code == 3 and ran.err == "error: no consumer named 'app'\n"


async def test_keys_of_ones_own_jwt_settings_and_expiring_grants(cluster: Cluster, tmp_path: Any) -> None:
    await cluster.create_server("pets")
    jwt = tmp_path / "jwt.yaml"
    jwt.write_text("secretType: Symmetry\njwks: " + "s" * 40 + "\nissuer: me\n")
    own = "my-own-key-0123456789"
    created, jwt_only = await asyncio.gather(
        mcpgw(cluster, "consumers", "create", "mine", "--api-key-env", "OWN_KEY", "--key-header", "X-Key",
              "--json", env={"OWN_KEY": own}),
        mcpgw(cluster, "consumers", "create", "tokens", "--no-api-key", "--jwt-config", str(jwt)))
    data = created.json()
    assert data["apikeyIdentityConfig"]["credentials"][0]["apikey"] == own
    assert data["apikeyIdentityConfig"]["apikeySource"] == {"source": "Header", "value": "X-Key"}
    assert jwt_only.code == 0, jwt_only.err
    assert jwt_only.lines == [f"Created consumer tokens ({jwt_only.out.split('(')[1].split(')')[0]})"]

    shown = await mcpgw(cluster, "consumers", "get", "tokens", "--json")
    assert shown.json()["jwtIdentityConfig"]["jwks"] == "******"  # write-only
    assert "apiKeyIdentityConfig" not in shown.json()
    ran = await mcpgw(cluster, "consumers", "get", "tokens")
    assert ran.fields["JWT"] == "Symmetry, issuer me" and ran.fields["Grants (0)"] == "none"

    ran = await mcpgw(cluster, "grants", "add", "tokens", "pets", "--expires", "7d", "--json")
    [rule_id] = ran.json()["consumerAuthorizationRuleIds"]
    status, body = await cluster.admin("GET", f"/v1/authorization-rules/{rule_id}")
    assert status == 200, body
    expires = body["data"]["expireTimestamp"]
    assert body["data"]["expireMode"] == "ShortTerm"
    assert abs(expires - (time.time() + 7 * 86400) * 1000) < 60_000

    refused, not_a_rule, nothing, no_match, bad_expiry = await asyncio.gather(
        mcpgw(cluster, "grants", "add", "tokens", "pets", "--tools", "a b"),
        mcpgw(cluster, "grants", "revoke", "rule-1"),
        mcpgw(cluster, "consumers", "update", "mine"),
        mcpgw(cluster, "grants", "revoke", "--consumer", "mine"),
        mcpgw(cluster, "grants", "add", "tokens", "pets", "--expires", "soon"))
    assert refused.code == 1 and refused.err.startswith(
        "error: InvalidParameter (400): authorizationRules[0].resourceIdentifier.resources[0]: ")
    assert not_a_rule.code == 2 and "rule-1: not a rule id" in not_a_rule.err
    assert nothing.code == 2 and "nothing to change" in nothing.err
    assert no_match.code == 3 and no_match.err == "error: no grants match --consumer mine\n"
    assert bad_expiry.code == 2 and "invalid expiry" in bad_expiry.err

    ran = await mcpgw(cluster, "grants", "update", rule_id, "--never-expires", "--tools", "get_pet,add_pet")
    assert ran.code == 0 and ran.out.startswith(f"Updated grant {rule_id}: revision "), ran.err
    status, body = await cluster.admin("GET", f"/v1/authorization-rules/{rule_id}")
    assert body["data"]["expireMode"] == "LongTerm" and "expireTimestamp" not in body["data"]
    assert body["data"]["resourceIdentifier"]["resources"] == ["get_pet", "add_pet"]
    ran = await mcpgw(cluster, "grants", "update", rule_id, "--all-tools")
    assert ran.code == 0, ran.err
    status, body = await cluster.admin("GET", f"/v1/authorization-rules/{rule_id}")
    assert "resources" not in body["data"]["resourceIdentifier"]

    ran = await mcpgw(cluster, "grants", "revoke", rule_id)
    assert ran.code == 0 and ran.out == f"Revoked 1 grant: {rule_id}\n"
    ran = await mcpgw(cluster, "grants", "list", "--json")
    assert ran.json() == []
