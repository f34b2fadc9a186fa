"""Bodies nested deeper than `untrusted.MAX_DEPTH`: a clean -32600 on every transport and era, never
a 500 with a traceback (a 982-level `tools/call` used to raise RecursionError in the decoder)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from mcpgw.untrusted import MAX_DEPTH
from tests.backends import Backend, petstore_yaml
from tests.cluster import Cluster
from tests.edge.raw import Answer, Raw
from tests.logs import failures
from tests.upstream.raw_server import RawUpstream

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
MODERN_CALL = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "add_pet"}
# A call's own levels (message, params, arguments) around the value of `tag`.
ENVELOPE = 3


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def _call(tag_levels: int, *, modern: bool = False) -> bytes:
    meta = f',"_meta":{json.dumps(META)}' if modern else ""
    return (f'{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"add_pet",'
            f'"arguments":{{"name":"rex","tag":{_nested(tag_levels)}}}{meta}}}}}').encode()


def _refused(answer: Answer) -> bool:
    body = answer.json
    return (answer.status, body["id"], body["error"]["code"]) == (400, None, -32600) \
        and "nesting too deep" in body["error"]["message"]


@pytest.fixture
async def mcp(cluster: Cluster, backend: Backend, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Raw]:
    caplog.set_level(logging.INFO)
    await cluster.create_server("petstore", petstore_yaml(backend.url))
    async with aiohttp.ClientSession() as http:
        yield Raw(http, cluster.mcp_url("petstore"))
    assert failures(caplog) == []


@pytest.mark.parametrize("modern", [False, True], ids=["handshake", "2026-07-28"])
async def test_a_call_nested_too_deep_is_invalid_and_one_at_the_limit_is_called(mcp: Raw, backend: Backend,
                                                                               modern: bool) -> None:
    headers = MODERN_CALL if modern else None
    if not modern:
        await mcp.initialize()
    for levels in (MAX_DEPTH - ENVELOPE + 1, 982, 100_000):
        assert _refused(await mcp.send(None, raw=_call(levels, modern=modern), headers=headers, session=not modern))
    assert backend.received == []
    answer = await mcp.send(None, raw=_call(MAX_DEPTH - ENVELOPE, modern=modern), headers=headers,
                            session=not modern)
    assert answer.status == 200 and answer.json["result"]["isError"] is False, answer.text
    assert json.loads(backend.last.body)["tag"] == json.loads(_nested(MAX_DEPTH - ENVELOPE))


async def test_a_batch_and_a_client_response_nested_too_deep_are_invalid(mcp: Raw) -> None:
    await mcp.initialize("2025-03-26")
    batch = b"[" + _call(MAX_DEPTH) + b"]"
    assert _refused(await mcp.send(None, raw=batch))
    answer = f'{{"jsonrpc":"2.0","id":"mcpgw~srv~1","result":{{"roots":{_nested(5000)}}}}}'.encode()
    assert _refused(await mcp.send(None, raw=answer))
    assert (await mcp.call("ping")).json["result"] == {}


async def test_an_answer_whose_relay_id_holds_deep_json_is_no_relayed_answer(mcp: Raw, cluster: Cluster,
                                                                               upstream: RawUpstream) -> None:
    # The body is shallow: the depth is inside the id string, where the upstream's own id would be.
    server_id = await cluster.host("hosted", upstream.url)
    hosted = Raw(mcp.http, cluster.mcp_url("hosted"))
    await hosted.initialize()
    answer = await hosted.send({"jsonrpc": "2.0", "id": f"mcpgw~{server_id}~{_nested(100_000)}", "result": {}})
    assert (answer.status, answer.text) == (202, "")
    assert upstream.responses == []


async def test_a_legacy_sse_post_nested_too_deep_is_invalid(mcp: Raw) -> None:
    async with mcp.http.get(mcp.url + "/sse", headers={"Accept": "text/event-stream"}) as stream:
        assert stream.status == 200
        endpoint = ""
        async for line in stream.content:
            if line.startswith(b"data:"):
                endpoint = line[5:].strip().decode()
                break
        legacy = Raw(mcp.http, f"{mcp.url}/{endpoint}")
        assert _refused(await legacy.send(None, raw=_call(5000), session=False))
