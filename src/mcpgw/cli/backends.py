"""`servers create|update` options for a REST server's backends: `backendConfig` and canaries.

`--backend SERVICE[=WEIGHT]` (repeatable): one is `SingleService`, several `MultiServiceByRatio`
split by weight (default 100 each). `--canary HEADER=VALUE@SERVICE` (repeatable, first match
wins) sends calls whose request has that header value to that service; the header
`x-mcpgw-consumer` stands for the verified consumer's name (a per-consumer canary).
`--gray FILE` takes `grayMcpServerConfigs` as the API does (JSON or YAML), for path, query or
method matches and weighted canaries.
"""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from mcpgw.cli.client import SERVICES, Admin
from mcpgw.cli.errors import UsageError
from mcpgw.cli.inputs import read_text


def options(parser: argparse.ArgumentParser) -> None:
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument("--backend", action="append", metavar="SERVICE[=WEIGHT]",
                         help="where relative tool URLs go: a service (name or svc-… id), weight 0-100 "
                              "(repeatable: several split calls by weight; replaces them all)")
    backend.add_argument("--no-backend", action="store_true", help="remove the backendConfig")
    gray = parser.add_mutually_exclusive_group()
    gray.add_argument("--canary", action="append", metavar="HEADER=VALUE@SERVICE",
                      help="calls whose request has this header value go to SERVICE (repeatable, first match "
                           "wins; header x-mcpgw-consumer is the verified consumer's name)")
    gray.add_argument("--gray", metavar="FILE", help="grayMcpServerConfigs as the API takes them (JSON or YAML)")
    gray.add_argument("--no-canary", action="store_true", help="remove every canary")


def _weighted(ref: str) -> tuple[str, int | None]:
    name, sep, weight = ref.rpartition("=")
    if not sep:
        return ref, None
    try:
        value = int(weight)
    except ValueError:
        raise UsageError(f"--backend {ref}: the weight must be a whole number 0-100") from None
    return name, value


async def _config(admin: Admin, refs: list[str]) -> dict[str, Any]:
    services = []
    for ref in refs:
        name, weight = _weighted(ref)
        entry: dict[str, Any] = {"serviceId": await admin.resolve(SERVICES, name)}
        if weight is not None:
            entry["weight"] = weight
        services.append(entry)
    return {"scene": "SingleService" if len(services) == 1 else "MultiServiceByRatio", "services": services}


async def _canary(admin: Admin, spec: str) -> dict[str, Any]:
    rule, at, service = spec.rpartition("@")
    header, eq, value = rule.partition("=")
    if not (at and eq and header and service):
        raise UsageError(f"--canary {spec}: expected HEADER=VALUE@SERVICE, e.g. x-canary=true@search-canary")
    return {"match": {"headers": [{"name": header, "type": "Exact", "value": value}]},
            "backendConfig": await _config(admin, [service])}


async def fields(admin: Admin, args: argparse.Namespace, body: dict[str, Any]) -> None:
    """Adds what the backend options say to a create or update body."""
    if args.backend:
        body["backendConfig"] = await _config(admin, args.backend)
    elif args.no_backend:
        body["backendConfig"] = None
    if args.canary:
        body["grayMcpServerConfigs"] = [await _canary(admin, spec) for spec in args.canary]
    elif args.gray is not None:
        gray = yaml.safe_load(read_text(args.gray))
        if not isinstance(gray, list):
            raise UsageError("--gray: expected a list of {match, backendConfig}")
        body["grayMcpServerConfigs"] = gray
    elif args.no_canary:
        body["grayMcpServerConfigs"] = []
