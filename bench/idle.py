"""Idle sessions: what 10,000 open Streamable HTTP sessions (each with its GET stream) cost one
edge, and whether the active calls beside them ever wait.

    python bench/idle.py [--sessions 10000] [--trickle 75]

1. Active calls alone: bursts of sequential tools/call, p50/p99/max.
2. Open N sessions, each with its SSE stream held open (raw sockets, read and discarded).
   Edge RSS before and after: KB per session.
3. The same bursts again: p99 beside the idle sessions.
4. A steady trickle (one call every 50 ms) for --trickle seconds while the idle sessions' periodic
   work runs (keep-alive pings every 15 s, session TTL refresh): calls over 50 ms, the slowest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from harness import BenchCluster

CALL = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "get_item", "arguments": {"id": 1}}})
INIT = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "idle", "version": "1"}}}).encode()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _read_head(reader: asyncio.StreamReader) -> dict[str, str]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].split()[1] == "200", lines[0]
    return {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}


async def open_idle(port: int, held: list[asyncio.Task[None]]) -> None:
    """initialize, then GET the session's stream on the same connection and hold it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /mcp-servers/bench HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Accept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n%s" % (len(INIT), INIT))
    headers = await _read_head(reader)
    await reader.readexactly(int(headers["content-length"]))
    writer.write(b"GET /mcp-servers/bench HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                 b"Mcp-Session-Id: %s\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n" % headers["mcp-session-id"].encode())
    await _read_head(reader)

    async def drain() -> None:
        try:
            while await reader.read(65536):
                pass
        finally:
            writer.close()

    held.append(asyncio.get_running_loop().create_task(drain()))


async def hold(port: int, count: int) -> None:
    """The idle clients, in a process of their own so that their reads never delay the measured calls."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(100)

    async def one() -> None:
        async with gate:
            await open_idle(port, held)

    await asyncio.gather(*(one() for _ in range(count)))
    print(f"held {len(held)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent goes
    print(f"still open {sum(1 for t in held if not t.done())}", flush=True)


async def calls(http: aiohttp.ClientSession, url: str, session: str, count: int, every: float) -> list[float]:
    """`count` sequential tools/call, one every `every` seconds; each one's latency in ms."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    latencies = []
    start = time.monotonic()
    for i in range(count):
        t0 = time.perf_counter()
        async with http.post(url, data=CALL, headers=headers) as resp:
            body = await resp.read()
        latencies.append((time.perf_counter() - t0) * 1000)
        assert resp.status == 200 and b'"isError":false' in body, body
        delay = start + (i + 1) * every - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    return latencies


def summary(label: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{label:<34} n={len(values):<5} p50 {statistics.median(values):6.2f} ms  p99 {p99:6.2f} ms  "
            f"max {max(values):7.2f} ms  over 50 ms: {sum(v > 50 for v in values)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--trickle", type=int, default=75, help="seconds of steady calls beside the idle sessions")
    parser.add_argument("--hold", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hold:
        return await hold(args.hold, args.sessions)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the edge inherits it
    if hard < args.sessions + 1000:
        raise SystemExit(f"open-file limit {hard} is too low for {args.sessions} sessions")
    cluster = BenchCluster(tempfile.mkdtemp(prefix="mcpgw-idle-"))
    holder: asyncio.subprocess.Process | None = None
    try:
        await cluster.start()
        edge = next(p for p in cluster.procs if p.name == "gateway")
        port = cluster.edges["gateway"]
        url = f"http://127.0.0.1:{port}/mcp-servers/bench"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await cluster.add_server(http, "bench")
            session = await cluster.initialize(http, "gateway", "bench")
            await calls(http, url, session, 200, 0)  # warm
            bursts = [v for _ in range(5) for v in await calls(http, url, session, 200, 0)]
            print(summary("active bursts, no idle sessions", bursts))
            print(summary("trickle over 15 s, no idle sessions", await calls(http, url, session, 300, 0.05)))
            before = rss_kb(edge.proc.pid)
            t0 = time.monotonic()
            holder = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--hold", str(port), "--sessions", str(args.sessions),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            assert holder.stdout is not None
            line = (await asyncio.wait_for(holder.stdout.readline(), 300)).decode().strip()
            n = int(line.split()[1])
            after = rss_kb(edge.proc.pid)
            print(f"opened {n} sessions with their streams in {time.monotonic() - t0:.1f} s; edge RSS "
                  f"{before / 1024:.0f} -> {after / 1024:.0f} MB: {(after - before) / n:.1f} KB each")
            bursts_idle = [v for _ in range(5) for v in await calls(http, url, session, 200, 0)]
            print(summary(f"active bursts, {n} idle sessions", bursts_idle))
            trickle = await calls(http, url, session, args.trickle * 20, 0.05)
            print(summary(f"trickle over {args.trickle} s, {n} idle", trickle))
            assert holder.stdin is not None
            holder.stdin.close()
            line = (await asyncio.wait_for(holder.stdout.readline(), 30)).decode().strip()
            print(f"idle streams {line} of {n}")
    finally:
        if holder is not None and holder.returncode is None:
            holder.kill()
            await holder.wait()
        await cluster.stop()
        shutil.rmtree(cluster.workdir, ignore_errors=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
