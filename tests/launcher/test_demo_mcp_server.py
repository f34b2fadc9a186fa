"""The demo MCP server (`demo/mcp_server.py`), run as the launcher runs it, called directly with the official SDK:
over the initialize handshake (`ClientSession`) and in 2026-07-28 (`Client`, auto mode)."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp.types as types
import pytest
from mcp import Client, ClientSession
from mcp.client.session import ClientRequestContext, ElicitationFnT
from mcp.client.streamable_http import streamable_http_client

from mcpgw.devcluster import spawn_ready

ROOT = Path(__file__).resolve().parents[2]
READY = r"demo-mcp ready on \S+"


@pytest.fixture(scope="module")
async def demo_mcp_url() -> AsyncIterator[str]:
    proc = await spawn_ready("demo-mcp", [sys.executable, str(ROOT / "demo" / "mcp_server.py"), "--port", "0"],
                             READY, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = await proc.wait_for(READY)
    try:
        yield line.split()[-1]
    finally:
        await proc.stop()
    assert proc.proc.returncode == 0, "\n".join(proc.lines)


@asynccontextmanager
async def session(url: str, elicitation: ElicitationFnT | None = None) -> AsyncIterator[ClientSession]:
    http = httpx2.AsyncClient(timeout=httpx2.Timeout(10.0))
    async with http, streamable_http_client(url, http_client=http) as (read, write), \
            ClientSession(read, write, elicitation_callback=elicitation) as client:
        await client.initialize()
        yield client


def text(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


def answering(action: str, content: dict[str, Any] | None = None,
              asked: list[types.ElicitRequestParams] | None = None) -> ElicitationFnT:
    async def answer(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        if asked is not None:
            asked.append(params)
        return types.ElicitResult(action=action, content=content)  # type: ignore[arg-type]
    return answer


async def test_lists_its_tools_without_the_rest_demos_names(demo_mcp_url: str) -> None:
    with anyio.fail_after(20):
        async with session(demo_mcp_url) as client:
            listing = await client.list_tools()
    names = {tool.name for tool in listing.tools}
    assert names == {"countdown", "book_table", "shout"}
    rest_names = {line.split(":", 1)[1].strip() for line in (ROOT / "demo" / "tools.yaml").read_text().splitlines()
                  if line.startswith("- name:")}
    assert rest_names and not names & rest_names  # `demo-all` assembles both without aliases


async def test_countdown_reports_progress_and_shout_answers(demo_mcp_url: str) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    with anyio.fail_after(20):
        async with session(demo_mcp_url) as client:
            result = await client.call_tool("countdown", {"steps": 3, "interval": 0}, progress_callback=on_progress)
            assert not result.is_error and "liftoff" in text(result)
            quiet = await client.call_tool("countdown", {"steps": 2, "interval": 0})  # no progressToken
            assert not quiet.is_error
            loud = await client.call_tool("shout", {"text": "hi there"})
            bad = await client.call_tool("countdown", {"steps": 0})
    assert seen == [(1, 3, "2 to go"), (2, 3, "1 to go"), (3, 3, "liftoff")]
    assert text(loud) == "HI THERE" and not loud.is_error
    assert bad.is_error and "steps must be an integer from 1 to 50" in text(bad)


async def test_book_table_asks_the_user(demo_mcp_url: str) -> None:
    asked: list[types.ElicitRequestParams] = []
    arguments = {"restaurant": "Chez Panisse", "party_size": 4}
    with anyio.fail_after(20):
        async with session(demo_mcp_url, answering("accept", {"name": "Ada", "confirm": True}, asked)) as client:
            booked = await client.call_tool("book_table", arguments)
        async with session(demo_mcp_url, answering("accept", {"name": "Ada", "confirm": False})) as client:
            unconfirmed = await client.call_tool("book_table", arguments)
        async with session(demo_mcp_url, answering("decline")) as client:
            declined = await client.call_tool("book_table", arguments)
        async with session(demo_mcp_url, answering("cancel")) as client:
            cancelled = await client.call_tool("book_table", arguments)
        async with session(demo_mcp_url) as client:  # no elicitation capability
            unable = await client.call_tool("book_table", arguments)

    assert not booked.is_error
    assert text(booked) == "Booked a table for 4 at Chez Panisse under the name Ada."
    [question] = asked
    assert isinstance(question, types.ElicitRequestFormParams)
    assert "Chez Panisse" in question.message and question.requested_schema["required"] == ["name"]
    assert (unconfirmed.is_error, text(unconfirmed)) == (False, "Not booked: Ada did not confirm.")
    assert (declined.is_error, text(declined)) == (False, "Not booked: the user declined.")
    assert (cancelled.is_error, text(cancelled)) == (False, "Not booked: the user cancelled.")
    assert unable.is_error and "does not support elicitation" in text(unable)


async def test_in_2026_07_28_book_table_asks_with_input_required(demo_mcp_url: str) -> None:
    asked: list[types.ElicitRequestParams] = []
    arguments = {"restaurant": "Chez Panisse", "party_size": 4}
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    with anyio.fail_after(20):
        async with Client(demo_mcp_url, elicitation_callback=answering("accept", {"name": "Ada"}, asked)) as client:
            assert client.protocol_version == "2026-07-28"
            # The first round: the question, in the result (no request is sent to the client).
            first = await client.session.call_tool("book_table", arguments, allow_input_required=True)
            assert isinstance(first, types.InputRequiredResult)
            [question] = (first.input_requests or {}).values()
            assert isinstance(question, types.ElicitRequest)
            assert isinstance(question.params, types.ElicitRequestFormParams)
            assert "Chez Panisse" in question.params.message
            # The SDK client answers it with the elicitation callback and retries the call.
            booked = await client.call_tool("book_table", arguments)
            counted = await client.call_tool("countdown", {"steps": 2, "interval": 0}, progress_callback=on_progress)
        async with Client(demo_mcp_url, elicitation_callback=answering("decline")) as client:
            declined = await client.call_tool("book_table", arguments)
        async with Client(demo_mcp_url) as client:  # no elicitation capability
            unable = await client.call_tool("book_table", arguments)

    assert (booked.is_error, text(booked)) == (False, "Booked a table for 4 at Chez Panisse under the name Ada.")
    assert len(asked) == 1 and asked[0].message == question.params.message
    assert not counted.is_error and seen == [1, 2]
    assert (declined.is_error, text(declined)) == (False, "Not booked: the user declined.")
    assert unable.is_error and "does not support elicitation" in text(unable)
