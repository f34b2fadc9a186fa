"""Servers too large for one KV value: their tools (and if need be the record) live in the object store.

The KV record stays small, every reader gets the whole document back, lookups compile it once
per revision, and objects a record no longer refers to are deleted.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import nats.js.errors
import pytest
from mcpgw_registry.resources.tools.document import parse_tools
from mcpgw_registry.service import RegistryService
from mcpgw_registry.settings import RegistrySettings

from mcpgw.contracts.registry import ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api, settings_for
from tests.registry.tools_samples import WEATHER_YAML, WEATHER_YAML_MASKED
from tests.specs import raw

JSON = {"Content-Type": "application/json"}
YAML = {"Content-Type": "application/yaml"}
INLINE = 256 * 1024
# Kubernetes 1.12: 826 operations, 20 MB of tools YAML.
BIG_SPEC = "kubernetes-1.12.swagger.json"


async def _objects(bus: Bus, settings: RegistrySettings, server_id: str) -> set[str]:
    store = await bus.nc.jetstream().object_store(settings.import_bucket_name)
    try:
        infos = await store.list(ignore_deletes=True)
    except nats.js.errors.NotFoundError:
        return set()
    return {info.name for info in infos if info.name.startswith(server_id + ".")}


async def _kv_value(bus: Bus, settings: RegistrySettings, server_id: str) -> bytes:
    kv = await bus.nc.jetstream().key_value(settings.kv_bucket)
    entry = await kv.get(f"servers.{server_id}")
    assert entry.value is not None
    return entry.value


async def _lookup(bus: Bus, server_id: str) -> ServerLookupReply:
    return await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                             ServerLookupReply, timeout=10.0)


class Registry:
    """A registry of the test's own (its settings vary), with a patient admin client."""

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings
        self.service = RegistryService(settings)
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Api:
        await self.service.start()
        self._http = aiohttp.ClientSession(f"http://127.0.0.1:{self.service.port}",
                                           timeout=aiohttp.ClientTimeout(total=60))
        return Api(self._http, self.service)

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        await self.service.stop()


@pytest.fixture
async def big_api(nats_url: str, root: str) -> AsyncIterator[Api]:
    async with Registry(settings_for(nats_url, root)) as api:
        yield api


async def test_a_kubernetes_import_end_to_end(big_api: Api, bus: Bus, nats_url: str, root: str) -> None:
    api = big_api
    settings = api.service.settings
    server_id = await api.create_server("k8s")
    spec = raw(BIG_SPEC)

    started = time.perf_counter()
    applied = await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/import", data=spec, headers=JSON)
    apply_seconds = time.perf_counter() - started
    tools = applied["tools"]
    assert applied["applied"] is True and applied["operations"] == 826 and len(tools) > 800

    # The KV record is small: the tools text is an object of the import store.
    value = await _kv_value(bus, settings, server_id)
    assert len(value) < INLINE
    stored = msgspec.json.decode(value)
    ref = stored["tools_text"]
    assert isinstance(ref, dict) and ref["name"] == f"{server_id}.tools.{ref['sha256']}"
    assert await _objects(bus, settings, server_id) == {ref["name"], stored["imported"]["blob"]}

    # Readers get the whole document back, through every path.
    text = (await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")).body
    assert len(text) > 10 * 1024 * 1024 and text == applied["yaml"]
    assert re.findall(r"^- name: (.+)$", text, re.MULTILINE) == tools
    server = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert base64.b64decode(server["mcpServerConfig"]).decode() == text
    listed = await api.ok("GET", "/v1/mcp-servers?nameLike=k8s")
    assert listed["items"][0]["mcpServerConfig"] == server["mcpServerConfig"]

    # The data plane's lookup: every tool, in a reply far larger than one NATS message.
    started = time.perf_counter()
    reply = await _lookup(bus, server_id)
    lookup_seconds = time.perf_counter() - started
    assert reply.server is not None and [t.name for t in reply.server.tools] == tools
    assert len(msgspec.json.encode(reply)) > 10 * bus.nc.max_payload

    # Re-importing the same document changes nothing and writes nothing.
    again = await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/import", data=spec, headers=JSON)
    assert again["applied"] is False and again["revision"] == applied["revision"]
    assert (again["added"], again["changed"], again["removed"]) == ([], [], [])
    assert again["unchanged"] == len(tools)

    # Deleting the server deletes its objects.
    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")
    assert await _objects(bus, settings, server_id) == set()
    print(f"\n{BIG_SPEC}: apply {apply_seconds:.1f}s, lookup {lookup_seconds:.2f}s")


async def test_a_fresh_registry_compiles_a_large_server_from_the_store(nats_url: str, root: str, bus: Bus) -> None:
    settings = settings_for(nats_url, root)
    async with Registry(settings) as api:
        server_id = await api.create_server("slack")
        applied = await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/import",
                               data=raw("slack_web_openapi_v2.swagger.json"), headers=JSON)
    # Another replica (or this one restarted) has no compiled snapshot: it reads the stored document
    # instead of parsing the YAML, and concurrent lookups share one compilation.
    async with Registry(settings):
        replies = await asyncio.gather(*(_lookup(bus, server_id) for _ in range(4)))
        assert all(r.server is not None and [t.name for t in r.server.tools] == applied["tools"] for r in replies)


async def test_small_limits_move_tools_and_records_out(nats_url: str, root: str, bus: Bus) -> None:
    """With a tiny inline limit: credentials are masked and restored through the object store,
    and a record too large even without its tools text overflows whole."""
    settings = msgspec.structs.replace(settings_for(nats_url, root), inline_record_bytes=1024)
    async with Registry(settings) as api:
        server_id = await api.create_server("weather")
        path = f"/v1/mcp-servers/{server_id}"
        await api.ok("PUT", f"{path}/tools", data=WEATHER_YAML, headers=YAML)
        stored = msgspec.json.decode(await _kv_value(bus, settings, server_id))
        assert isinstance(stored["tools_text"], dict)
        masked = (await api.call("GET", f"{path}/tools")).body
        assert masked == WEATHER_YAML_MASKED
        assert base64.b64decode((await api.ok("GET", path))["mcpServerConfig"]).decode() == WEATHER_YAML_MASKED
        # The masked text sent back keeps the stored credential.
        await api.ok("PUT", f"{path}/tools", data=masked.replace("Forecast", "Weather"), headers=YAML)
        reply = await _lookup(bus, server_id)
        assert reply.server is not None and reply.server.server is not None
        assert reply.server.server.security_schemes[0].default_credential == "secret-token"
        assert len(await _objects(bus, settings, server_id)) == 1  # the first text's object is gone

        # Canary rules large enough that the record overflows on its own.
        canary = await api.create_service("canary", "10.0.0.9:80")
        backend = {"scene": "SingleService", "services": [{"serviceId": canary}]}
        gray = [{"routeId": f"route-{i:04d}-" + "r" * 40, "match": {"path": {"type": "Prefix", "value": f"/p{i}"}},
                 "backendConfig": backend} for i in range(60)]
        await api.ok("PUT", path, json={"backendConfig": backend, "grayMcpServerConfigs": gray})
        value = await _kv_value(bus, settings, server_id)
        stub = msgspec.json.decode(value)
        assert len(value) < 1024 and set(stub) == {"id", "name", "overflow"}
        assert (await api.ok("GET", path))["grayMcpServerConfigs"][59]["routeId"].startswith("route-0059-")
        assert (await api.ok("GET", "/v1/mcp-servers"))["totalSize"] == 1
        assert (await api.call("GET", f"{path}/tools")).body == masked.replace("Forecast", "Weather")
        objects = await _objects(bus, settings, server_id)
        assert stub["overflow"]["name"] in objects and len(objects) == 2

        # Back under the limit: the overflow object goes; then everything goes with the server.
        await api.ok("PUT", path, json={"grayMcpServerConfigs": []})
        assert "overflow" not in msgspec.json.decode(await _kv_value(bus, settings, server_id))
        assert len(await _objects(bus, settings, server_id)) == 1
        await api.ok("DELETE", path)
        assert await _objects(bus, settings, server_id) == set()


async def test_a_lost_write_leaves_no_object_behind(nats_url: str, root: str, bus: Bus) -> None:
    settings = msgspec.structs.replace(settings_for(nats_url, root), inline_record_bytes=1024)
    async with Registry(settings) as api:
        server_id = await api.create_server("racy")
        path = f"/v1/mcp-servers/{server_id}/tools"
        docs = [WEATHER_YAML.replace("Forecast", f"Forecast {i}") for i in range(6)]
        replies = await asyncio.gather(*(api.call("PUT", path, data=d, headers=YAML) for d in docs))
        assert {r.status for r in replies} <= {200, 409} and any(r.status == 200 for r in replies)
        stored = msgspec.json.decode(await _kv_value(bus, settings, server_id))
        assert await _objects(bus, settings, server_id) == {stored["tools_text"]["name"]}


async def test_the_compiled_size_has_a_sanity_bound(nats_url: str, root: str) -> None:
    settings = msgspec.structs.replace(settings_for(nats_url, root), max_snapshot_bytes=64 * 1024)
    async with Registry(settings) as api:
        server_id = await api.create_server("bounded")
        tools = "".join(f"  - {{name: t{i}, description: *d, responseTemplate: {{body: ok}}}}\n" for i in range(15))
        text = f"server:\n  name: s\n  config: {{blob: &d {'x' * 10_000}}}\ntools:\n{tools}"
        reply = await api.call("PUT", f"/v1/mcp-servers/{server_id}/tools", data=text, headers=YAML)
        assert (reply.status, reply.body["code"]) == (413, "PayloadTooLarge")
        assert reply.message.startswith("body: the compiled tools take ")
        assert reply.message.endswith("one MCP server's tools may take at most 65536")
        created = await api.call("POST", "/v1/mcp-servers", json={"name": "bounded-2",
                                                                  "mcpServerConfig": {"mcpServerSpec": text}})
        assert created.status == 413 and created.message.startswith("mcpServerConfig.mcpServerSpec: ")


def test_rendered_yaml_of_real_imports_reads_back() -> None:
    """The import does not parse its rendered YAML back (megabytes take seconds); this is why it need not."""
    from mcpgw_registry.importing.openapi import ImportOptions, convert
    from mcpgw_registry.importing.render import render

    doc = convert(raw("slack_web_openapi_v2.swagger.json"), ImportOptions(server_name="s")).document
    canonical: Any = msgspec.json.decode(msgspec.json.encode(doc), type=type(doc))
    assert parse_tools(render(doc)) == canonical


async def test_a_missing_object_is_reported_and_repairable(nats_url: str, root: str, bus: Bus) -> None:
    settings = msgspec.structs.replace(settings_for(nats_url, root), inline_record_bytes=1024)
    async with Registry(settings) as api:
        server_id = await api.create_server("damaged")
        path = f"/v1/mcp-servers/{server_id}"
        await api.ok("PUT", f"{path}/tools", data=WEATHER_YAML, headers=YAML)
        store = await bus.nc.jetstream().object_store(settings.import_bucket_name)
        for name in await _objects(bus, settings, server_id):
            await store.delete(name)
        broken = await api.call("GET", path)
        assert (broken.status, broken.body["code"]) == (500, "InternalError")
        assert "'damaged' is incomplete" in broken.message
        listed = await api.ok("GET", "/v1/mcp-servers")
        assert [(i["name"], i["mcpServerConfig"]) for i in listed["items"]] == [("damaged", "")]
        # Saving the tools again (without masked credentials) repairs it.
        await api.ok("PUT", f"{path}/tools", data=WEATHER_YAML, headers=YAML)
        assert (await api.call("GET", f"{path}/tools")).body == WEATHER_YAML_MASKED
