"""The five services as real `python -m` processes, each serving /metrics on its own port and
exporting spans over OTLP/HTTP to a receiver the test runs (`tests/otlp.py`): what traces and metrics
are tested against, since tracing is set up once per process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from mcpgw.devcluster import Proc, free_port, start_service
from tests.otlp import Receiver, receiving

ADMIN_TOKEN = "processes-admin-token-0123456789abcdef"
SERVICES = ("registry", "auth", "toolexec", "hosting", "edge")


@dataclass
class Processes:
    receiver: Receiver
    registry_port: int
    edge_port: int
    metrics_ports: dict[str, int]
    procs: list[Proc]

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}"

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """The admin API's `data` for a request that must succeed."""
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kwargs.pop("headers", {})}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http, http.request(
                method, self.admin_url + path, headers=headers, **kwargs) as resp:
            body = await resp.json(content_type=None)
            assert resp.status == 200, body
            return body["data"]

    def mcp_url(self, server: str) -> str:
        return f"http://127.0.0.1:{self.edge_port}/mcp-servers/{server}"

    def metrics_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.metrics_ports[service]}/metrics"


@asynccontextmanager
async def running(nats_url: str, redis_url: str, env: Mapping[str, str] | None = None) -> AsyncIterator[Processes]:
    """The five services on their own subject root and bucket; no traceback in any output at the end."""
    root = "p" + uuid.uuid4().hex[:12]
    registry_port, edge_port = free_port(), free_port()
    metrics_ports = {name: free_port() for name in SERVICES}
    procs: list[Proc] = []
    async with receiving() as receiver:
        full_env = {
            "MCPGW_NATS_URL": nats_url, "MCPGW_REDIS_URL": redis_url, "MCPGW_SUBJECT_ROOT": root,
            "MCPGW_REGISTRY_KV_BUCKET": f"cfg-{root}", "MCPGW_LOG_LEVEL": "WARNING",
            "MCPGW_REGISTRY_PORT": str(registry_port), "MCPGW_REGISTRY_ADMIN_TOKEN": ADMIN_TOKEN,
            "MCPGW_EDGE_PORT": str(edge_port),
            **{f"MCPGW_{name.upper()}_METRICS_PORT": str(port) for name, port in metrics_ports.items()},
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            # Export each batch within 50 ms: tests wait for spans, never for a fixed time.
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            **(env or {}),
        }
        try:
            procs.extend(await asyncio.gather(*(start_service(f"mcpgw_{name}", full_env) for name in SERVICES)))
            yield Processes(receiver, registry_port, edge_port, metrics_ports, procs)
        finally:
            for proc in procs:
                await proc.stop()
    tracebacks = [f"{p.name}: {line}" for p in procs for line in p.lines if "Traceback" in line]
    assert not tracebacks, tracebacks
