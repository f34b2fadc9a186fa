"""`python -m mcpgw_registry`: configured from the environment, ready line, clean stop."""

from __future__ import annotations

import aiohttp

from mcpgw.devcluster import free_port, start_service


async def test_runs_as_a_module(nats_url: str, root: str) -> None:
    port = free_port()
    proc = await start_service("mcpgw_registry", {
        "MCPGW_NATS_URL": nats_url,
        "MCPGW_SUBJECT_ROOT": root,
        "MCPGW_REGISTRY_PORT": str(port),
        "MCPGW_REGISTRY_KV_BUCKET": f"cfg-{root}",
    })
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session, \
                session.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
            assert (await resp.json())["data"] == {"status": "ok"}
    finally:
        await proc.stop()
    assert proc.proc.returncode == 0, "\n".join(proc.lines)
