# mypy: ignore-errors
"""A client on the official `mcp` Python SDK 1.x, run by the tests with the python of a venv that holds
one 1.x release (never the project's own 2.x): connect, initialize, list the tools, call one, and
print one JSON object on stdout.

    python sdk1_client.py http|sse URL TOOL ARGS_JSON     (the key, if any, in the MCPGW_KEY variable)

`http` is Streamable HTTP (`streamablehttp_client`, 1.8 and later), `sse` the legacy HTTP+SSE
transport (`sse_client`, the only one of releases that speak 2024-11-05 at most).

Success: {"sdk", "protocol", "server", "tools", "text", "is_error", "http"}. Failure: {"sdk",
"error", "http"}, where "http" lists every response as [method, status, WWW-Authenticate], so a
refusal can be told from a hang ("error": "timeout").
"""

import json
import os
import sys
from importlib.metadata import version

import anyio
import httpx
from mcp import ClientSession

DEADLINE = 20.0
seen: list = []


async def record(response) -> None:
    seen.append([response.request.method, response.status_code, response.headers.get("www-authenticate")])


# Every httpx client the SDK makes records its responses (the releases differ in how they make them).
_init = httpx.AsyncClient.__init__


def _recording_init(self, *args, **kwargs) -> None:
    _init(self, *args, **kwargs)
    self.event_hooks["response"].append(record)


httpx.AsyncClient.__init__ = _recording_init


def describe(exc: BaseException) -> str:
    """The exception, or the leaves of an exception group (what the transport's task group raised)."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def connect(transport: str, url: str, headers: dict | None):
    if transport == "sse":
        from mcp.client.sse import sse_client
        return sse_client(url, headers=headers, timeout=10)
    from mcp.client.streamable_http import streamablehttp_client
    return streamablehttp_client(url, headers=headers, timeout=10)


async def main(transport: str, url: str, tool: str, arguments: dict) -> dict:
    key = os.environ.get("MCPGW_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else None
    out: dict = {"sdk": version("mcp")}
    try:
        with anyio.fail_after(DEADLINE):
            async with connect(transport, url, headers) as streams, ClientSession(*streams[:2]) as session:
                init = await session.initialize()
                listed = await session.list_tools()
                result = await session.call_tool(tool, arguments)
                out.update(protocol=init.protocolVersion, server=init.serverInfo.name,
                           tools=sorted(t.name for t in listed.tools),
                           text="".join(getattr(c, "text", "") for c in result.content),
                           is_error=bool(result.isError))
    except TimeoutError:
        out["error"] = "timeout"
    except BaseException as exc:  # an ExceptionGroup from the transport's task group, too
        out["error"] = describe(exc)[:2000]
    out["http"] = seen
    return out


if __name__ == "__main__":
    print(json.dumps(anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))))
