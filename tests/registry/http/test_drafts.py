"""A draft beside the published record (issue 13): `"deploy": false` saves what the operator edits
while the data plane keeps being given the published record; deploy publishes the draft; a deploy
that cannot publish is a 400 and leaves the server `DeployFailed` with the reason."""

from __future__ import annotations

import asyncio
import base64

import msgspec
import pytest
from nats.js.errors import KeyNotFoundError

from mcpgw.contracts.registry import (
    ConfigChanged,
    EdgeServerLookup,
    EdgeServerLookupReply,
    ServerLookup,
    ServerLookupReply,
)
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.openapi_docs import v1
from tests.registry.tools_samples import WEATHER_YAML

YAML = {"Content-Type": "application/yaml"}
NEW_TOOLS = WEATHER_YAML.replace("get_forecast", "get_outlook")


async def _served(bus: Bus, server_id: str, name: str) -> tuple[int, list[str], list[str]]:
    """The revision and tool names toolexec and the edge are given."""
    snapshot = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(server_id=server_id),
                                 ServerLookupReply)
    edge = await bus.request(bus.subjects.registry_edge_lookup, EdgeServerLookup(name=name), EdgeServerLookupReply)
    assert snapshot.server is not None and edge.server is not None
    assert snapshot.server.revision == edge.server.revision
    return (snapshot.server.revision, sorted(t.name for t in snapshot.server.tools),
            sorted(t.name for t in edge.server.listing))


async def test_a_draft_is_not_served_until_deployed(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("drafty", description="first",
                                        mcpServerConfig={"mcpServerSpec": WEATHER_YAML})
    before = await _served(bus, server_id, "drafty")
    assert before[1] == ["echo.text", "get_forecast"]
    events: asyncio.Queue[ConfigChanged] = asyncio.Queue()

    async def heard(msg: object) -> None:
        await events.put(msgspec.json.decode(msg.data, type=ConfigChanged))  # type: ignore[attr-defined]

    sub = await bus.nc.subscribe(bus.subjects.event_server(server_id), cb=heard)
    try:
        saved = await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={
            "description": "second", "deploy": False, "mcpServerConfig": {"mcpServerSpec": NEW_TOOLS}})
        assert saved == {"mcpServerId": server_id, "revision": before[0], "published": False}
        shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
        assert shown["description"] == "second" and "get_outlook" in base64.b64decode(shown["mcpServerConfig"]).decode()
        assert (shown["deployStatus"], shown["publishedRevision"], shown["hasUnpublishedChanges"],
                shown["revision"]) == ("Deployed", 1, True, before[0])
        assert "get_outlook" in (await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")).body
        assert await _served(bus, server_id, "drafty") == before  # the data plane sees no change
        listed = await api.ok("GET", "/v1/mcp-servers?nameLike=drafty")
        assert listed["items"][0]["description"] == "second" and listed["items"][0]["hasUnpublishedChanges"]
        # A second draft save over the first, now through PUT …/tools?deploy=false.
        saved = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools?deploy=false",
                             data=NEW_TOOLS.replace("Forecast", "Outlook"), headers=YAML)
        assert saved["revision"] == before[0] and saved["published"] is False
        assert len((await api.ok("GET", f"/v1/mcp-servers/{server_id}/revisions"))["items"]) == 1

        deployed = await api.ok("POST", f"/v1/mcp-servers/{server_id}/deploy")
        assert deployed["revision"] > before[0]
        # The first event is the publish's: the draft saves sent none.
        assert (await asyncio.wait_for(events.get(), 5)).revision == deployed["revision"]
    finally:
        await sub.unsubscribe()
    assert await _served(bus, server_id, "drafty") == (deployed["revision"], ["echo.text", "get_outlook"],
                                                              ["echo.text", "get_outlook"])
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert (shown["description"], shown["publishedRevision"], shown["hasUnpublishedChanges"]) == ("second", 2, False)
    assert "deployError" not in shown
    bad = await api.call("PUT", f"/v1/mcp-servers/{server_id}/tools?deploy=later", data=NEW_TOOLS, headers=YAML)
    assert bad.status == 400 and bad.message.startswith("deploy:")


async def test_a_one_step_save_publishes_the_draft_with_it(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("onestep", mcpServerConfig={"mcpServerSpec": WEATHER_YAML})
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "drafted", "deploy": False})
    done = await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=NEW_TOOLS, headers=YAML)
    assert done["published"] is True
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert shown["description"] == "drafted" and not shown["hasUnpublishedChanges"]
    assert (await _served(bus, server_id, "onestep"))[1] == ["echo.text", "get_outlook"]


async def test_rollback_publishes_an_earlier_revision_and_drops_the_draft(api: Api, bus: Bus) -> None:
    server_id = await api.create_server("back", description="one", mcpServerConfig={"mcpServerSpec": WEATHER_YAML})
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "two"})
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "draft", "deploy": False})
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/revisions/1:rollback")
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert (shown["description"], shown["hasUnpublishedChanges"], shown["publishedRevision"]) == ("one", False, 3)


async def test_an_undeployed_server_keeps_its_draft_apart(api: Api) -> None:
    server_id = await api.create_server("quiet", description="saved")
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/undeploy")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"description": "edited", "deploy": False})
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert (shown["deployStatus"], shown["description"], shown["hasUnpublishedChanges"]) == \
        ("NotDeployed", "edited", True)
    created = await api.ok("POST", "/v1/mcp-servers", json={"name": "never", "deploy": False})
    shown = await api.ok("GET", f"/v1/mcp-servers/{created['mcpServerId']}")
    assert (shown["deployStatus"], shown["publishedRevision"], shown["hasUnpublishedChanges"]) == \
        ("NotDeployed", None, True)


async def test_a_deploy_that_cannot_publish_leaves_deploy_failed_and_keeps_serving(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("gone")
    server_id = await api.create_server("failing", mcpServerConfig={"mcpServerSpec": WEATHER_YAML})
    before = await _served(bus, server_id, "failing")
    # The draft names a service that exists when it is saved; a draft holds no link, so the service
    # can be deleted before the draft is deployed.
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={
        "deploy": False, "mcpServerConfig": {"mcpServerSpec": NEW_TOOLS},
        "backendConfig": {"services": [{"serviceId": service_id}]}})
    await api.ok("DELETE", f"/v1/services/{service_id}")
    failed = await api.call("POST", f"/v1/mcp-servers/{server_id}/deploy")
    assert failed.status == 400 and failed.message.startswith("backendConfig.services[0].serviceId:"), failed.body
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert shown["deployStatus"] == "DeployFailed" and shown["publishedRevision"] == 1
    assert shown["deployError"]["field"] == "backendConfig.services[0].serviceId"
    assert service_id in shown["deployError"]["message"]
    assert await _served(bus, server_id, "failing") == before  # the published record keeps serving
    listed = await api.ok("GET", "/v1/mcp-servers?deployStatuses=DeployFailed")
    assert [item["mcpServerId"] for item in listed["items"]] == [server_id]

    # A domain taken by another server meanwhile fails the same way.
    domain = await api.ok("POST", "/v1/domains", json={"name": "tools.example.com", "protocol": "HTTP"})
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={
        "deploy": False, "backendConfig": None, "domainIds": [domain["domainId"]]})
    await api.create_server("taker", domainIds=[domain["domainId"]])
    failed = await api.call("POST", f"/v1/mcp-servers/{server_id}/deploy")
    assert failed.status == 400 and failed.message.startswith("domainIds[0]:"), failed.body
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert shown["deployError"]["field"] == "domainIds[0]" and "taker" in shown["deployError"]["message"]

    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"deploy": False, "domainIds": []})
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/deploy")
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert shown["deployStatus"] == "Deployed" and "deployError" not in shown
    assert (await _served(bus, server_id, "failing"))[1] == ["echo.text", "get_outlook"]


async def test_undeploy_clears_a_deploy_failure_and_delete_forgets_the_draft(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("short")
    server_id = await api.create_server("brief")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={
        "deploy": False, "backendConfig": {"services": [{"serviceId": service_id}]}})
    await api.ok("DELETE", f"/v1/services/{service_id}")
    assert (await api.call("POST", f"/v1/mcp-servers/{server_id}/deploy")).status == 400
    await api.ok("POST", f"/v1/mcp-servers/{server_id}/undeploy")
    shown = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert shown["deployStatus"] == "NotDeployed" and "deployError" not in shown and shown["hasUnpublishedChanges"]
    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")
    kv = await bus.nc.jetstream().key_value(api.service.settings.kv_bucket)
    for key in (f"drafts.{server_id}", f"deploy-failures.{server_id}", f"secrets.{server_id}"):
        with pytest.raises(KeyNotFoundError):
            await kv.get(key)


async def test_an_import_and_its_edits_are_published_once(api: Api, bus: Bus) -> None:
    """What the console's import does with edits: the import and each tool's edit are saved as the
    draft (`?deploy=false`), so a tool left out is never served, and one deploy publishes them."""
    server_id = await api.create_server("pets")
    before = await _served(bus, server_id, "pets")
    imported = await api.ok("POST", f"/v1/mcp-servers/{server_id}/tools/import?deploy=false", data=v1(),
                            headers=YAML)
    assert imported["applied"] is True and imported["published"] is False
    assert "deletePet" in imported["tools"]
    assert await _served(bus, server_id, "pets") == before  # nothing of the import is served yet
    patched = await api.ok("PATCH", f"/v1/mcp-servers/{server_id}/tools/deletePet?deploy=false",
                           json={"disabled": True})
    assert patched["revision"] == before[0]
    assert await _served(bus, server_id, "pets") == before
    refused = await api.call("PATCH", f"/v1/mcp-servers/{server_id}/tools/getPet?deploy=maybe",
                             json={"description": "x"})
    assert refused.status == 400 and refused.body["message"].startswith("deploy:")

    await api.ok("POST", f"/v1/mcp-servers/{server_id}/deploy")
    _, tools, listed = await _served(bus, server_id, "pets")
    assert "deletePet" not in tools and "deletePet" not in listed and "getPet" in listed
