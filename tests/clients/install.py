"""The independent clients, installed on first use (and reused by later test sessions).

- Releases of the official Python SDK 1.x, each in its own venv `.run/clients/mcp-<version>/` made
  with `python -m venv` + `pip install mcp==<version>` (skipped when the venv already has it).
- The official TypeScript SDK and MCP Inspector's CLI, through `tests/node.py` into `.run/node/`.

An install that fails fails the tests that need it, with pip's or npm's last lines: nothing here
is skipped.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.node import npm_package

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / ".run" / "clients"
INSTALL_TIMEOUT = 300.0

# One release per handshake revision, the newest it speaks (its LATEST_PROTOCOL_VERSION), with what it
# needs pinned beside it: 1.6.0 and 1.9.4 import a pydantic internal that pydantic 2.12 removed.
# 1.6.0 (2024-11-05) has no Streamable HTTP client yet: it speaks the legacy HTTP+SSE transport.
SDK1_VERSIONS = {"1.6.0": "2024-11-05", "1.9.4": "2025-03-26", "1.22.0": "2025-06-18", "1.30.0": "2025-11-25"}
SDK1_ALSO = {"1.6.0": ["pydantic<2.12"], "1.9.4": ["pydantic<2.12"]}
SDK1_SSE = {"1.6.0"}
TS_SDK_VERSION = "1.32.2"
INSPECTOR_VERSION = "2.12.0"


async def _run(*args: str, timeout: float) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, f"{' '.join(args)} took over {timeout:g}s"
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def sdk1_venv(version: str) -> Path:
    """The python of `.run/clients/mcp-<version>/`, a venv holding `mcp==<version>` (and its pins).
    A venv that already holds them (its `requirements.txt` says so) is reused as it is."""
    venv = VENVS / f"mcp-{version}"
    python = venv / "bin" / "python"
    requirements = [f"mcp=={version}", *SDK1_ALSO.get(version, [])]
    done = venv / "requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and done.exists() and done.read_text() == wanted:
        return python
    code, out = await _run(sys.executable, "-m", "venv", "--clear", str(venv), timeout=60.0)
    if code != 0:
        raise RuntimeError(f"python -m venv {venv} failed: {out.strip()[-1000:]}")
    code, out = await _run(str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           *requirements, timeout=INSTALL_TIMEOUT)
    if code != 0:
        tail = [line for line in out.strip().splitlines() if not line.startswith("WARNING: Location")][-5:]
        raise RuntimeError(f"pip install {' '.join(requirements)} failed: {' | '.join(tail)}")
    done.write_text(wanted)
    return python


@dataclass
class Installed:
    """Each client's installed program, or the exception its install raised (which fails that client's
    tests, and only those)."""

    sdk1: dict[str, Path | BaseException]
    ts_sdk: Path | BaseException
    inspector: Path | BaseException


async def _inspector() -> Path:
    package = await npm_package("@modelcontextprotocol/inspector", INSPECTOR_VERSION)
    return package.parents[1] / ".bin" / "mcp-inspector"


async def install_all() -> Installed:
    """All the clients, installed concurrently."""
    *sdk1, ts_sdk, inspector = await asyncio.gather(
        *(sdk1_venv(v) for v in SDK1_VERSIONS), npm_package("@modelcontextprotocol/sdk", TS_SDK_VERSION),
        _inspector(), return_exceptions=True)
    return Installed(dict(zip(SDK1_VERSIONS, sdk1, strict=True)), ts_sdk, inspector)
