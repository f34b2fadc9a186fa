"""Assembled MCP servers: sources checked when written, the snapshot's sources, how sources stand when
read (status, missingTools), and the events that tell edges an assembly's tools changed."""

from __future__ import annotations

import asyncio
import json

import pytest
from nats.aio.subscription import Subscription

from mcpgw.contracts.hosting import AssemblySource, UpstreamTools, UpstreamToolsReply
from mcpgw.contracts.registry import ConfigChanged, ServerLookup, ServerLookupReply
from mcpgw.runtime.bus import Bus
from tests.registry.conftest import Api
from tests.registry.resources.hosted.test_servers import hosted

YAML = {"Content-Type": "application/yaml"}


def tools_yaml(*names: str) -> str:
    tools = "".join(f"  - name: {n}\n    requestTemplate:\n      url: https://api.example.com/{n}\n" for n in names)
    return f"server:\n  name: s\ntools:\n{tools}"


async def rest_server(api: Api, name: str, *tools: str) -> str:
    return await api.create_server(name, mcpServerConfig={"mcpServerSpec": tools_yaml(*tools)})


def assembly(*sources: dict[str, object]) -> dict[str, object]:
    return {"type": "AssemblyMCP", "assembledSources": list(sources)}


async def hosting_answers(bus: Bus, tools: dict[str, list[str]]) -> Subscription:
    """Stand in for the hosting worker: the tool names of the hosted servers in `tools`."""
    async def names(request: UpstreamTools) -> UpstreamToolsReply:
        return UpstreamToolsReply(names=tools.get(request.server_id, []))

    return await bus.serve(bus.subjects.hosting_tools, UpstreamTools, names)


async def test_create_snapshot_and_view(api: Api, bus: Bus) -> None:
    weather = await rest_server(api, "weather", "forecast", "alerts")
    news = await rest_server(api, "news", "headlines", "alerts")
    server_id = await api.create_server("both", **assembly(
        {"mcpServerId": weather, "tools": ["forecast", "alerts"], "toolAliases": {"alerts": "weather_alerts"}},
        {"mcpServerName": "news"}))
    got = await api.ok("GET", f"/v1/mcp-servers/{server_id}")
    assert (got["type"], got["createFromType"], got["mcpServerPath"]) == ("AssemblyMCP", "ApiGatewayAssembly",
                                                                          "/mcp-servers/both")
    assert got["assembledSources"] == [
        {"mcpServerId": weather, "mcpServerName": "weather", "tools": ["forecast", "alerts"],
         "toolAliases": {"alerts": "weather_alerts"}, "status": "Ok", "missingTools": []},
        {"mcpServerId": news, "mcpServerName": "news", "tools": [], "toolAliases": {}, "status": "Ok",
         "missingTools": []}]
    listed = await api.ok("GET", "/v1/mcp-servers?type=AssemblyMCP")
    assert listed["items"][0]["assembledSources"] == got["assembledSources"]

    reply = await bus.request(bus.subjects.registry_server_lookup, ServerLookup(name="both"), ServerLookupReply)
    snapshot = reply.server
    assert snapshot is not None and snapshot.kind == "assembly" and snapshot.hosted is None
    assert snapshot.tools == [] and snapshot.listing == []
    assert snapshot.sources == [
        AssemblySource(server_id=weather, name="weather", tools=["forecast", "alerts"],
                       aliases={"alerts": "weather_alerts"}),
        AssemblySource(server_id=news, name="news")]


@pytest.mark.parametrize(("sources", "message"), [
    ([{"mcpServerId": "mcp-0000000000000000"}],
     "assembledSources[0].mcpServerId: no MCP server 'mcp-0000000000000000'"),
    ([{"mcpServerName": "nowhere"}], "assembledSources[0].mcpServerName: no MCP server named 'nowhere'"),
    ([{"mcpServerId": "WEATHER", "mcpServerName": "news"}],
     "assembledSources[0].mcpServerName: is 'news', but MCP server WEATHER is named 'weather'"),
    ([{"mcpServerId": "WEATHER"}, {"mcpServerName": "weather"}],
     "assembledSources[1].mcpServerId: MCP server 'weather' is already assembledSources[0]"),
    ([{"mcpServerId": "WEATHER", "tools": ["forecast", "nope"]}],
     "assembledSources[0].tools[1]: MCP server 'weather' has no tool 'nope'"),
    ([{"mcpServerId": "WEATHER", "tools": ["forecast", "forecast"]}], "assembledSources[0].tools: lists a tool twice"),
    ([{"mcpServerId": "WEATHER", "toolAliases": {"nope": "x"}}],
     "assembledSources[0].toolAliases.nope: MCP server 'weather' has no tool 'nope'"),
    ([{"mcpServerId": "WEATHER", "tools": ["forecast"], "toolAliases": {"alerts": "x"}}],
     "assembledSources[0].toolAliases.alerts: renames 'alerts', which is not among this source's tools"),
    ([{"mcpServerId": "WEATHER", "toolAliases": {"alerts": "has space"}}],
     "assembledSources[0].toolAliases.alerts: 'has space' is not a valid MCP tool name"),
    ([{"mcpServerId": "WEATHER", "toolAliases": {"alerts": "x" * 129}}], "assembledSources[0].toolAliases.alerts: "),
    ([{"mcpServerId": "WEATHER"}, {"mcpServerId": "NEWS"}],
     "assembledSources[1].tools: tool 'alerts' of MCP server 'news' (as 'alerts') clashes with tool 'alerts' of "
     "MCP server 'weather' (assembledSources[0]); rename one of them with toolAliases"),
    ([{"mcpServerId": "WEATHER"}, {"mcpServerId": "NEWS", "toolAliases": {"headlines": "forecast"}}],
     "assembledSources[1].tools: tool 'alerts' of MCP server 'news'"),
    ([{"mcpServerId": "WEATHER", "toolAliases": {"alerts": "forecast"}}],
     "assembledSources[0].tools: tool 'forecast' of MCP server 'weather' (as 'forecast') clashes with tool "
     "'alerts' of MCP server 'weather'"),
    ([{"mcpServerId": "ASSEMBLY"}],
     "assembledSources[0].mcpServerId: MCP server 'inner' is an assembly; an assembly draws only from"),
    ([{}], "assembledSources[0]: needs mcpServerId or mcpServerName"),
    ([{"mcpServerId": "WEATHER", "tool": []}], "assembledSources[0].tool: unknown field"),
])
async def test_invalid_sources_name_the_field(api: Api, sources: list[dict[str, object]], message: str) -> None:
    ids = {"WEATHER": await rest_server(api, "weather", "forecast", "alerts"),
           "NEWS": await rest_server(api, "news", "headlines", "alerts")}
    ids["ASSEMBLY"] = await api.create_server("inner", **assembly({"mcpServerId": ids["NEWS"]}))
    text = json.dumps({"name": "x", **assembly(*sources)})
    for placeholder, server_id in ids.items():
        text = text.replace(placeholder, server_id)
    reply = await api.call("POST", "/v1/mcp-servers", data=text, headers={"Content-Type": "application/json"})
    assert (reply.status, reply.body["code"]) == (400, "InvalidParameter"), reply.body
    expected = message
    for placeholder, server_id in ids.items():
        expected = expected.replace(placeholder, server_id)
    assert reply.message.startswith(expected), reply.message


@pytest.mark.parametrize(("fields", "message"), [
    ({"backendConfig": {"services": []}}, "backendConfig: an assembly has no backend of its own"),
    ({"exposedUriPath": "/mcp"}, "exposedUriPath: an assembly has no upstream path"),
    ({"mcpServerConfig": {"mcpServerSpec": tools_yaml("t")}}, "mcpServerConfig.mcpServerSpec: an assembly has no "
                                                              "tools document"),
    ({"assembledSources": []}, "assembledSources: is required when type is AssemblyMCP"),
    ({"createFromType": "ApiGatewayMcpHosting"}, "createFromType: ApiGatewayMcpHosting does not fit an assembly"),
])
async def test_an_assembly_has_no_fields_of_other_kinds(api: Api, fields: dict[str, object], message: str) -> None:
    source = await rest_server(api, "source", "t")
    reply = await api.call("POST", "/v1/mcp-servers", json={"name": "x", **assembly({"mcpServerId": source}),
                                                            **fields})
    assert reply.status == 400 and reply.message.startswith(message), reply.body


async def test_aliases_keep_clashing_tools_apart(api: Api) -> None:
    weather = await rest_server(api, "weather", "forecast", "alerts")
    news = await rest_server(api, "news", "headlines", "alerts")
    server_id = await api.create_server("both", **assembly(
        {"mcpServerId": weather}, {"mcpServerId": news, "toolAliases": {"alerts": "news.alerts"}}))
    # A source cannot become an assembly while assemblies draw from it.
    refused = await api.call("PUT", f"/v1/mcp-servers/{news}", json={
        "type": "AssemblyMCP", "mcpServerConfig": None, "assembledSources": [{"mcpServerId": weather}]})
    assert refused.status == 400 and refused.message.startswith("type: assemblies draw from this server (both)")
    # An update re-checks: dropping the alias brings the clash back.
    clash = await api.call("PUT", f"/v1/mcp-servers/{server_id}",
                           json={"assembledSources": [{"mcpServerId": weather}, {"mcpServerId": news}]})
    assert clash.status == 400 and "clashes with tool 'alerts'" in clash.message


async def test_status_when_sources_change_or_go(api: Api, bus: Bus) -> None:
    weather = await rest_server(api, "weather", "forecast", "alerts")
    news = await rest_server(api, "news", "headlines")
    server_id = await api.create_server("both", **assembly(
        {"mcpServerId": weather, "tools": ["forecast", "alerts"]}, {"mcpServerId": news, "tools": ["headlines"]}))
    revision = (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["revision"]

    events: asyncio.Queue[ConfigChanged] = asyncio.Queue()

    async def seen(event: ConfigChanged) -> None:
        await events.put(event)

    await bus.subscribe(bus.subjects.event_server(server_id), ConfigChanged, seen)

    # A source that loses a tool: the assembly is announced, and reports what is missing.
    await api.ok("PUT", f"/v1/mcp-servers/{weather}/tools", data=tools_yaml("forecast"), headers=YAML)
    event = await asyncio.wait_for(events.get(), 5)
    assert (event.entity, event.id, event.op, event.name, event.revision) == ("server", server_id, "put", "both",
                                                                               revision)
    sources = (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["assembledSources"]
    assert [(s["status"], s["missingTools"]) for s in sources] == [("ToolsMissing", ["alerts"]), ("Ok", [])]

    # A source that goes: allowed, announced, and reported.
    await api.ok("DELETE", f"/v1/mcp-servers/{news}")
    await asyncio.wait_for(events.get(), 5)
    sources = (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["assembledSources"]
    assert [(s["status"], s["missingTools"]) for s in sources] == [("ToolsMissing", ["alerts"]),
                                                                   ("SourceMissing", ["headlines"])]
    listed = await api.ok("GET", "/v1/mcp-servers?type=AssemblyMCP")
    assert listed["items"][0]["assembledSources"] == sources
    # A change of a server no assembly draws from says nothing about this one.
    other = await rest_server(api, "other", "t")
    await api.ok("PUT", f"/v1/mcp-servers/{other}", json={"description": "d"})
    await api.ok("PUT", f"/v1/mcp-servers/{weather}", json={"description": "d"})
    assert (await asyncio.wait_for(events.get(), 5)).id == server_id
    assert events.empty()


async def test_hosted_sources_are_checked_when_hosting_answers(api: Api, bus: Bus) -> None:
    service_id = await api.create_service("s")
    upstream = await api.create_server("upstream", **hosted(service_id))
    weather = await rest_server(api, "weather", "forecast")

    # No hosting worker: the tools cannot be checked, so the assembly is accepted and says so.
    server_id = await api.create_server("mixed", **assembly(
        {"mcpServerId": upstream, "tools": ["search", "fetch"]}, {"mcpServerId": weather}))
    sources = (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["assembledSources"]
    assert [s["status"] for s in sources] == ["Unchecked", "Ok"]

    tools = {upstream: ["search", "forecast"]}
    responder = await hosting_answers(bus, tools)
    try:
        sources = (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["assembledSources"]
        assert [(s["status"], s["missingTools"]) for s in sources] == [("ToolsMissing", ["fetch"]), ("Ok", [])]
        missing = await api.call("PUT", f"/v1/mcp-servers/{server_id}", json={"assembledSources": [
            {"mcpServerId": upstream, "tools": ["search", "fetch"]}]})
        assert missing.status == 400 and missing.message == (
            "assembledSources[0].tools[1]: MCP server 'upstream' has no tool 'fetch'")
        # All of the upstream's tools: its 'forecast' clashes with the REST source's.
        clash = await api.call("PUT", f"/v1/mcp-servers/{server_id}", json={"assembledSources": [
            {"mcpServerId": upstream}, {"mcpServerId": weather}]})
        assert clash.status == 400 and clash.message.startswith(
            "assembledSources[1].tools: tool 'forecast' of MCP server 'weather'")
        await api.ok("PUT", f"/v1/mcp-servers/{server_id}", json={"assembledSources": [
            {"mcpServerId": upstream, "toolAliases": {"forecast": "upstream_forecast"}}, {"mcpServerId": weather}]})
        sources = (await api.ok("GET", f"/v1/mcp-servers/{server_id}"))["assembledSources"]
        assert [s["status"] for s in sources] == ["Ok", "Ok"]
    finally:
        await responder.unsubscribe()


async def test_tool_names_of_every_kind(api: Api, bus: Bus) -> None:
    """`GET …/tool-names`: what per-tool grants pick from; an assembly's follow its sources' picks."""
    weather = await rest_server(api, "weather", "forecast", "alerts", "radar")
    news = await rest_server(api, "news", "headlines", "alerts")
    both = await api.create_server("both", **assembly(
        {"mcpServerId": weather, "tools": ["forecast", "alerts"], "toolAliases": {"alerts": "weather_alerts"}},
        {"mcpServerName": "news"}))
    assert (await api.ok("GET", f"/v1/mcp-servers/{weather}/tool-names"))["tools"] == ["alerts", "forecast", "radar"]
    # The first source's in its order, renamed; then the second's; `radar` was not picked.
    assert (await api.ok("GET", f"/v1/mcp-servers/{both}/tool-names"))["tools"] == [
        "weather_alerts", "forecast", "alerts", "headlines"]

    service = await api.create_service("mcp", "10.0.0.1:8080", source_type="VIP")
    upstream = await api.create_server("up", **hosted(service))
    assert (await api.ok("GET", f"/v1/mcp-servers/{upstream}/tool-names"))["tools"] is None  # no hosting worker
    with_up = await api.create_server("with-up", **assembly({"mcpServerId": upstream}, {"mcpServerId": news}))
    assert (await api.ok("GET", f"/v1/mcp-servers/{with_up}/tool-names"))["tools"] is None
    sub = await hosting_answers(bus, {upstream: ["echo", "headlines"]})
    try:
        assert (await api.ok("GET", f"/v1/mcp-servers/{upstream}/tool-names"))["tools"] == ["echo", "headlines"]
        assert (await api.ok("GET", f"/v1/mcp-servers/{with_up}/tool-names"))["tools"] == [
            "echo", "headlines", "alerts"]
    finally:
        await sub.unsubscribe()
