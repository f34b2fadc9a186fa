"""Messages larger than one NATS message, both ways through a hosted server, over Streamable HTTP.

The upstream (the SDK fixture's `test_large_messages`) logs ~3 MB of text during a tools/call and
asks the client to sample a prompt of the same ~3 MB; the client's answer repeats it. The log
notification and the sampling request reach the edge as bus events, the client's answer goes to
hosting as a bus request: all three are larger than NATS's max_payload (1 MB) even compressed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import mcp.types as types
import pytest
from mcp import ClientSession
from mcp.client.session import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client

from tests.cluster import Cluster
from tests.upstream.fixture_server import running_fixture
from tests.upstream.tools import large_text

SIZE = 3 * 1024 * 1024


@pytest.mark.parametrize("upstream", ["StreamableHTTP", "SSE"])
async def test_megabytes_each_way_during_a_tool_call_arrive_whole(cluster: Cluster, upstream: str) -> None:
    expected = large_text(SIZE)
    logged: list[Any] = []
    prompts: list[str] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logged.append(params.data)

    async def sampling(context: ClientRequestContext,
                       params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        text = getattr(params.messages[0].content, "text", "")
        prompts.append(text)
        return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text=text),
                                         model="test-model", stop_reason="endTurn")

    async with running_fixture() as fixture:
        await cluster.host("big", fixture.url if upstream == "StreamableHTTP" else fixture.sse_url,
                           transport=upstream)
        # The SDK refuses SSE events over 1 MB unless told otherwise.
        async with (streamable_http_client(cluster.mcp_url("big"), max_sse_event_size=4 * SIZE) as (read, write),
                    ClientSession(read, write, sampling_callback=sampling, logging_callback=on_log) as session):
            await session.initialize()
            result = await session.call_tool("test_large_messages", {"size": SIZE})

    assert logged == [expected]  # the notification, intact
    assert prompts == [expected]  # the server-to-client request, intact
    assert not result.is_error, result
    digest = hashlib.sha256(expected.encode()).hexdigest()
    assert result.content[0].text == f"sampled {SIZE} characters, sha256 {digest}"  # type: ignore[union-attr]
