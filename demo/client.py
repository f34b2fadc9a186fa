"""An independent MCP client for the demo, built on the official `mcp` Python SDK.

    python demo/client.py URL [URL ...] [--key KEY] [--header "Name: value" ...] [--decline]

Each URL in turn: one ending in `/sse` uses the legacy HTTP+SSE transport, anything else Streamable
HTTP. `--key` sends `Authorization: Bearer KEY`. The client initializes, lists the tools and calls
those of the demo's it finds: the REST demo's `get_pet` (path + query arguments), `add_pet` (JSON
body, structured output) and `always_fails` (a tool error); the hosted demo's `countdown` (with a
progressToken: each notifications/progress is printed as it arrives) and `book_table` (which asks
the user with elicitation/create: this client answers with a canned accept, or declines with
`--decline`). Exit status: 0 when every call behaved as the demo expects.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import mcp.types as types
from mcp import ClientSession
from mcp.client.session import ClientRequestContext, ElicitationFnT
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.dispatcher import ProgressFnT

# (tool, arguments, whether the demo expects isError)
DEMO_CALLS: list[tuple[str, dict[str, Any], bool]] = [
    ("get_pet", {"id": 1, "details": True}, False),
    ("add_pet", {"name": "Luna", "tag": "cat", "age": 2}, False),
    ("always_fails", {}, True),
    ("countdown", {"steps": 3, "interval": 0.1}, False),
    ("book_table", {"restaurant": "Chez Panisse", "party_size": 2}, False),
    ("shout", {"text": "hello from mcpgw"}, False),
]
# Tools whose calls must report progress (the call carries a progressToken).
PROGRESS_TOOLS = {"countdown"}
# What this client "types in" when a server asks the user (elicitation/create, form mode).
CANNED_ANSWER: dict[str, str | int | float | bool | list[str] | None] = {"name": "Ada Lovelace", "confirm": True}
TIMEOUT = 30.0


def is_sse(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/sse")


def elicitation_answer(decline: bool) -> ElicitationFnT:
    """An elicitation callback that prints what the server asks and answers it without a user."""

    async def answer(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        print(f"    elicitation/create: {params.message!r}")
        if decline or not isinstance(params, types.ElicitRequestFormParams):
            print("    -> decline")
            return types.ElicitResult(action="decline")
        print(f"    -> accept {json.dumps(CANNED_ANSWER)}")
        return types.ElicitResult(action="accept", content=dict(CANNED_ANSWER))

    return answer


def progress_printer(seen: list[float]) -> ProgressFnT:
    """A progress callback that prints each notifications/progress and keeps its value in `seen`."""

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)
        of = "?" if total is None else f"{total:g}"
        print(f"    progress {progress:g}/{of}" + (f": {message}" if message else ""))

    return on_progress


@asynccontextmanager
async def connect(url: str, headers: dict[str, str], elicitation: ElicitationFnT) -> AsyncIterator[ClientSession]:
    if is_sse(url):
        async with sse_client(url, headers=headers, timeout=TIMEOUT) as (read, write), \
                ClientSession(read, write, elicitation_callback=elicitation) as session:
            yield session
    else:
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(TIMEOUT, read=300.0))
        async with http, streamable_http_client(url, http_client=http) as (read, write), \
                ClientSession(read, write, elicitation_callback=elicitation) as session:
            yield session


def _text(result: Any) -> str:
    return "\n".join(getattr(block, "text", f"<{getattr(block, 'type', '?')} content>") for block in result.content)


def _indent(text: str, limit: int = 1200) -> str:
    if len(text) > limit:
        text = text[:limit] + " …"
    return "\n".join("      " + line for line in text.splitlines() or [""])


async def run(urls: list[str], headers: dict[str, str], decline: bool = False) -> bool:
    ok = True
    for number, url in enumerate(urls):
        if number:
            print("\n" + "-" * 72 + "\n")
        ok = await run_one(url, headers, decline) and ok
    return ok


async def run_one(url: str, headers: dict[str, str], decline: bool) -> bool:
    ok = True
    transport = "legacy HTTP+SSE" if is_sse(url) else "Streamable HTTP"
    print(f"Connecting to {url} ({transport})")
    with anyio.fail_after(TIMEOUT * 2):
        async with connect(url, headers, elicitation_answer(decline)) as session:
            init = await session.initialize()
            print(f"Initialized: server {init.server_info.name!r} {init.server_info.version}, "
                  f"protocol {init.protocol_version}")

            listing = await session.list_tools()
            names = [tool.name for tool in listing.tools]
            print(f"\n{len(names)} tools:")
            for tool in listing.tools:
                args = ", ".join(tool.input_schema.get("properties", {}))
                print(f"  - {tool.name}({args}): {tool.description or ''}")

            absent = [name for name, _, _ in DEMO_CALLS if name not in names]
            if absent:
                print(f"\n(not on this server, not called: {', '.join(absent)})")
            for name, arguments, expect_error in DEMO_CALLS:
                if name not in names:
                    continue
                print(f"\ncall {name} {json.dumps(arguments)}")
                progress: list[float] = []
                result = await session.call_tool(
                    name, arguments, read_timeout_seconds=TIMEOUT,
                    progress_callback=progress_printer(progress) if name in PROGRESS_TOOLS else None)
                print(f"    isError: {bool(result.is_error)}")
                print("    content:")
                print(_indent(_text(result)))
                if result.structured_content is not None:
                    print("    structuredContent:")
                    print(_indent(json.dumps(result.structured_content)))
                if bool(result.is_error) != expect_error:
                    ok = False
                    print(f"    !! expected isError={expect_error}")
                if name in PROGRESS_TOOLS and not progress:
                    ok = False
                    print("    !! expected notifications/progress during the call")
    return ok


def parse_headers(key: str | None, extra: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    for item in extra:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise SystemExit(f'--header must look like "Name: value", got {item!r}')
        headers[name.strip()] = value.strip()
    return headers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Call the mcpgw demo MCP server with the official MCP SDK.")
    parser.add_argument("urls", nargs="+", metavar="URL",
                        help="Streamable HTTP URL, or the legacy SSE URL ending in /sse; several are called in turn")
    parser.add_argument("--key", help="API key, sent as Authorization: Bearer KEY")
    parser.add_argument("--header", action="append", default=[], metavar='"NAME: VALUE"',
                        help="an extra request header (repeatable)")
    parser.add_argument("--decline", action="store_true", help="decline what servers ask the user (elicitation)")
    args = parser.parse_args(argv)
    headers = parse_headers(args.key, args.header)
    try:
        ok = asyncio.run(run(args.urls, headers, args.decline))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # report what failed, not a traceback through the transport's task groups
        print(f"\nerror: {describe(exc)}", file=sys.stderr)
        return 1
    print("\ndone" if ok else "\nsome calls did not behave as expected")
    return 0 if ok else 1


def describe(exc: BaseException) -> str:
    """The innermost useful message of an exception, unwrapping exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT * 2:g}s"
    first_line = (str(exc).splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"


if __name__ == "__main__":
    sys.exit(main())
