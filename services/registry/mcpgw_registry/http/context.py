"""What the route modules work with: the registry's stores, put on the app once NATS is up, and the clock."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from mcpgw.contracts.errors import invalid
from mcpgw.runtime.bus import Bus
from mcpgw_registry.importing.operations import ToolOperations
from mcpgw_registry.stores.consumers import ConsumerRepository
from mcpgw_registry.stores.grants import GrantRepository
from mcpgw_registry.stores.hooks import LinkedHooks
from mcpgw_registry.stores.servers import ServerRepository


@dataclass(slots=True)
class Registry:
    """Built by the app's cleanup context (`app._nats`) once NATS and the buckets are up."""

    bus: Bus
    servers: ServerRepository
    consumers: ConsumerRepository
    grants: GrantRepository
    hooks: LinkedHooks
    tool_ops: ToolOperations


REGISTRY = web.AppKey("registry", Registry)


def registry(request: web.Request) -> Registry:
    return request.app[REGISTRY]


def now_ms() -> int:
    """Timestamps of records (`createTimestamp`, `updateTimestamp`) and expiry checks: Unix ms."""
    return int(time.time() * 1000)


def name_like(query: Mapping[str, str], name: str = "nameLike") -> str:
    """A list's case-insensitive substring filter ("" when absent)."""
    return str(query.get(name, "")).strip().lower()


def deploy_param(request: web.Request) -> bool:
    """`?deploy=false` saves a change as the server's draft; absent or true publishes it (one step)."""
    value = request.query.get("deploy", "true")
    if value not in ("true", "false"):
        raise invalid("deploy", f"must be true or false, not {value!r}")
    return value == "true"
