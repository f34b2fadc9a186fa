"""`make up`: the whole cluster on one machine, with a demo, in the foreground.

    python -m mcpgw.launcher [-v]

Starts a nats-server with JetStream (unless `NATS_URL` is set) and a redis-server (unless
`REDIS_URL` is set), each on a free port; then registry, auth, toolexec, hosting and edge; then the
demo REST backend and the demo MCP server (`demo/mcp_server.py`). It configures the demo through the
admin API: `demo` (the REST backend's tools, open), `demo-secure` (the same, for authorized
consumers only), `demo-hosted` (the demo MCP server, hosted) and `demo-all` (`demo` and
`demo-hosted` assembled into one server), a consumer `demo-user` with an API key and `demo-jwt-user`
with an HS256 JWT secret (both kept in the run directory), both granted `demo-secure`; prints how to
call them (the demo client and MCP Inspector's CLI, each in both protocol eras: 2026-07-28 and the
handshake), and stays in the foreground, restarting any child that exits (`mcpgw.supervisor`).
Ctrl-C or SIGTERM stops everything it started, in reverse order; a child that keeps crashing stops
the rest too and the launcher exits non-zero with its last lines. The demo's configuration is
`mcpgw.demo_setup`, what it prints `mcpgw.banner`.

Environment: `NATS_URL`, `REDIS_URL` (use existing servers), `MCPGW_EDGE_HOST`/`MCPGW_EDGE_PORT`
(127.0.0.1:8080), `MCPGW_REGISTRY_HOST`/`MCPGW_REGISTRY_PORT` (127.0.0.1:8081),
`MCPGW_DEMO_BACKEND_PORT` (8082), `MCPGW_DEMO_MCP_PORT` (8083), `MCPGW_SUBJECT_ROOT` (mcpgw),
`MCPGW_LOG_LEVEL` (WARNING; INFO with -v), `MCPGW_ADMIN_TOKEN` (the admin API's bearer token; when
unset, the one kept in `.run/admin-token`, made on the first run), `MCPGW_RUN_DIR` (`.run`: the local
state, see `mcpgw.localstate`), `MCPGW_<SERVICE>_METRICS_PORT` (each process's Prometheus metrics: a
free port each unless set, printed in the banner). Every other `MCPGW_*` variable reaches the
services unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import signal
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpgw import localstate
from mcpgw.banner import banner, find_node
from mcpgw.demo_setup import Demo, configure_demo
from mcpgw.devcluster import (
    LaunchError,
    Proc,
    StartError,
    free_port,
    spawn_ready,
    start_nats,
    start_redis,
    start_service,
)
from mcpgw.supervisor import MAX_CRASHES, Supervisor, exit_status

SERVICES = ("mcpgw_registry", "mcpgw_auth", "mcpgw_toolexec", "mcpgw_hosting", "mcpgw_edge")
START_ORDER = ("nats", "redis", "registry", "auth", "toolexec", "hosting", "edge", "backend", "demo-mcp")
DEMO_MCP_READY = r"demo-mcp ready on \S+"
START_TIMEOUT = 60.0
TAIL_LINES = 30


def project_root() -> Path:
    """The checkout holding `demo/`: beside this package in an editable install, else the cwd."""
    found = localstate.find_checkout()
    if found is None:
        raise LaunchError("demo/backend.py not found: run the launcher from the mcpgw checkout (make up)")
    return found


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise LaunchError(f"{name}={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise LaunchError(f"{name}={raw!r} is not a port number (1-65535)")
    return port


def _count(env: Mapping[str, str], name: str, default: int, most: int = 16) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise LaunchError(f"{name}={raw!r}: a whole number from 1 to {most}")
    return int(raw)


# The services `make up` runs several of when asked (MCPGW_<SERVICE>_REPLICAS): NATS queue groups
# spread the workers' requests; edge replicas share the port (SO_REUSEPORT). The registry owns the
# admin port alone.
REPLICABLE = ("auth", "toolexec", "hosting", "edge")


def _replicas(env: Mapping[str, str]) -> dict[str, int]:
    if env.get("MCPGW_REGISTRY_REPLICAS", "1").strip() not in ("", "1"):
        raise LaunchError("MCPGW_REGISTRY_REPLICAS: make up runs one registry (it alone serves the admin port)")
    replicas = {kind: _count(env, f"MCPGW_{kind.upper()}_REPLICAS", 1) for kind in REPLICABLE}
    if replicas["edge"] > 1 and not hasattr(socket, "SO_REUSEPORT"):
        raise LaunchError("MCPGW_EDGE_REPLICAS: edge replicas share their port with SO_REUSEPORT, which this "
                          "platform lacks")
    return replicas


def _display_host(host: str) -> str:
    """How a client reaches a listener bound to `host` on this machine, ready for a URL."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def check_port_free(host: str, port: int, variable: str) -> None:
    """Fail early, and say which variable moves it, if something already listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise LaunchError(f"port {port} on {host} is already in use: stop what listens there, "
                                  f"or choose another port with {variable}=<port>") from None
            raise LaunchError(f"cannot listen on {host}:{port} ({variable}): {exc.strerror}") from None


@dataclass
class Config:
    root: Path
    nats_url: str | None
    redis_url: str | None
    edge_host: str
    edge_port: int
    registry_host: str
    registry_port: int
    subject_root: str
    log_level: str
    verbose: bool
    # The admin API's bearer token: MCPGW_ADMIN_TOKEN, or else (empty here) the one kept in the run
    # directory, read or made by `keep_admin_token` at start; `admin_token_file` then names that file.
    admin_token: str = ""
    admin_token_file: Path | None = None
    # The local state (`.run/`: NATS and Redis data, the admin token, the demo key); None: `root/.run`.
    run_dir: Path | None = None
    # Fixed, so the demo's configuration (its tools' baseUrl, demo-hosted's service) and the README's
    # commands stay true across restarts.
    demo_backend_port: int = 8082
    demo_mcp_port: int = 8083
    # How many processes of each service (REPLICABLE), and how many exits within a minute make the
    # launcher give up on a process (MCPGW_UP_MAX_CRASHES) instead of restarting it.
    replicas: dict[str, int] = field(default_factory=dict)
    max_crashes: int = MAX_CRASHES

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, verbose: bool = False) -> Config:
        # The registry's own variable wins over the cluster-wide one, as in the services' settings.
        token = env.get("MCPGW_REGISTRY_ADMIN_TOKEN") or env.get("MCPGW_ADMIN_TOKEN") or ""
        root = project_root()
        return cls(
            root=root,
            nats_url=env.get("NATS_URL") or env.get("MCPGW_NATS_URL") or None,
            redis_url=env.get("REDIS_URL") or env.get("MCPGW_REDIS_URL") or None,
            edge_host=env.get("MCPGW_EDGE_HOST") or "127.0.0.1",
            edge_port=_port(env, "MCPGW_EDGE_PORT", 8080),
            registry_host=env.get("MCPGW_REGISTRY_HOST") or "127.0.0.1",
            registry_port=_port(env, "MCPGW_REGISTRY_PORT", 8081),
            subject_root=env.get("MCPGW_SUBJECT_ROOT") or "mcpgw",
            log_level=env.get("MCPGW_LOG_LEVEL") or ("INFO" if verbose else "WARNING"),
            verbose=verbose,
            admin_token=token,
            run_dir=localstate.run_dir(env, root),
            demo_backend_port=_port(env, "MCPGW_DEMO_BACKEND_PORT", 8082),
            demo_mcp_port=_port(env, "MCPGW_DEMO_MCP_PORT", 8083),
            replicas=_replicas(env),
            max_crashes=_count(env, "MCPGW_UP_MAX_CRASHES", MAX_CRASHES, most=1000),
        )

    @property
    def state_dir(self) -> Path:
        return self.run_dir or self.root / ".run"

    def keep_admin_token(self) -> None:
        """Without MCPGW_ADMIN_TOKEN, the token kept in the run directory (made on the first run)."""
        if self.admin_token:
            return
        try:
            self.admin_token, _ = localstate.admin_token(self.state_dir)
        except OSError as exc:
            raise LaunchError(f"cannot keep the admin token in {self.state_dir}: {exc.strerror or exc} "
                              "(set MCPGW_ADMIN_TOKEN, or MCPGW_RUN_DIR to a writable directory)") from None
        self.admin_token_file = self.state_dir / localstate.ADMIN_TOKEN_FILE

    @property
    def edge_url(self) -> str:
        return f"http://{_display_host(self.edge_host)}:{self.edge_port}"

    @property
    def admin_url(self) -> str:
        return f"http://{_display_host(self.registry_host)}:{self.registry_port}"

    def mcp_url(self, server: str) -> str:
        return f"{self.edge_url}/mcp-servers/{server}"


class Launcher:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.supervisor = Supervisor(say, max_crashes=config.max_crashes)
        self.nats_url = config.nats_url or ""
        self.redis_url = config.redis_url or ""
        # Each service process's /metrics URL, by process name, for the banner.
        self.metrics: dict[str, str] = {}

    def _echo(self, always: bool) -> Any:
        if not (always or self.config.verbose):
            return None

        def echo(name: str, line: str) -> None:
            print(f"{name:>10} | {line}", flush=True)

        return echo

    async def start(self) -> Demo:
        cfg = self.config
        check_port_free(cfg.edge_host, cfg.edge_port, "MCPGW_EDGE_PORT")
        check_port_free(cfg.registry_host, cfg.registry_port, "MCPGW_REGISTRY_PORT")
        check_port_free("127.0.0.1", cfg.demo_backend_port, "MCPGW_DEMO_BACKEND_PORT")
        check_port_free("127.0.0.1", cfg.demo_mcp_port, "MCPGW_DEMO_MCP_PORT")
        cfg.keep_admin_token()
        run_dir = cfg.state_dir
        add = self.supervisor.add
        if not cfg.nats_url:
            nats_port, store = free_port(), run_dir / "nats"
            store.mkdir(parents=True, exist_ok=True)
            # Restarted on the same port and store: the services reconnect, the configuration is kept.
            await add("nats", "nats", lambda: start_nats(nats_port, str(store), echo=self._echo(False),
                                                         new_session=True))
            self.nats_url = f"nats://127.0.0.1:{nats_port}"
        if not cfg.redis_url:
            redis_port, workdir = free_port(), run_dir / "redis"
            workdir.mkdir(parents=True, exist_ok=True)
            await add("redis", "redis", lambda: start_redis(redis_port, workdir=str(workdir),
                                                            echo=self._echo(False), new_session=True))
            self.redis_url = f"redis://127.0.0.1:{redis_port}/0"

        env = {
            "MCPGW_NATS_URL": self.nats_url,
            "MCPGW_REDIS_URL": self.redis_url,
            "MCPGW_SUBJECT_ROOT": cfg.subject_root,
            "MCPGW_LOG_LEVEL": cfg.log_level,
            "MCPGW_EDGE_HOST": cfg.edge_host,
            "MCPGW_EDGE_PORT": str(cfg.edge_port),
            "MCPGW_REGISTRY_HOST": cfg.registry_host,
            "MCPGW_REGISTRY_PORT": str(cfg.registry_port),
            # The per-service variable: it wins over a cluster-wide MCPGW_ADMIN_TOKEN in the registry.
            "MCPGW_REGISTRY_ADMIN_TOKEN": cfg.admin_token,
            # The console shows endpoints under it and its Debug page calls it.
            "MCPGW_REGISTRY_EDGE_URL": os.environ.get("MCPGW_REGISTRY_EDGE_URL") or cfg.edge_url,
        }
        if cfg.replicas.get("edge", 1) > 1:
            env["MCPGW_EDGE_REUSE_PORT"] = "true"  # the replicas share the port
        # The registry owns the store; the others need nothing from it to start, so they start together.
        await self._start_service(SERVICES[0], env, "registry")
        async with asyncio.TaskGroup() as group:
            for module in SERVICES[1:]:
                kind = module.removeprefix("mcpgw_")
                count = cfg.replicas.get(kind, 1)
                for i in range(1, count + 1):
                    group.create_task(self._start_service(module, env, f"{kind}-{i}" if count > 1 else kind))
            backend = group.create_task(self._start_demo("backend", "backend.py", r"demo-backend ready on \S+",
                                                         cfg.demo_backend_port))
            mcp_server = group.create_task(self._start_demo("demo-mcp", "mcp_server.py", DEMO_MCP_READY,
                                                            cfg.demo_mcp_port))
        # They became ready in any order; stop them in the order of the design, front to back.
        self.supervisor.slots.sort(key=lambda slot: START_ORDER.index(slot.kind))
        return await configure_demo(cfg, backend.result(), mcp_server.result())

    async def _start_service(self, module: str, env: Mapping[str, str], name: str) -> None:
        kind = module.removeprefix("mcpgw_")
        # Its own metrics port, kept across restarts; one the operator set serves a single process.
        variable = f"MCPGW_{kind.upper()}_METRICS_PORT"
        port = _port(os.environ, variable, 0) if name == kind else 0
        port = port or free_port()
        host = _display_host(os.environ.get(f"MCPGW_{kind.upper()}_METRICS_HOST")
                             or os.environ.get("MCPGW_METRICS_HOST") or "127.0.0.1")
        self.metrics[name] = f"http://{host}:{port}/metrics"
        env = {**env, variable: str(port)}
        await self.supervisor.add(name, kind, lambda: start_service(
            module, env, name=name, echo=self._echo(True), timeout=START_TIMEOUT, new_session=True))

    async def _start_demo(self, name: str, script: str, ready: str, port: int) -> str:
        """Start a demo server of the `demo/` folder on its fixed port (again there after a crash: the
        demo's configuration names it); its URL, read from its ready line."""

        async def start() -> Proc:
            argv = [sys.executable, str(self.config.root / "demo" / script), "--port", str(port)]
            return await spawn_ready(name, argv, ready, timeout=START_TIMEOUT, echo=self._echo(False),
                                     new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})

        slot = await self.supervisor.add(name, name, start)
        assert slot.proc is not None
        return (await slot.proc.wait_for(ready)).split()[-1]

    async def stop(self) -> None:
        """Stop every child, the last started first."""
        await self.supervisor.stop(lambda slot: say(f"stopping {slot.name}"))


def _service_order(name: str) -> tuple[int, str]:
    return START_ORDER.index(name.partition("-")[0]), name


def say(message: str) -> None:
    print(f"[mcpgw] {message}", flush=True)


def reasons(exc: BaseException) -> list[str]:
    """What went wrong, one line per cause, exception groups (from parallel starts) flattened."""
    if isinstance(exc, BaseExceptionGroup):
        return [reason for inner in exc.exceptions for reason in reasons(inner)]
    if isinstance(exc, asyncio.CancelledError):
        return []
    if isinstance(exc, (LaunchError, StartError)):
        return [str(exc)]
    return [f"{type(exc).__name__}: {exc}"]


def tail(proc: Proc, count: int = TAIL_LINES) -> str:
    return "\n".join(f"{proc.name:>10} | {line}" for line in list(proc.lines)[-count:])


async def run(config: Config) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)

    launcher = Launcher(config)
    say("starting " + ("" if config.nats_url else "nats-server, ") + ("" if config.redis_url else "redis-server, ")
        + "registry, auth, toolexec, hosting, edge, the demo backend and the demo MCP server")
    startup = asyncio.ensure_future(launcher.start())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({startup, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not startup.done():
            say("interrupted during start-up")
            startup.cancel()
            with contextlib.suppress(BaseException):
                await startup
            return 130
        try:
            demo = startup.result()
        except Exception as exc:
            for reason in reasons(exc):
                say(f"start-up failed: {reason}")
            return 1
        node = await asyncio.to_thread(find_node)
        metrics = {name: launcher.metrics[name] for name in sorted(launcher.metrics, key=_service_order)}
        print(banner(config, demo, launcher.nats_url, launcher.redis_url, node, metrics), flush=True)

        broken = await launcher.supervisor.run(stop)
        if broken is None:
            say("stopping")
            return 0
        assert broken.proc is not None
        say(f"{broken.name} exited {len(broken.crashes)} times within {launcher.supervisor.window:g}s, "
            f"the last with status {exit_status(broken.proc.proc.returncode)}; giving up. Its last lines:")
        print(tail(broken.proc), flush=True)
        return 1
    finally:
        stopper.cancel()
        await launcher.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcpgw.launcher",
                                     description="Run the whole mcpgw cluster on this machine, with a demo.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="services log at INFO; show nats-server, redis-server and demo backend output")
    args = parser.parse_args(argv)
    try:
        config = Config.from_env(os.environ, verbose=args.verbose)
    except LaunchError as exc:
        say(str(exc))
        return 2
    try:
        return asyncio.run(run(config))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return 130


if __name__ == "__main__":
    sys.exit(main())
