"""Published revisions (issue 13): kept per publish in JetStream, the last N, read with a diff,
rolled back; they survive a registry restart."""

from __future__ import annotations

import aiohttp
import msgspec
from mcpgw_registry.service import RegistryService

from mcpgw.contracts.hosting import UpstreamLookup, UpstreamLookupReply
from mcpgw.contracts.registry import EdgeServerLookup, EdgeServerLookupReply, ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api, settings_for
from tests.registry.resources.hosted.test_servers import hosted
from tests.registry.tools_samples import WEATHER_YAML

YAML = {"Content-Type": "application/yaml"}


async def _numbers(api: Api, server_id: str) -> list[int]:
    data = await api.ok("GET", f"/v1/mcp-servers/{server_id}/revisions")
    return [item["revision"] for item in data["items"]]


async def test_every_publish_keeps_a_revision_and_undeploy_does_not(api: Api) -> None:
    server_id = await api.create_server("kept")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML, headers=YAML)
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "second"})
    assert await _numbers(api, server_id) == [3, 2, 1]
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/undeploy")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "draft", "deploy": False})
    assert await _numbers(api, server_id) == [3, 2, 1]  # drafts are not published
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/deploy")
    assert await _numbers(api, server_id) == [4, 3, 2, 1]

    one = await api.ok("GET", f"/v1/mcp-servers/{server_id}/revisions/4")
    assert one["mcpServer"]["description"] == "draft" and one["diff"]["against"] == 3
    assert one["diff"]["fields"] == {"description": {"from": "second", "to": "draft"}}
    two = await api.ok("GET", f"/v1/mcp-servers/{server_id}/revisions/2")
    # Backend credentials stay write-only in a revision too.
    assert "secret-token" not in msgspec.json.encode(two).decode()
    assert '+      defaultCredential: "******"' in two["diff"]["tools"]


async def test_rollback_publishes_an_earlier_revision_as_a_new_one(api: Api) -> None:
    server_id = await api.create_server("rolled", description="first")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML, headers=YAML)
    done = await api.ok("POST", f"/v1/mcp-servers/{server_id}/revisions/1:rollback")
    assert done["published"] == 3
    server = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert server["description"] == "first" and server["mcpServerConfig"] == ""  # revision 1 had no tools
    # Rolling back an undeployed server publishes it.
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/undeploy")
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/revisions/2:rollback")
    server = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert server["deployStatus"] == "Deployed" and server["mcpServerConfig"]


async def test_unknown_and_malformed_revisions(api: Api) -> None:
    server_id = await api.create_server("few")
    missing = await api.call("GET", f"/v1/mcp-servers/{server_id}/revisions/9")
    assert missing.status == 404 and "revision" in missing.message
    missing = await api.call("POST", f"/v1/mcp-servers/{server_id}/revisions/9:rollback")
    assert missing.status == 404 and "revision" in missing.message
    bad = await api.call("GET", f"/v1/mcp-servers/{server_id}/revisions/first")
    assert bad.status == 400 and "revision" in bad.message
    assert (await api.call("GET", "/v1/mcp-servers/mcp-nosuchserver/revisions")).status == 404
    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")
    again = await api.create_server("few")
    assert await _numbers(api, again) == [1]


async def test_only_the_last_n_are_kept_and_they_survive_a_restart(nats_url: str, root: str) -> None:
    settings = msgspec.structs.replace(settings_for(nats_url, root), revisions_kept=3)
    first = RegistryService(settings)
    await first.start()
    async with aiohttp.ClientSession(f"http://127.0.0.1:{first.port}") as session:
        api = Api(session, first)
        server_id = await api.create_server("durable")
        for n in range(2, 6):
            await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": f"v{n}"})
        assert await _numbers(api, server_id) == [5, 4, 3]
        before = await api.ok("GET", f"/v1/mcp-servers/{server_id}/revisions/4")
    await first.stop()

    second = RegistryService(settings)
    await second.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{second.port}") as session:
            api = Api(session, second)
            assert await _numbers(api, server_id) == [5, 4, 3]
            assert await api.ok("GET", f"/v1/mcp-servers/{server_id}/revisions/4") == before
            assert (await api.call("GET", f"/v1/mcp-servers/{server_id}/revisions/2")).status == 404
            await api.ok("POST", f"/v1/mcp-servers/{server_id}/revisions/3:rollback")
            assert (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["description"] == "v3"
    finally:
        await second.stop()


async def test_an_undeployed_server_is_found_by_no_lookup(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("s")
    server_id = await api.create_server("h", **hosted(service_id))
    rest_id = await api.create_server("rest")

    async def found() -> tuple[bool, bool, bool]:
        upstream = await bus.request(bus.subjects.registry_upstream_lookup, UpstreamLookup(server_id=server_id),
                                     UpstreamLookupReply)
        edge = await bus.request(bus.subjects.registry_edge_lookup, EdgeServerLookup(name="rest"),
                                 EdgeServerLookupReply)
        snapshot = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=rest_id),
                                     ServerLookupReply)
        return upstream.upstream is not None, edge.server is not None, snapshot.server is not None

    assert await found() == (True, True, True)
    for undeploy in (server_id, rest_id):
        await api.ok("POST", f"/v1/mcp-servers/{undeploy}/undeploy")
    assert await found() == (False, False, False)
    for deploy in (server_id, rest_id):
        await api.ok("POST", f"/v1/mcp-servers/{deploy}/deploy")
    assert await found() == (True, True, True)
