"""Every route table of the admin API, in the order the app mounts them."""

from __future__ import annotations

from aiohttp import web

from mcpgw_registry.http import (
    backend_auth,
    console,
    consumers,
    deployments,
    domains,
    grants,
    imports,
    revisions,
    servers,
    services,
    statistics,
    upstream_credentials,
)
from mcpgw_registry.http.apispec import document as apispec

# Import routes first: `/tools/import` must win over the `/tools/{name}` pattern.
TABLES: tuple[web.RouteTableDef, ...] = (imports.routes, servers.routes, deployments.routes, revisions.routes,
                                         consumers.routes, grants.routes, services.routes, domains.routes,
                                         upstream_credentials.routes, statistics.routes, backend_auth.routes,
                                         apispec.routes, console.routes)
