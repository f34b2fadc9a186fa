"""An independent MCP client for the demo, built on the official `mcp` Python SDK.

    python demo/client.py [--era auto|legacy] URL [URL ...] [--key KEY] [--header "Name: value" ...] [--decline]

Each URL in turn: one ending in `/sse` uses the legacy HTTP+SSE transport, anything else Streamable
HTTP. `--era` picks the protocol era, as the SDK's `Client(mode=...)`: `auto` (the default) asks
`server/discover` and speaks the stateless 2026-07-28 revision when the server does, else falls back
to the initialize handshake; `legacy` always does the handshake (2025-11-25 and older). The `/sse`
URLs speak only the handshake era, so they get it whatever `--era` says. The negotiated protocol
version is printed for each URL. `--key` sends `Authorization: Bearer KEY`. The client lists the
tools and calls those of the demo's it finds: the REST demo's `get_pet` (path + query arguments),
`add_pet` (JSON body, structured output) and `always_fails` (a tool error); the hosted demo's
`countdown` (with a progressToken: each notifications/progress is printed as it arrives) and
`book_table` (which asks the user for a name: an elicitation/create request in the handshake era,
an `input_required` result answered by retrying the call in 2026-07-28, both handled by the same
callback: this client answers with a canned accept, or declines with `--decline`). Exit status: 0
when every call behaved as the demo expects.
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
from mcp import Client
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
# --era: the SDK Client's connect mode.
ERAS = ("auto", "legacy")


def is_sse(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/sse")


def elicitation_answer(decline: bool) -> ElicitationFnT:
    """An elicitation callback that prints what the server asks and answers it without a user."""

    async def answer(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        # 2026-07-28 asks in an input_required result (answered by retrying the call), earlier eras mid-call.
        how = "input_required " if context.session.discover_result is not None else ""
        print(f"    {how}elicitation/create: {params.message!r}")
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
async def connect(url: str, headers: dict[str, str], elicitation: ElicitationFnT, era: str) -> AsyncIterator[Client]:
    """An SDK `Client` connected to `url` in `era` (its mode): negotiated, ready for requests."""
    if is_sse(url):
        # The legacy HTTP+SSE transport predates 2026-07-28: the handshake, whatever --era says.
        async with Client(sse_client(url, headers=headers, timeout=TIMEOUT), mode="legacy",
                          elicitation_callback=elicitation, read_timeout_seconds=TIMEOUT) as client:
            yield client
    else:
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(TIMEOUT, read=300.0))
        async with http, Client(streamable_http_client(url, http_client=http), mode=era,
                                elicitation_callback=elicitation, read_timeout_seconds=TIMEOUT) as client:
            yield client


def negotiated(client: Client) -> str:
    """How the connection was negotiated, for the `Connected:` line."""
    how = "server/discover" if client.session.discover_result is not None else "initialize handshake"
    info = client.server_info
    server = f"server {info.name!r} {info.version}" if info is not None else "server (anonymous)"
    return f"{server}, protocol {client.protocol_version} ({how})"


def _text(result: Any) -> str:
    return "\n".join(getattr(block, "text", f"<{getattr(block, 'type', '?')} content>") for block in result.content)


def _indent(text: str, limit: int = 1200) -> str:
    if len(text) > limit:
        text = text[:limit] + " …"
    return "\n".join("      " + line for line in text.splitlines() or [""])


async def run(urls: list[str], headers: dict[str, str], decline: bool = False, era: str = "auto") -> bool:
    ok = True
    for number, url in enumerate(urls):
        if number:
            print("\n" + "-" * 72 + "\n")
        ok = await run_one(url, headers, decline, era) and ok
    return ok


async def run_one(url: str, headers: dict[str, str], decline: bool, era: str = "auto") -> bool:
    ok = True
    transport = "legacy HTTP+SSE, handshake era only" if is_sse(url) else f"Streamable HTTP, --era {era}"
    print(f"Connecting to {url} ({transport})")
    with anyio.fail_after(TIMEOUT * 2):
        async with connect(url, headers, elicitation_answer(decline), era) as client:
            print(f"Connected: {negotiated(client)}")

            listing = await client.list_tools()
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
                result = await client.call_tool(
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
    parser.add_argument("--era", choices=ERAS, default="auto",
                        help="auto: 2026-07-28 when the server speaks it, else the initialize handshake (default); "
                             "legacy: the initialize handshake (2025-11-25 and older)")
    parser.add_argument("--key", help="API key, sent as Authorization: Bearer KEY")
    parser.add_argument("--header", action="append", default=[], metavar='"NAME: VALUE"',
                        help="an extra request header (repeatable)")
    parser.add_argument("--decline", action="store_true", help="decline what servers ask the user (elicitation)")
    args = parser.parse_args(argv)
    headers = parse_headers(args.key, args.header)
    try:
        ok = asyncio.run(run(args.urls, headers, args.decline, args.era))
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
