"""Backend credentials in tools documents: masked on every read, kept when sent back masked."""

from __future__ import annotations

import base64
import json

import pytest
from mcpgw_registry.resources.tools.secrets import mask, restore

from mcpgw.contracts.errors import McpgwError
from mcpgw.contracts.registry import ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api

YAML = {"Content-Type": "application/yaml"}

DOC = """\
# comments survive
server:
  name: creds
  securitySchemes:
    - id: basic
      type: http
      scheme: basic
      defaultCredential: "user:pa ss"   # quoted
    - id: key
      type: apiKey
      in: header
      name: X-Api-Key
      defaultCredential: key-123
  defaultUpstreamSecurity: {id: basic, credential: 'up-cred'}
tools:
  - name: one
    requestTemplate:
      url: https://api.example/one
      security:
        id: key
        credential: tool-cred
  - name: two
    security: {id: key, credential: down-cred, passthrough: true}
    requestTemplate: {url: https://api.example/two}
"""
SECRETS = ("user:pa ss", "key-123", "up-cred", "tool-cred", "down-cred")


def test_mask_edits_in_place() -> None:
    masked = mask(DOC, "yaml")
    for secret in SECRETS:
        assert secret not in masked
    assert masked.count('"******"') == 5
    assert "# comments survive" in masked and "# quoted" in masked
    assert restore(masked, "yaml", DOC, "yaml") == DOC.replace('"user:pa ss"', '"user:pa ss"') \
        .replace("key-123", '"key-123"').replace("'up-cred'", '"up-cred"').replace("tool-cred", '"tool-cred"') \
        .replace("down-cred", '"down-cred"')


def test_aliases_and_json_are_reserialised() -> None:
    aliased = "server:\n  name: s\n  config: {region: &t shared}\n  securitySchemes:\n" \
              "    - {id: k, type: apiKey, in: header, name: X-K, defaultCredential: *t}\n"
    masked = mask(aliased, "yaml")
    assert "shared" in masked  # config.region is not secret and stays ...
    assert "defaultCredential: '******'" in masked  # ... while the aliased credential is masked
    as_json = json.dumps({"server": {"name": "j", "securitySchemes": [
        {"id": "b", "type": "http", "scheme": "bearer", "defaultCredential": "tok"}]}})
    masked = mask(as_json, "json")
    assert "tok" not in masked and json.loads(masked)["server"]["securitySchemes"][0]["defaultCredential"] == "******"
    assert json.loads(restore(masked, "json", as_json, "json")) == json.loads(as_json)


def test_a_mask_without_a_stored_secret_is_refused() -> None:
    with pytest.raises(McpgwError) as refused:
        restore(DOC.replace("key-123", '"******"'), "yaml", "", "yaml", "mcpServerConfig.mcpServerSpec")
    assert refused.value.message.startswith(
        'mcpServerConfig.mcpServerSpec.server.securitySchemes[1].defaultCredential: "******" stands for')


async def test_reads_are_masked_and_round_trips_keep_secrets(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("creds")
    path = f"/v1/mcp-servers/{server_id}/tools"
    await api.ok("PUT", path, data=DOC, headers=YAML)
    text = (await api.call("GET", path)).body
    resource = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    listing = await api.ok("GET", "/v1/mcp-servers?nameLike=creds")
    for secret in SECRETS:
        assert secret not in text
        assert secret not in base64.b64decode(resource["mcpServerConfig"]).decode()
        assert secret not in json.dumps(listing)

    # Edit something else, put the masked document back: the data plane still has every secret.
    await api.ok("PUT", path, data=text.replace("name: two", "name: three"), headers=YAML)
    lookup = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                               ServerLookupReply)
    assert lookup.server is not None and lookup.server.server is not None
    block = lookup.server.server
    assert [s.default_credential for s in block.security_schemes] == ["user:pa ss", "key-123"]
    assert block.default_upstream_security is not None and block.default_upstream_security.credential == "up-cred"
    tools = {t.name: t for t in lookup.server.tools}
    assert tools["three"].security is not None and tools["three"].security.credential == "down-cred"
    assert tools["one"].request_template.security is not None
    assert tools["one"].request_template.security.credential == "tool-cred"

    # The same through mcpServerConfig.mcpServerSpec on update.
    spec = base64.b64decode(resource["mcpServerConfig"]).decode()
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"mcpServerConfig": {"mcpServerSpec": spec}})
    lookup = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                               ServerLookupReply)
    assert lookup.server is not None and lookup.server.server is not None
    assert lookup.server.server.security_schemes[1].default_credential == "key-123"

    # A mask where nothing is stored (a new scheme) is a 400, not a stored "******".
    added = text.replace("  defaultUpstreamSecurity", "    - {id: new, type: http, scheme: bearer, "
                                                       "defaultCredential: \"******\"}\n  defaultUpstreamSecurity")
    reply = await api.call("PUT", path, data=added, headers=YAML)
    assert reply.status == 400 and reply.message.startswith("server.securitySchemes[2].defaultCredential: ")
    created = await api.call("POST", "/v1/mcp-servers", json={"name": "fresh", "mcpServerConfig": {
        "mcpServerSpec": text.replace("name: creds", "name: fresh")}})
    assert created.status == 400 and created.message.startswith("mcpServerConfig.mcpServerSpec.server.")
