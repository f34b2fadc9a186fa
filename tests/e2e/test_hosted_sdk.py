"""A hosted MCP server through the gateway, driven by the official `mcp` SDK client (2.x).

The upstream is the fixture server (tests/upstream), reached over each upstream transport; the
client speaks each downstream transport. Sampling and elicitation go from the upstream through
the gateway to the client's callbacks and back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp.types as types
import pytest
from mcp import ClientSession
from mcp.client.session import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.cluster import Cluster
from tests.upstream.fixture_server import RunningFixture, running_fixture

PAIRS = [("StreamableHTTP", "streamable"), ("StreamableHTTP", "sse"), ("SSE", "streamable"), ("SSE", "sse")]


@pytest.fixture
async def fixture() -> AsyncIterator[RunningFixture]:
    async with running_fixture() as running:
        yield running


async def _sampling(context: ClientRequestContext,
                    params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
    prompt = params.messages[0].content
    text = getattr(prompt, "text", "")
    return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text=f"echo: {text}"),
                                     model="test-model", stop_reason="endTurn")


async def _elicitation(context: ClientRequestContext,
                       params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})


@asynccontextmanager
async def _session(url: str, downstream: str, **callbacks: Any) -> AsyncIterator[ClientSession]:
    if downstream == "streamable":
        async with streamable_http_client(url) as (read, write), ClientSession(read, write, **callbacks) as s:
            yield s
    else:
        async with sse_client(url + "/sse") as (read, write), ClientSession(read, write, **callbacks) as s:
            yield s


@pytest.mark.parametrize(("upstream", "downstream"), PAIRS)
async def test_everything_the_upstream_offers_reaches_the_client(cluster: Cluster, fixture: RunningFixture,
                                                                 upstream: str, downstream: str) -> None:
    await cluster.host("fixture", fixture.url if upstream == "StreamableHTTP" else fixture.sse_url,
                       transport=upstream)
    reported: list[float] = []
    logs: list[Any] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)

    async with _session(cluster.mcp_url("fixture"), downstream, sampling_callback=_sampling,
                        elicitation_callback=_elicitation, logging_callback=on_log) as session:
        init = await session.initialize()
        assert init.capabilities.tools is not None and init.capabilities.resources is not None
        assert init.capabilities.prompts is not None

        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert {"test_simple_text", "test_sampling", "test_elicitation", "test_tool_with_progress"} <= set(tools)

        result = await session.call_tool("test_simple_text", {})
        assert not result.is_error and result.content[0].text  # type: ignore[union-attr]

        result = await session.call_tool("test_image_content", {})
        assert result.content[0].type == "image"

        result = await session.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        assert not result.is_error
        assert reported == [0, 50, 100]

        result = await session.call_tool("test_sampling", {"prompt": "hello"})
        assert not result.is_error, result
        assert "echo: hello" in result.content[0].text  # type: ignore[union-attr]

        result = await session.call_tool("test_elicitation", {"message": "who are you?"})
        assert not result.is_error, result
        assert "ada" in result.content[0].text  # type: ignore[union-attr]

        result = await session.call_tool("test_tool_with_logging", {})
        assert not result.is_error
        assert logs, "log notifications were relayed"

        resources = await session.list_resources()
        assert "test://static-text" in {str(r.uri) for r in resources.resources}
        read = await session.read_resource("test://static-text")
        assert read.contents[0].text  # type: ignore[union-attr]

        prompts = await session.list_prompts()
        assert "test_simple_prompt" in {p.name for p in prompts.prompts}
        prompt = await session.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})
        assert prompt.messages

        assert await session.send_ping() is not None
