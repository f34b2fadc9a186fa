"""Authorization rules: the batch and per-consumer APIs, all-or-nothing checks, cascades, events, the index."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mcpgw.contracts.registry import AuthIndex, AuthIndexRequest, ConfigChanged
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.tools_samples import WEATHER_YAML

YAML = {"Content-Type": "application/yaml"}


def rule(consumer_id: str, server_id: str, tools: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    identifier: dict[str, Any] = {"resourceId": server_id}
    if tools is not None:
        identifier["resources"] = tools
    return {"consumerId": consumer_id, "resourceType": "MCP", "resourceIdentifier": identifier,
            "expireMode": "LongTerm", **extra}


async def _setup(api: Api) -> tuple[str, str, str]:
    server_id = await api.create_server("weather")
    await api.ok("PUT", f"/v1/mcp-servers/{server_id}/tools", data=WEATHER_YAML, headers=YAML)
    alice = (await api.ok("POST", "/v1/consumers", json={"name": "alice"}))["consumerId"]
    bob = (await api.ok("POST", "/v1/consumers", json={"name": "bob"}))["consumerId"]
    return server_id, alice, bob


async def _events(bus: Bus) -> asyncio.Queue[ConfigChanged]:
    queue: asyncio.Queue[ConfigChanged] = asyncio.Queue()

    async def handle(event: ConfigChanged) -> None:
        await queue.put(event)

    await bus.subscribe(bus.subjects.events_grant_all, ConfigChanged, handle)  # live once it returns
    return queue


async def test_batch_create_query_and_delete(api: Api, bus: Bus) -> None:
    server_id, alice, bob = await _setup(api)
    events = await _events(bus)
    created = await api.ok("POST", "/v1/authorization-rules", json={"authorizationRules": [
        rule(alice, server_id), rule(bob, server_id, ["get_forecast", "get_forecast"])]})
    ids = created["consumerAuthorizationRuleIds"]
    assert len(ids) == 2 and all(i.startswith("car-") for i in ids)
    seen = [await asyncio.wait_for(events.get(), 5) for _ in ids]
    assert {(e.entity, e.id, e.op) for e in seen} == {("grant", i, "put") for i in ids}
    assert all(e.revision > 0 for e in seen)

    listed = await api.ok("GET", f"/v1/authorization-rules?resourceId={server_id}")
    assert listed["totalSize"] == "2"  # a string in this list, as in the reference
    by_consumer = {item["consumerId"]: item for item in listed["items"]}
    item = by_consumer[bob]
    assert item["resourceIdentifier"] == {"resourceId": server_id, "resources": ["get_forecast"]}
    assert item["consumerInfo"] == {"consumerId": bob, "name": "bob", "enable": True}
    assert item["resourceInfo"]["mcpServerName"] == "weather"
    assert (item["resourceType"], item["expireMode"], item["expireStatus"]) == ("MCP", "LongTerm", "InEffect")
    assert "resources" not in by_consumer[alice]["resourceIdentifier"]

    only_alice = await api.ok("GET", f"/v1/authorization-rules?consumerId={alice}")
    assert [i["consumerId"] for i in only_alice["items"]] == [alice]
    assert (await api.ok("GET", "/v1/authorization-rules?consumerNameLike=BO"))["totalSize"] == "1"
    assert (await api.ok("GET", "/v1/authorization-rules?resourceType=API"))["totalSize"] == "0"
    paged = await api.ok("GET", "/v1/authorization-rules?pageSize=1&pageNumber=2")
    assert (paged["pageNumber"], paged["pageSize"], len(paged["items"])) == (2, 1, 1)

    # Batch delete is all or nothing: one unknown id, nothing deleted.
    missing = await api.call("DELETE", f"/v1/authorization-rules?consumerAuthorizationRuleIds={ids[0]},car-x")
    assert missing.status == 404 and "car-x" in missing.message
    assert (await api.ok("GET", "/v1/authorization-rules"))["totalSize"] == "2"
    await api.ok("DELETE", f"/v1/authorization-rules?consumerAuthorizationRuleIds={ids[0]},{ids[1]}")
    assert (await api.ok("GET", "/v1/authorization-rules"))["totalSize"] == "0"
    gone = [await asyncio.wait_for(events.get(), 5) for _ in ids]
    assert {(e.id, e.op) for e in gone} == {(i, "delete") for i in ids}
    assert all(e.revision > max(s.revision for s in seen) for e in gone)


async def test_all_or_nothing_validation_names_the_field(api: Api) -> None:
    server_id, alice, _ = await _setup(api)
    cases = [
        ({"authorizationRules": []}, "authorizationRules: at least one rule"),
        ({"authorizationRules": [rule(alice, server_id), rule("cs-0000000000000000", server_id)]},
         "authorizationRules[1].consumerId: no consumer 'cs-0000000000000000'"),
        ({"authorizationRules": [rule(alice, "mcp-0000000000000000")]},
         "authorizationRules[0].resourceIdentifier.resourceId: no MCP server 'mcp-0000000000000000'"),
        ({"authorizationRules": [rule(alice, server_id, ["get_forecast", "nope"])]},
         "authorizationRules[0].resourceIdentifier.resources[1]: the MCP server has no tool 'nope'"),
        ({"authorizationRules": [rule(alice, server_id, [])]},
         "authorizationRules[0].resourceIdentifier.resources: must name at least one tool"),
        ({"authorizationRules": [{**rule(alice, server_id), "resourceType": "API"}]},
         "authorizationRules[0].resourceType: 'API': only 'MCP'"),
        ({"authorizationRules": [{**rule(alice, server_id), "resourceIdentifier": None}]},
         "authorizationRules[0].resourceIdentifier.resourceId: is required"),
        ({"authorizationRules": [{**rule(alice, server_id), "expireMode": "ShortTerm"}]},
         "authorizationRules[0].expireTimestamp: is required when expireMode is ShortTerm"),
        ({"authorizationRules": [{**rule(alice, server_id), "expireMode": "ShortTerm", "expireTimestamp": 5}]},
         "authorizationRules[0].expireTimestamp: must be in the future"),
        ({"authorizationRules": [{**rule(alice, server_id), "expireMode": "Forever"}]},
         "authorizationRules[0].expireMode: "),
        ({"authorizationRules": [{**rule(alice, server_id), "color": 1}]},
         "authorizationRules[0].color: unknown field"),
    ]
    for body, message in cases:
        reply = await api.call("POST", "/v1/authorization-rules", json=body)
        assert reply.status == 400, (body, reply.body)
        assert reply.message.startswith(message), reply.message
    assert (await api.ok("GET", "/v1/authorization-rules"))["totalSize"] == "0"


async def test_per_consumer_rules(api: Api) -> None:
    server_id, alice, bob = await _setup(api)
    base = f"/v1/consumers/{alice}/authorization-rules"
    until = int(time.time() * 1000) + 3_600_000
    created = await api.ok("POST", base, json={
        "resourceType": "MCP", "authorizationResourceInfos": [{"resourceId": server_id, "resources": ["echo.text"]}],
        "expireMode": "ShortTerm", "expireTimestamp": until})
    rule_id = created["consumerAuthorizationRuleId"]
    assert created["consumerAuthorizationRuleIds"] == [rule_id]
    got = await api.ok("GET", f"{base}/{rule_id}")
    assert got["expireTimestamp"] == until and got["resourceIdentifier"]["resources"] == ["echo.text"]
    assert (await api.ok("GET", base))["totalSize"] == "1"
    assert (await api.ok("GET", f"/v1/consumers/{bob}/authorization-rules"))["totalSize"] == "0"
    # Another consumer's path does not reach alice's rule.
    assert (await api.call("GET", f"/v1/consumers/{bob}/authorization-rules/{rule_id}")).status == 404
    assert (await api.call("GET", "/v1/consumers/cs-0000000000000000/authorization-rules")).status == 404

    updated = await api.ok("PUT", f"{base}/{rule_id}", json={
        "authorizationResourceInfos": [{"resourceId": server_id}], "expireMode": "LongTerm"})
    assert updated["revision"] > got["revision"]
    got = await api.ok("GET", f"{base}/{rule_id}")
    assert "resources" not in got["resourceIdentifier"] and got["expireMode"] == "LongTerm"
    assert "expireTimestamp" not in got
    two = await api.call("PUT", f"{base}/{rule_id}", json={"authorizationResourceInfos": [
        {"resourceId": server_id}, {"resourceId": server_id}]})
    assert two.status == 400 and two.message.startswith("authorizationResourceInfos: must hold exactly one")
    unknown_tool = await api.call("PUT", f"{base}/{rule_id}", json={"authorizationResourceInfos": [
        {"resourceId": server_id, "resources": ["nope"]}]})
    assert unknown_tool.message == "authorizationResourceInfos[0].resources[0]: the MCP server has no tool 'nope'"

    assert (await api.call("DELETE", f"/v1/consumers/{bob}/authorization-rules/{rule_id}")).status == 404
    await api.ok("DELETE", f"{base}/{rule_id}")
    assert (await api.call("GET", f"{base}/{rule_id}")).status == 404
    assert (await api.call("DELETE", f"/v1/authorization-rules/{rule_id}")).status == 404


async def test_deleting_a_consumer_or_server_deletes_its_rules(api: Api, bus: Bus) -> None:
    server_id, alice, bob = await _setup(api)
    other = await api.create_server("other")
    # Subscribed first: the creations' events are published asynchronously and must not be
    # mistaken for the deletions'.
    events = await _events(bus)
    await api.ok("POST", "/v1/authorization-rules", json={"authorizationRules": [
        rule(alice, server_id), rule(alice, other), rule(bob, server_id)]})
    assert {(await asyncio.wait_for(events.get(), 5)).op for _ in range(3)} == {"put"}
    await api.ok("DELETE", f"/v1/consumers/{alice}")
    remaining = (await api.ok("GET", "/v1/authorization-rules"))["items"]
    assert [(i["consumerId"], i["resourceId"]) for i in remaining] == [(bob, server_id)]
    assert {(await asyncio.wait_for(events.get(), 5)).op for _ in range(2)} == {"delete"}
    await api.ok("DELETE", f"/v1/mcp-servers/{server_id}")
    assert (await api.ok("GET", "/v1/authorization-rules"))["totalSize"] == "0"


async def test_the_auth_index_carries_grants_and_a_revision(api: Api, bus: Bus) -> None:
    server_id, alice, bob = await _setup(api)
    events = await _events(bus)
    created = await api.ok("POST", "/v1/authorization-rules", json={"authorizationRules": [
        rule(alice, server_id), rule(bob, server_id, ["get_forecast"])]})
    assert {(await asyncio.wait_for(events.get(), 5)).op for _ in range(2)} == {"put"}
    updated = await api.ok("PUT", f"/v1/consumers/{bob}", json={"enable": False})
    index = await bus.request(bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex)
    assert index.revision >= updated["revision"]
    grants = {g.consumer_id: g for g in index.grants}
    assert set(grants) == {alice, bob}
    assert grants[alice].tools is None and grants[alice].server_id == server_id
    assert grants[bob].tools == ["get_forecast"] and grants[bob].expires_at == 0
    assert {g.rule_id for g in index.grants} == set(created["consumerAuthorizationRuleIds"])

    await api.ok("DELETE", f"/v1/authorization-rules/{grants[bob].rule_id}")
    event = await asyncio.wait_for(events.get(), 5)
    index = await bus.request(bus.subjects.registry_auth_index, AuthIndexRequest(), AuthIndex)
    # An index read after the revocation event reflects it.
    assert index.revision >= event.revision
    assert [g.consumer_id for g in index.grants] == [alice]
