"""`make up` end to end: the launcher as a subprocess, the commands it prints run as printed, Ctrl-C.

One launcher serves the module's first tests (what it prints; the demo client in each protocol era;
MCP Inspector's CLI in each era), the last of which stops it with Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mcpgw.banner import INSPECTOR_PACKAGE, INSPECTOR_VERSION, shown_path
from mcpgw.devcluster import Proc, free_port, spawn
from mcpgw.localstate import read_secret
from tests.node import npm_binary, run_node_tool
from tests.util import run_to_end

try:
    import mcpgw_edge.service  # noqa: F401
except ImportError as exc:  # the edge is written concurrently with the launcher
    pytest.skip(f"the edge service is not importable yet: {exc}", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("demo", "demo-secure", "demo-hosted", "demo-all")
MODERN, HANDSHAKE = "2026-07-28", "2025-11-25"
SEPARATOR = "-" * 72
RUN_TIMEOUT = 60.0
# The demo client as the banner prints it: this interpreter, relative to the repository when inside it.
CLIENT = f"{shlex.quote(shown_path(sys.executable, ROOT))} demo/client.py"


@dataclass
class Up:
    proc: Proc
    lines: list[str]  # its output up to the ready line: the banner
    edge_port: int
    registry_port: int
    backend_port: int
    run_dir: Path

    def value(self, pattern: str) -> list[str]:
        return [m.group(1) for line in self.lines if (m := re.search(pattern, line))]

    def commands(self, prefix: str) -> list[list[str]]:
        """The printed commands starting with `prefix` (after the indent), split as a shell would."""
        return [shlex.split(line) for line in self.lines if line.startswith("  " + prefix)]

    @property
    def urls(self) -> list[str]:
        return self.value(r"Streamable HTTP\s+(\S+)")


def without_admin_token(env: dict[str, str]) -> dict[str, str]:
    """The environment with no admin token in it: the launcher keeps its own, mcpgw reads it."""
    return {k: v for k, v in env.items() if k not in ("MCPGW_ADMIN_TOKEN", "MCPGW_REGISTRY_ADMIN_TOKEN")}


@pytest.fixture(scope="module")
async def up(nats_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Up]:
    root = "t" + uuid.uuid4().hex[:12]
    edge_port, registry_port, backend_port = free_port(), free_port(), free_port()
    run_dir = tmp_path_factory.mktemp("run")
    env = {
        **without_admin_token(dict(os.environ)),
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "MCPGW_EDGE_PORT": str(edge_port),
        "MCPGW_REGISTRY_PORT": str(registry_port),
        # Isolated from every other test on the same NATS.
        "MCPGW_SUBJECT_ROOT": root,
        "MCPGW_REGISTRY_KV_BUCKET": f"cfg-{root}",
        # Two toolexec processes, so that killing one shows the other absorbing its calls.
        "MCPGW_TOOLEXEC_REPLICAS": "2",
        # The demo's fixed ports and the local state, away from a `make up` on this machine.
        "MCPGW_DEMO_BACKEND_PORT": str(backend_port),
        "MCPGW_DEMO_MCP_PORT": str(free_port()),
        "MCPGW_RUN_DIR": str(run_dir),
    }
    launcher = await spawn("up", [sys.executable, "-m", "mcpgw.launcher"], env=env, cwd=str(ROOT))
    try:
        await launcher.wait_for(r"^mcpgw is ready$", timeout=90)
        yield Up(launcher, list(launcher.lines), edge_port, registry_port, backend_port, run_dir)
    finally:
        await launcher.stop()  # a no-op once the last test has stopped it with Ctrl-C


async def run_printed(argv: list[str], timeout: float = RUN_TIMEOUT) -> tuple[int, str]:
    """A printed command run as printed, from the repository root: its exit code and whole output."""
    code, out, err = await run_to_end(argv, timeout, cwd=str(ROOT))
    return code, out + err


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def test_make_up_prints_the_demo_and_a_command_for_each_era(up: Up) -> None:
    lines = up.lines
    urls = up.urls
    assert urls == [f"http://127.0.0.1:{up.edge_port}/mcp-servers/{name}" for name in SERVERS], lines
    assert up.value(r"SSE\s+(\S+)") == [u + "/sse" for u in urls]
    [key] = up.value(r"API key\s+Authorization: Bearer (\S+)")
    assert up.value(r"JWT \(HS256, 24h\)\s+Authorization: Bearer (\S+)")
    # The admin token is kept in the run directory, and only the file is named.
    [token_file] = up.value(r"Admin token\s+in (\S+) \(")
    assert Path(token_file) == up.run_dir / "admin-token"
    admin_token = read_secret(Path(token_file)) or ""
    assert len(admin_token) >= 40 and admin_token not in "\n".join(lines)
    assert f"http://127.0.0.1:{up.registry_port}/v1/mcp-servers" in "\n".join(lines)
    assert up.value(r"Demo backend\s+(\S+)") == [f"http://127.0.0.1:{up.backend_port}"]
    assert key == read_secret(up.run_dir / "demo-user.key")
    [mcp_server] = up.value(r"Demo MCP server\s+(\S+)")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/mcp", mcp_server)

    # What to try starts with the demo client in each era, then the Inspector in each era.
    start = next(n for n, line in enumerate(lines) if line.startswith("Try it"))
    commands = [line.strip() for line in lines[start:] if line.startswith("  ") and "://" in line]
    open_url, _, hosted_url, assembled_url = urls
    inspector = f"npx -y {INSPECTOR_PACKAGE}@{INSPECTOR_VERSION} --cli {open_url} --transport http --method tools/list"
    assert commands[:4] == [
        f"{CLIENT} --era auto {open_url} {hosted_url} {assembled_url}",
        f"{CLIENT} --era legacy {open_url} {hosted_url} {assembled_url}",
        f"{inspector} --protocol-era auto",
        f"{inspector} --protocol-era legacy",
    ], lines[start:]
    assert f"{CLIENT} {urls[1]}/sse --key {key}" in commands


async def test_every_process_serves_the_metrics_the_banner_prints(up: Up) -> None:
    printed = dict(re.findall(r"^  Metrics (\S+)\s+(http://\S+/metrics)$", "\n".join(up.lines), re.MULTILINE))
    # Two toolexec replicas (the fixture asks for them), each on its own port.
    assert sorted(printed) == ["auth", "edge", "hosting", "registry", "toolexec-1", "toolexec-2"], up.lines
    assert len(set(printed.values())) == len(printed)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        for name, url in printed.items():
            async with http.get(url) as resp:
                assert resp.status == 200, name
                families = {f.name for f in text_string_to_metric_families(await resp.text())}
            assert {"process_cpu_seconds", "mcpgw_nats_request_duration_seconds"} <= families, name


async def test_the_printed_mcpgw_command_works_without_an_exported_token(up: Up) -> None:
    [line] = [line.strip() for line in up.lines if " servers list " in line and "mcpgw" in line]
    assert line.startswith(f"MCPGW_ADMIN_URL=http://127.0.0.1:{up.registry_port} MCPGW_RUN_DIR={up.run_dir} ")
    code, out, err = await run_to_end(["bash", "-c", line], RUN_TIMEOUT, cwd=str(ROOT),
                                      env=without_admin_token(dict(os.environ)))
    assert code == 0, err
    assert sorted(row.split()[1] for row in out.splitlines()[1:]) == sorted(SERVERS)


async def test_the_printed_client_commands_work_in_each_era(up: Up) -> None:
    open_url, secure_url, hosted_url, _ = up.urls
    [key] = up.value(r"API key\s+Authorization: Bearer (\S+)")
    [token] = up.value(r"JWT \(HS256, 24h\)\s+Authorization: Bearer (\S+)")
    eras = {argv[argv.index("--era") + 1]: argv for argv in up.commands(f"{CLIENT} --era")}
    assert list(eras) == ["auto", "legacy"]
    (auto_code, auto_out), (legacy_code, legacy_out) = await asyncio.gather(
        run_printed(eras["auto"]), run_printed(eras["legacy"]))
    assert auto_code == 0, auto_out
    assert legacy_code == 0, legacy_out

    # auto: 2026-07-28 with the REST demo, the hosted server and the assembly of both.
    demo, hosted, assembled = auto_out.split(SEPARATOR)
    assert f"Connecting to {open_url} (Streamable HTTP, --era auto)" in demo
    assert re.search(rf"Connected: server 'demo' \S+, protocol {MODERN} \(server/discover\)", demo), demo
    assert re.search(rf"server 'demo-mcp' \S+, protocol {MODERN} \(server/discover\)", hosted), hosted
    assert re.search(rf"server 'demo-all' \S+, protocol {MODERN} \(server/discover\)", assembled), assembled
    # legacy: the handshake everywhere.
    assert legacy_out.count(f"protocol {HANDSHAKE} (initialize handshake)") == 3, legacy_out
    assert MODERN not in legacy_out and "server/discover" not in legacy_out

    for output, modern_hosted in ((auto_out, True), (legacy_out, False)):
        demo, hosted, assembled = output.split(SEPARATOR)
        assert re.search(r"call get_pet .*\n\s+isError: False\n\s+content:\n.*\"Rex\"", demo), demo
        assert re.search(r"call add_pet .*\n\s+isError: False", demo), demo
        assert re.search(r"structuredContent:\n\s+\{\"id\": \d+, \"name\": \"Luna\"", demo), demo
        assert re.search(r"call always_fails .*\n\s+isError: True\n\s+content:\n.*500", demo), demo
        assert "not called: countdown, book_table, shout" in demo
        # Progress and elicitation relayed from the hosted server: in 2026-07-28 the question comes in
        # an input_required result and the client's retry carries the answer.
        asked = "input_required elicitation/create" if modern_hosted else "elicitation/create"
        assert re.search(r"call countdown .*\n\s+progress 1/3: 2 to go\n\s+progress 2/3: 1 to go\n"
                         r"\s+progress 3/3: liftoff\n\s+isError: False", hosted), hosted
        assert re.search(rf"call book_table .*\n\s+{asked}: .*\n\s+-> accept .*\n\s+isError: False\n"
                         r"\s+content:\n\s+Booked a table for 2 at Chez Panisse under the name Ada Lovelace",
                         hosted), hosted
        assert "not called: get_pet, add_pet, always_fails" in hosted
        assert "9 tools:" in assembled
        assert re.search(r"call get_pet .*\n\s+isError: False\n\s+content:\n.*\"Rex\"", assembled), assembled
        assert re.search(r"call always_fails .*\n\s+isError: True", assembled), assembled
        assert re.search(r"call countdown .*\n\s+progress 1/3.*\n.*\n.*progress 3/3.*\n\s+isError: False", assembled)
        assert re.search(rf"call book_table .*\n\s+{asked}: .*\n\s+-> accept .*\n\s+isError: False",
                         assembled), assembled
        assert re.search(r"call shout .*\n\s+isError: False\n\s+content:\n\s+HELLO FROM MCPGW", assembled), assembled

    # The printed command for the secure server's legacy SSE URL, and the same client otherwise.
    [sse] = up.commands(f"{CLIENT} {secure_url}")
    code, output = await run_printed(sse)
    assert code == 0, output
    assert "legacy HTTP+SSE, handshake era only" in output and f"protocol {HANDSHAKE}" in output
    assert "isError: True" in output
    python = eras["auto"][:2]
    code, output = await run_printed([*python, "--era", "auto", secure_url, "--key", token])  # the demo JWT
    assert code == 0, output
    assert f"protocol {MODERN}" in output
    code, output = await run_printed([*python, "--era", "auto", hosted_url + "/sse"])  # /sse: handshake only
    assert code == 0, output
    assert f"protocol {HANDSHAKE} (initialize handshake)" in output and "elicitation/create" in output
    for era in ("auto", "legacy"):
        code, output = await run_printed([*python, "--era", era, secure_url])  # no key
        assert code != 0
        assert "missing credential" in output or "401" in output or "Unauthorized" in output, output
        assert key not in output


@pytest.fixture(scope="module")
async def inspector() -> Path:
    """MCP Inspector's CLI at the version the banner prints, installed on first use (tests/node.py)."""
    return await npm_binary(INSPECTOR_PACKAGE, INSPECTOR_VERSION, "mcp-inspector")


async def test_the_printed_inspector_commands_work_in_each_era(up: Up, inspector: Path, tmp_path: Path) -> None:
    spec = f"{INSPECTOR_PACKAGE}@{INSPECTOR_VERSION}"
    printed = up.commands(f"npx -y {spec} --cli {up.urls[0]} ")
    eras = {argv[argv.index("--protocol-era") + 1]: argv[3:] for argv in printed}  # what follows the package
    assert list(eras) == ["auto", "legacy"], printed
    for era, version in (("auto", MODERN), ("legacy", HANDSHAKE)):
        args = eras[era]
        assert args[0] == "--cli"
        code, output = await run_node_tool(inspector, *args, home=tmp_path, timeout=RUN_TIMEOUT)
        assert code == 0, output
        names = set(re.findall(r'"name":\s*"([^"]+)"', output))
        assert {"get_pet", "add_pet", "always_fails"} <= names, output
        # The same command asking what was negotiated.
        method = args.index("--method") + 1
        code, output = await run_node_tool(inspector, *args[:method], "initialize", *args[method + 1:],
                                           home=tmp_path, timeout=RUN_TIMEOUT)
        assert code == 0, output
        assert re.search(rf'"protocolVersion":\s*"{version}"', output), (era, output)


async def call_demo(http: aiohttp.ClientSession, url: str, n: int) -> dict[str, Any]:
    """One stateless (2026-07-28) call of the demo's `get_pet`: its JSON-RPC response."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {}}
    body = {"jsonrpc": "2.0", "id": n, "method": "tools/call",
            "params": {"name": "get_pet", "arguments": {"id": 1}, "_meta": meta}}
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "get_pet",
               "Accept": "application/json, text/event-stream"}
    async with http.post(url, json=body, headers=headers) as resp:
        answer: dict[str, Any] = await resp.json()
        return answer


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the child through /proc")
async def test_a_killed_toolexec_replica_is_restarted_while_the_other_serves(up: Up) -> None:
    url = up.urls[0]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        assert (await call_demo(http, url, 0))["result"]["isError"] is False
        victim = child_pid(up.proc.proc.pid, "mcpgw_toolexec")
        os.kill(victim, signal.SIGKILL)
        restarted = await up.proc.wait_for(r"\[mcpgw\] toolexec-\d exited with status -9 \(SIGKILL\); restarting it in",
                                           timeout=10)
        # Meanwhile the other replica answers every call.
        answers = [await call_demo(http, url, n) for n in range(1, 21)]
        assert all(a.get("result", {}).get("isError") is False for a in answers), answers
        name = restarted.split("] ", 1)[1].split()[0]
        await up.proc.wait_for(rf"\[mcpgw\] {name} is back \(pid \d+\)", timeout=30)
        pids = child_pids(up.proc.proc.pid, "mcpgw_toolexec")
        assert len(pids) == 2 and victim not in pids, pids
        assert (await call_demo(http, url, 99))["result"]["isError"] is False
    assert up.proc.running


async def test_ctrl_c_stops_everything(up: Up) -> None:
    launcher = up.proc
    launcher.proc.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(launcher.proc.wait(), 30)
    await launcher.stop()  # collects the rest of its output
    output = "\n".join(launcher.lines)
    assert code == 0, output
    for name in ("demo-mcp", "edge", "hosting", "registry"):
        assert f"[mcpgw] stopping {name}" in output
    # It started no nats-server or redis-server of its own: NATS_URL and REDIS_URL were given.
    assert "stopping nats" not in output and "stopping redis" not in output
    assert port_is_free(up.edge_port) and port_is_free(up.registry_port)


def child_pids(parent: int, module: str) -> list[int]:
    """The pids of the launcher's children running `python -m <module>` (a killed one not yet reaped
    by its parent is left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and module.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def child_pid(parent: int, module: str) -> int:
    """The pid of one of the launcher's children running `python -m <module>`."""
    pids = child_pids(parent, module)
    assert pids, f"no child {module} of {parent}"
    return pids[0]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the child through /proc")
async def test_a_child_that_keeps_crashing_stops_the_rest(nats_url: str, redis_url: str, root: str,
                                                          tmp_path: Path) -> None:
    env = {**os.environ, "NATS_URL": nats_url, "REDIS_URL": redis_url,
           "MCPGW_EDGE_PORT": str(free_port()), "MCPGW_REGISTRY_PORT": str(free_port()),
           "MCPGW_DEMO_BACKEND_PORT": str(free_port()), "MCPGW_DEMO_MCP_PORT": str(free_port()),
           "MCPGW_RUN_DIR": str(tmp_path), "MCPGW_SUBJECT_ROOT": root, "MCPGW_REGISTRY_KV_BUCKET": f"cfg-{root}",
           "MCPGW_UP_MAX_CRASHES": "2"}  # the second exit within a minute gives up
    launcher = await spawn("up", [sys.executable, "-m", "mcpgw.launcher"], env=env, cwd=str(ROOT))
    try:
        await launcher.wait_for(r"^mcpgw is ready$", timeout=90)
        os.kill(child_pid(launcher.proc.pid, "mcpgw_auth"), signal.SIGKILL)
        await launcher.wait_for(r"\[mcpgw\] auth is back", timeout=30)
        os.kill(child_pid(launcher.proc.pid, "mcpgw_auth"), signal.SIGKILL)
        code = await asyncio.wait_for(launcher.proc.wait(), 30)
    finally:
        await launcher.stop()
    output = "\n".join(launcher.lines)
    assert code == 1, output
    assert "[mcpgw] auth exited with status -9 (SIGKILL); restarting it in 0.5s" in output
    assert "auth exited 2 times within 60s, the last with status -9 (SIGKILL); giving up. Its last lines:" in output
    assert "auth | mcpgw-auth ready" in output
    for name in ("edge", "hosting", "toolexec", "backend", "demo-mcp", "registry"):
        assert f"[mcpgw] stopping {name}" in output
