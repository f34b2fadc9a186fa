"""An independent MCP client for the demo, built on the official `mcp` Python SDK.

    python demo/client.py URL [--key KEY] [--header "Name: value" ...]

URL ending in `/sse` uses the legacy HTTP+SSE transport, anything else Streamable HTTP. `--key`
sends `Authorization: Bearer KEY`. The client initializes, lists the tools, calls `get_pet`
(path + query arguments), `add_pet` (JSON body, structured output) and `always_fails` (a tool
error), and prints every result. Exit status: 0 when every call behaved as the demo expects.
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
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

# (tool, arguments, whether the demo expects isError)
DEMO_CALLS: list[tuple[str, dict[str, Any], bool]] = [
    ("get_pet", {"id": 1, "details": True}, False),
    ("add_pet", {"name": "Luna", "tag": "cat", "age": 2}, False),
    ("always_fails", {}, True),
]
TIMEOUT = 30.0


def is_sse(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/sse")


@asynccontextmanager
async def connect(url: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    if is_sse(url):
        async with sse_client(url, headers=headers, timeout=TIMEOUT) as (read, write), \
                ClientSession(read, write) as session:
            yield session
    else:
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(TIMEOUT, read=300.0))
        async with http, streamable_http_client(url, http_client=http) as (read, write), \
                ClientSession(read, write) as session:
            yield session


def _text(result: Any) -> str:
    return "\n".join(getattr(block, "text", f"<{getattr(block, 'type', '?')} content>") for block in result.content)


def _indent(text: str, limit: int = 1200) -> str:
    if len(text) > limit:
        text = text[:limit] + " …"
    return "\n".join("      " + line for line in text.splitlines() or [""])


async def run(url: str, headers: dict[str, str]) -> bool:
    ok = True
    transport = "legacy HTTP+SSE" if is_sse(url) else "Streamable HTTP"
    print(f"Connecting to {url} ({transport})")
    with anyio.fail_after(TIMEOUT * 2):
        async with connect(url, headers) as session:
            init = await session.initialize()
            print(f"Initialized: server {init.server_info.name!r} {init.server_info.version}, "
                  f"protocol {init.protocol_version}")

            listing = await session.list_tools()
            names = [tool.name for tool in listing.tools]
            print(f"\n{len(names)} tools:")
            for tool in listing.tools:
                args = ", ".join(tool.input_schema.get("properties", {}))
                print(f"  - {tool.name}({args}): {tool.description or ''}")

            for name, arguments, expect_error in DEMO_CALLS:
                if name not in names:
                    print(f"\n(no tool {name!r} on this server; skipped)")
                    continue
                print(f"\ncall {name} {json.dumps(arguments)}")
                result = await session.call_tool(name, arguments, read_timeout_seconds=TIMEOUT)
                print(f"    isError: {bool(result.is_error)}")
                print("    content:")
                print(_indent(_text(result)))
                if result.structured_content is not None:
                    print("    structuredContent:")
                    print(_indent(json.dumps(result.structured_content)))
                if bool(result.is_error) != expect_error:
                    ok = False
                    print(f"    !! expected isError={expect_error}")
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
    parser.add_argument("url", help="Streamable HTTP URL, or the legacy SSE URL ending in /sse")
    parser.add_argument("--key", help="API key, sent as Authorization: Bearer KEY")
    parser.add_argument("--header", action="append", default=[], metavar='"NAME: VALUE"',
                        help="an extra request header (repeatable)")
    args = parser.parse_args(argv)
    headers = parse_headers(args.key, args.header)
    try:
        ok = asyncio.run(run(args.url, headers))
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
