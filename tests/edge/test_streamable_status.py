"""Streamable HTTP answers, status by status (the table of the MCP protocol reference, spec column)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Raw
from tests.util import eventually


@pytest.fixture
async def mcp(cluster: Cluster, backend: Backend) -> AsyncIterator[Raw]:
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with aiohttp.ClientSession() as http:
        yield Raw(http, cluster.mcp_url("petstore"))


@pytest.mark.parametrize("offered,agreed", [
    ("2024-11-05", "2024-11-05"), ("2025-03-26", "2025-03-26"), ("2025-06-18", "2025-06-18"),
    ("2025-11-25", "2025-11-25"), ("1999-01-01", "2025-11-25"),
])
async def test_initialize_negotiates_the_version(mcp: Raw, offered: str, agreed: str) -> None:
    answer = await mcp.initialize(offered)
    body = answer.json
    assert body["id"] == 0
    assert body["result"]["protocolVersion"] == agreed
    assert body["result"]["capabilities"]["tools"] == {"listChanged": True}
    session_id = answer.headers["Mcp-Session-Id"]
    assert len(session_id) == 32 and all(0x21 <= ord(c) <= 0x7E for c in session_id)


async def test_initialize_without_a_version_is_invalid_params(mcp: Raw) -> None:
    answer = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}, session=False)
    assert answer.status == 400
    assert answer.json["error"]["code"] == -32602


async def test_requests_notifications_and_errors_on_a_session(mcp: Raw) -> None:
    await mcp.initialize()
    ping = await mcp.call("ping")
    assert (ping.status, ping.json) == (200, {"jsonrpc": "2.0", "id": 1, "result": {}})
    unknown = await mcp.call("resources/nothing")
    assert unknown.status == 200 and unknown.json["error"]["code"] == -32601
    tool = await mcp.call("tools/call", {"name": "no_such_tool", "arguments": {}})
    assert tool.json["error"]["code"] == -32602 and "no_such_tool" in tool.json["error"]["message"]
    bad_args = await mcp.call("tools/call", {"name": "get_pet", "arguments": [1, 2]})
    assert bad_args.json["error"]["code"] == -32602
    string_id = await mcp.send({"jsonrpc": "2.0", "id": "abc", "method": "ping"})
    assert string_id.json["id"] == "abc"
    cancelled = await mcp.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}})
    assert (cancelled.status, cancelled.text) == (202, "")


async def test_malformed_bodies(mcp: Raw) -> None:
    await mcp.initialize()
    not_json = await mcp.send(None, raw=b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert not_json.status == 400
    assert not_json.json["error"]["code"] == -32700 and not_json.json["id"] is None
    # A wrong type before the malformed part still makes it a parse error (the decoder stops at the first).
    wrong_then_broken = await mcp.send(None, raw=b'{"jsonrpc": "2.0", "id": [], "result": NaN}')
    assert wrong_then_broken.status == 400 and wrong_then_broken.json["error"]["code"] == -32700
    big_number = await mcp.send(None, raw=b'{"jsonrpc": "2.0", "id": ' + b"9" * 5000 + b', "method": "ping"}')
    assert big_number.status == 400 and big_number.json["error"]["code"] == -32600
    not_rpc = await mcp.send({"foo": 1})
    assert not_rpc.status == 400 and not_rpc.json["error"]["code"] == -32600
    null_id = await mcp.send({"jsonrpc": "2.0", "id": None, "method": "ping"})
    assert null_id.status == 400 and null_id.json["error"]["code"] == -32600
    wrong_version = await mcp.send({"jsonrpc": "1.0", "id": 1, "method": "ping"})
    assert wrong_version.status == 400 and wrong_version.json["error"]["code"] == -32600


async def test_content_negotiation(mcp: Raw) -> None:
    await mcp.initialize()
    json_only = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Accept": "application/json"})
    assert json_only.status == 406 and json_only.json["error"]["code"] == -32600
    text_plain = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Content-Type": "text/plain"})
    assert text_plain.status == 400
    get_json = await mcp.send(None, method="GET", headers={"Accept": "application/json"})
    assert get_json.status == 406
    put = await mcp.send({}, method="PUT")
    assert put.status == 405 and put.headers["Allow"] == "GET, POST, DELETE"


async def test_session_header_rules(mcp: Raw) -> None:
    await mcp.initialize()
    missing = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session=False)
    assert missing.status == 400 and missing.json["error"]["code"] == -32600
    unknown = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Mcp-Session-Id": "f" * 32})
    assert unknown.status == 404
    bad_version = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                 headers={"MCP-Protocol-Version": "1999-01-01"})
    assert bad_version.status == 400 and "1999-01-01" in bad_version.json["error"]["message"]
    no_version = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                headers={"MCP-Protocol-Version": ""})
    assert no_version.status == 400


async def test_delete_ends_the_session(mcp: Raw) -> None:
    await mcp.initialize()
    deleted = await mcp.send(None, method="DELETE")
    assert deleted.status == 200
    after = await mcp.call("ping")
    assert after.status == 404
    again = await mcp.send(None, method="DELETE")
    assert again.status == 404


async def test_batches_only_in_2025_03_26(mcp: Raw, cluster: Cluster) -> None:
    await mcp.initialize("2025-06-18")
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
    refused = await mcp.send(batch)
    assert refused.status == 400 and refused.json["error"]["code"] == -32600

    async with aiohttp.ClientSession() as http:
        old = Raw(http, cluster.mcp_url("petstore"))
        await old.initialize("2025-03-26")
        answered = await old.send(batch)
        assert answered.status == 200
        assert [m["id"] for m in answered.json] == [1, 2]
        assert "tools" in answered.json[1]["result"]
        only_notes = await old.send([{"jsonrpc": "2.0", "method": "notifications/initialized"}])
        assert (only_notes.status, only_notes.text) == (202, "")


async def test_origin_and_host_validation(mcp: Raw) -> None:
    evil = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Origin": "http://evil.example"},
                          session=False)
    assert evil.status == 403
    local = await mcp.initialize()
    assert local.status == 200
    ok = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Origin": "http://localhost:5173"})
    assert ok.status == 200
    rebinding = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"},
                               headers={"Host": "evil.example", "Origin": "http://evil.example"})
    assert 400 <= rebinding.status < 500
    host_only = await mcp.send({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Host": "evil.example"})
    assert host_only.status == 421


async def test_unknown_server_is_404(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as http:
        answer = await Raw(http, cluster.mcp_url("nope")).send(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}})
    assert answer.status == 404


async def test_tools_list_pages(cluster: Cluster, backend: Backend) -> None:
    await cluster.restart_edge(tools_page_size=3)
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with aiohttp.ClientSession() as http:
        mcp = Raw(http, cluster.mcp_url("petstore"))
        await mcp.initialize()
        first = (await mcp.call("tools/list")).json["result"]
        assert len(first["tools"]) == 3 and first["nextCursor"]
        second = (await mcp.call("tools/list", {"cursor": first["nextCursor"]})).json["result"]
        assert len(second["tools"]) == 1 and "nextCursor" not in second
        bad = await mcp.call("tools/list", {"cursor": "not-a-cursor"})
        assert bad.json["error"]["code"] == -32602


async def test_get_stream_receives_list_changed(mcp: Raw, cluster: Cluster, backend: Backend) -> None:
    await mcp.initialize()
    async with mcp.http.get(mcp.url, headers=mcp.stream_headers()) as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        second = await mcp.send(None, method="GET", headers={"Accept": "text/event-stream"})
        assert second.status == 409
        server_id = (await cluster.admin("GET", "/v1/mcp-servers?nameLike=petstore"))[1]["data"]["items"][0]
        status, _ = await cluster.admin("PUT", f"/v1/mcp-servers/{server_id['mcpServerId']}/tools",
                                        data=petstore_yaml(backend.url).replace("Always fails", "Fails"),
                                        content_type="application/yaml")
        assert status == 200
        async for line in stream.content:
            if line.startswith(b"data:"):
                assert b"notifications/tools/list_changed" in line
                break
    listed = (await mcp.call("tools/list")).json["result"]["tools"]
    assert next(t for t in listed if t["name"] == "broken")["description"] == "Fails"


async def test_session_deleted_on_one_replica_is_gone_on_another(mcp: Raw, cluster: Cluster) -> None:
    await cluster.add_edge()
    await mcp.initialize()
    async with aiohttp.ClientSession() as http:
        other = Raw(http, cluster.mcp_url("petstore", index=1))
        other.session_id, other.version = mcp.session_id, mcp.version
        assert (await other.call("ping")).status == 200  # the second replica reads the session from Redis
        assert (await mcp.send(None, method="DELETE")).status == 200
        # The other replica learns of it through a SessionEnded event, within the second.
        await eventually(lambda: other.call("ping"), lambda a: a.status == 404, within=1.0)


async def test_a_body_that_never_arrives_is_refused_in_time(cluster: Cluster, backend: Backend) -> None:
    await cluster.restart_edge(client_io_timeout=0.3)
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    reader, writer = await asyncio.open_connection("127.0.0.1", cluster.edges[0].port)
    writer.write(b"POST /mcp-servers/petstore HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Accept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\":")
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    assert status_line.startswith(b"HTTP/1.1 408")
    writer.close()


async def test_an_oversized_body_is_413(cluster: Cluster, backend: Backend) -> None:
    await cluster.restart_edge(max_body_bytes=1024)
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with aiohttp.ClientSession() as http:
        mcp = Raw(http, cluster.mcp_url("petstore"))
        await mcp.initialize()
        big = await mcp.call("tools/call", {"name": "get_pet", "arguments": {"id": 1, "tag": "x" * 4096}})
    assert big.status == 413
