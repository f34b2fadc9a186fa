"""Secret values of `server.config`: which they are, masked on every read, kept when sent back masked."""

from __future__ import annotations

import base64
import json
from typing import Any

import msgspec
import pytest
import yaml
from mcpgw_registry.importing.render import render
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.tools.config_secrets import data_children, leaves
from mcpgw_registry.resources.tools.document import parse_tools
from mcpgw_registry.resources.tools.secrets import has_credentials, mask, masked, restore
from mcpgw_registry.stores.server_storage import ServerStorage

from mcpgw.contracts.errors import McpgwError
from mcpgw.contracts.registry import ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.openapi_docs import v1

YAML = {"Content-Type": "application/yaml"}

DOC = """\
# comments survive
server:
  name: cfg
  config:
    baseUrl: https://api.example   # shown
    apiKey: ak-secret-1            # named like a key
    X-Auth-TOKEN: tok-secret-2     # case does not matter
    pin: 4321
    region: eu-secret-3            # declared below
    useKey: true
    emptyToken: ""
    oauth:
      clientId: cid-secret-4       # declared below, nested
      client_secret: cs-secret-5
    passwords: [pw-secret-6, 7007]
  secretConfig: [region, oauth.clientId]
tools:
  - name: call
    requestTemplate:
      url: "{{.config.baseUrl}}/call"
      headers:
        - {key: X-Api-Key, value: "{{.config.apiKey}}"}
"""
SECRETS = ("ak-secret-1", "tok-secret-2", "eu-secret-3", "cid-secret-4", "cs-secret-5", "pw-secret-6", "7007")
SHOWN = {"baseUrl": "https://api.example", "pin": 4321, "useKey": True, "emptyToken": ""}


def _secret_paths(config: dict[str, Any], declared: list[str]) -> list[str]:
    return [path for path, _, _, _, secret in leaves(config, declared, data_children) if secret]


def test_which_config_values_are_secret() -> None:
    config = yaml.safe_load(DOC)["server"]["config"]
    assert _secret_paths(config, ["region", "oauth.clientId"]) == [
        "apiKey", "X-Auth-TOKEN", "region", "useKey", "emptyToken", "oauth.clientId", "oauth.client_secret",
        "passwords[0]", "passwords[1]"]
    # Everything under a secret name or a declared path, however deep; nothing else.
    assert _secret_paths({"db": {"primary": {"url": "u", "Password": "p"}}, "tokens": {"a": {"b": "x"}},
                          "plain": {"deep": [1, {"x": "y"}]}}, ["plain.deep"]) == [
        "db.primary.Password", "tokens.a.b", "plain.deep[0]", "plain.deep[1].x"]


def test_mask_and_restore_config_values_in_yaml_and_json() -> None:
    masked_text = mask(DOC, "yaml")
    for secret in SECRETS:
        assert secret not in masked_text
    # In place: comments and layout stay; booleans, empty values and other keys are shown.
    assert "# comments survive" in masked_text and '"******"            # named like a key' in masked_text
    loaded = yaml.safe_load(masked_text)["server"]["config"]
    assert {k: loaded[k] for k in SHOWN} == SHOWN
    assert loaded["oauth"] == {"clientId": "******", "client_secret": "******"}
    assert loaded["passwords"] == ["******", "******"]
    # Sent back: every value returns with its type (7007 stays a number).
    assert parse_tools(restore(masked_text, "yaml", DOC, "yaml")) == parse_tools(DOC)

    as_json = json.dumps(yaml.safe_load(DOC))
    masked_json = mask(as_json, "json")
    assert not any(secret in masked_json for secret in SECRETS)
    assert json.loads(restore(masked_json, "json", as_json, "json")) == json.loads(as_json)

    # The document as a Struct (import answers) is masked at the same places as the text.
    doc = parse_tools(DOC)
    assert has_credentials(doc)
    assert yaml.safe_load(render(masked(doc)))["server"]["config"] == loaded
    assert not has_credentials(parse_tools("server: {name: s, config: {baseUrl: x, keyless: ''}}"))


def test_a_mask_in_config_stands_for_what_is_stored_there() -> None:
    field = "mcpServerConfig.mcpServerSpec"
    with pytest.raises(McpgwError) as refused:
        restore(DOC.replace("ak-secret-1", '"******"'), "yaml", "", "yaml", field)
    assert refused.value.message.startswith(f'{field}.server.config.apiKey: "******" stands for a stored')
    # A mask at a path that is no longer declared secret still means the stored value, never "******".
    undeclared = mask(DOC, "yaml").replace("secretConfig: [region, oauth.clientId]", "secretConfig: []")
    restored = parse_tools(restore(undeclared, "yaml", DOC, "yaml"))
    assert restored.server.config["region"] == "eu-secret-3"
    assert restored.server.config["oauth"]["clientId"] == "cid-secret-4"
    # A mask where nothing was ever stored is refused, secret-looking name or not.
    with pytest.raises(McpgwError) as unknown:
        restore(mask(DOC, "yaml").replace("pin: 4321", 'pin: "******"'), "yaml", DOC, "yaml")
    assert unknown.value.message.startswith('server.config.pin: "******" stands for a stored')


def test_secret_config_must_name_a_config_value() -> None:
    for declared, index in (("[regoin]", 0), ("[region, oauth.clientID]", 1), ("[oauth.clientId.x]", 0)):
        with pytest.raises(McpgwError) as refused:
            parse_tools(DOC.replace("[region, oauth.clientId]", declared))
        assert refused.value.message.startswith(f"server.secretConfig[{index}]: names no value of server.config")


def test_config_is_walked_within_bounds() -> None:
    """Secrets are restored before a document is validated: aliases must not make the walk endless."""
    field = "mcpServerConfig.mcpServerSpec"
    cyclic = "server:\n  name: x\n  config: &a {loop: *a, apiKey: '******'}\n"
    tens = "".join(f"    l{i + 1}: &l{i + 1} [{', '.join([f'*l{i}'] * 10)}]\n" for i in range(6))
    exponential = "server:\n  name: x\n  config:\n    l0: &l0 x\n" + tens + "    token: '******'\n"
    for text in (cyclic, exponential):
        with pytest.raises(McpgwError) as refused:
            restore(text, "yaml", "", "yaml", field)
        assert refused.value.message.startswith(f"{field}.server.config: is too large")
    deep = "server:\n  name: x\n  config: " + "{a: " * 70 + "1" + "}" * 70 + "\n"
    with pytest.raises(McpgwError) as too_deep:
        parse_tools(deep)
    assert too_deep.value.message.startswith("server.config: is too large")


async def test_old_records_are_looked_at_new_ones_say_whether_to_mask() -> None:
    storage = ServerStorage(blobs=None, inline_bytes=1 << 20)  # type: ignore[arg-type]  # inline only
    record = ServerRecord(id="mcp-0123456789abcdef", name="cfg", tools_text=DOC)
    # Written before the flag existed: the text is looked at.
    assert "ak-secret-1" not in await storage.readable_tools_text(record)
    stored = msgspec.json.decode(storage.encode(record, parse_tools(DOC)).value, type=ServerRecord)
    assert stored.tools_secrets is True and "ak-secret-1" not in await storage.readable_tools_text(stored)
    plain = "server: {name: cfg, config: {monkey: business}}\n"
    stored = msgspec.json.decode(storage.encode(msgspec.structs.replace(record, tools_text=plain),
                                                parse_tools(plain)).value, type=ServerRecord)
    assert stored.tools_secrets is True  # `monkey` has a key in it: names decide, not meaning
    stored = msgspec.json.decode(storage.encode(msgspec.structs.replace(record, tools_text=DOC.replace("ak", "x")),
                                                parse_tools(plain.replace("monkey", "animal"))).value,
                                 type=ServerRecord)
    # The flag is what reads go by: a record whose document holds no secret is returned as stored.
    assert stored.tools_secrets is False and "x-secret-1" in await storage.readable_tools_text(stored)


async def _lookup_config(bus: Bus, server_id: str) -> dict[str, Any]:
    reply = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                              ServerLookupReply)
    assert reply.server is not None and reply.server.server is not None
    return reply.server.server.config


async def test_every_read_masks_config_secrets_and_writes_keep_them(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("cfg")
    path = f"/v1/mcp-servers/{server_id}/tools"
    await api.ok("PUT", path, data=DOC, headers=YAML)
    text = (await api.call("GET", path)).body
    resource = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    listing = await api.ok("GET", "/v1/mcp-servers?nameLike=cfg")
    for secret in SECRETS:
        assert secret not in text
        assert secret not in base64.b64decode(resource["mcpServerConfig"]).decode()
        assert secret not in json.dumps(listing)
    assert yaml.safe_load(text)["server"]["config"]["baseUrl"] == "https://api.example"

    # Edit something else and put the masked document back: toolexec still gets every value.
    await api.ok("PUT", path, data=text.replace("name: call", "name: called"), headers=YAML)
    assert await _lookup_config(bus, server_id) == yaml.safe_load(DOC)["server"]["config"]
    # The same through mcpServerConfig.mcpServerSpec, changing one secret and keeping the others.
    spec = base64.b64decode(resource["mcpServerConfig"]).decode().replace(
        'apiKey: "******"', "apiKey: ak-rotated")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"mcpServerConfig": {"mcpServerSpec": spec}})
    config = await _lookup_config(bus, server_id)
    assert config["apiKey"] == "ak-rotated" and config["region"] == "eu-secret-3"
    assert config["passwords"] == ["pw-secret-6", 7007]

    # A mask with nothing behind it is a 400 naming the field, on create as on update.
    created = await api.call("POST", "/v1/mcp-servers", json={"name": "fresh", "mcpServerConfig": {
        "mcpServerSpec": text.replace("name: cfg", "name: fresh")}})
    assert created.status == 400
    assert created.message.startswith("mcpServerConfig.mcpServerSpec.server.config.apiKey: ")
    added = await api.call("PUT", path, data=text.replace("    pin: 4321", '    pin: 4321\n    newToken: "******"'),
                           headers=YAML)
    assert added.status == 400 and added.message.startswith("server.config.newToken: ")
    declared = await api.call("PUT", path, data=DOC.replace("[region, oauth.clientId]", "[regoin]"), headers=YAML)
    assert declared.status == 400 and declared.message.startswith("server.secretConfig[0]: ")


async def test_an_imported_servers_config_secrets_survive_reimports_and_never_show(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("pets")
    spec = v1("http://pets.example")
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/import", data=spec, headers=YAML)
    path = f"/v1/mcp-servers/{server_id}/tools"
    text = (await api.call("GET", path)).body
    edited = text.replace("  config:\n", "  config:\n    apiToken: imp-secret-1\n    tenant: imp-secret-2\n", 1) \
        .replace("  name: pets\n", "  name: pets\n  secretConfig: [tenant]\n", 1)
    assert edited != text
    put = await api.ok("PUT", path, data=edited, headers=YAML)
    assert put["notKept"] == []  # config values and secretConfig are overrides: a re-import keeps them

    answers = [
        (await api.call("GET", path)).body,
        await api.ok("GET", f"/v1/mcp-servers/{server_id}/tools/import"),
        await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/import:preview", data=spec, headers=YAML),
        await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/import?descriptionLimit=500", data=spec,
                     headers=YAML),
        (await api.call("GET", path)).body,
    ]
    for answer in answers:
        dumped = json.dumps(answer)
        assert "imp-secret-1" not in dumped and "imp-secret-2" not in dumped
    assert answers[1]["serverOverrides"]["config"] == {"apiToken": "******", "tenant": "******"}
    assert answers[3]["applied"] is True
    config = await _lookup_config(bus, server_id)
    assert (config["apiToken"], config["tenant"]) == ("imp-secret-1", "imp-secret-2")
