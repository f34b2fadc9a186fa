"""Waiting with a deadline and no fixed sleep: for a probe to hold, an SSE event, a program to finish."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *,
                     within: float = 2.0) -> T:
    """Re-run `probe` until `accept` holds for its result; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last value: {value!r}")
        await asyncio.sleep(0.01)  # yield to the event loop between probes


async def next_data(stream: aiohttp.ClientResponse, within: float = 5.0) -> Any:
    """The JSON of the next SSE event that carries data (comments and empty events skipped)."""
    data = b""
    while True:
        line = await asyncio.wait_for(stream.content.readline(), within)
        assert line, "the stream ended"
        if line.startswith(b"data:"):
            data += line[5:].strip()
        elif line in (b"\n", b"\r\n") and data:
            return json.loads(data)


async def run_to_end(argv: Sequence[str], timeout: float, *, cwd: str | None = None,
                     env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """Run a program to completion: exit code, stdout, stderr. One past `timeout` is killed and
    fails the test (a hang is a failure, never a wait without end)."""
    proc = await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"{' '.join(argv)} did not finish in {timeout:g}s") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
