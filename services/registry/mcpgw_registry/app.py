"""The aiohttp application factory: routes, the envelope middleware, and NATS/KV as a cleanup context."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from mcpgw.runtime.bus import Bus
from mcpgw_registry import admin_auth, bus_handlers, grants_api, import_api
from mcpgw_registry.api import REGISTRY, Registry, routes
from mcpgw_registry.apispec import document as apispec
from mcpgw_registry.blobs import BlobStore
from mcpgw_registry.consumer_repo import ConsumerRepository
from mcpgw_registry.envelope import MAX_BODY, envelope_middleware
from mcpgw_registry.events import Events
from mcpgw_registry.grant_repo import GrantRepository
from mcpgw_registry.hosted import api as hosted_api
from mcpgw_registry.hosted.credential_repo import ConsumerCredentials
from mcpgw_registry.import_api import TOOL_OPS
from mcpgw_registry.kinds.hooks import LinkedHooks
from mcpgw_registry.kinds.links import Links
from mcpgw_registry.server_repo import ServerRepository
from mcpgw_registry.services import api as services_api
from mcpgw_registry.services.repo import ServiceRepository
from mcpgw_registry.settings import RegistrySettings
from mcpgw_registry.snapshots import SnapshotCache
from mcpgw_registry.store import Store
from mcpgw_registry.tool_ops import ToolOperations

SETTINGS = web.AppKey("settings", RegistrySettings)


async def _nats(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    bus = await Bus.connect(settings.nats_url, name="mcpgw-registry", root=settings.subject_root,
                            timeout=settings.request_timeout)
    try:
        store = await Store.open(bus.nc, settings.kv_bucket, replicas=settings.kv_replicas,
                                 timeout=settings.request_timeout)
        events = Events(bus)
        blobs = BlobStore(bus.nc, settings.import_bucket_name, replicas=settings.kv_replicas,
                          timeout=settings.request_timeout)
        servers = ServerRepository(store, events, SnapshotCache(), blobs, max_import_bytes=settings.max_body_bytes,
                                   inline_bytes=settings.inline_record_bytes,
                                   max_snapshot_bytes=settings.max_snapshot_bytes)
        consumers = ConsumerRepository(store, events)
        grants = GrantRepository(store, events, consumers, servers)
        credentials = ConsumerCredentials(store)
        hooks = LinkedHooks(servers, ServiceRepository(store, events), credentials, Links(store), events, bus)
        servers.hooks = hooks
        await bus_handlers.serve(bus, store, servers, consumers, grants, credentials)
        app[REGISTRY] = Registry(bus=bus, servers=servers, consumers=consumers, hooks=hooks)
        app[grants_api.GRANTS] = grants
        app[TOOL_OPS] = ToolOperations(servers)
        yield
    finally:
        await bus.close()


def create_app(settings: RegistrySettings) -> web.Application:
    # The token check runs inside the envelope middleware, so a refusal is an envelope too.
    app = web.Application(client_max_size=settings.max_body_bytes,
                          middlewares=[envelope_middleware, admin_auth.middleware(settings.admin_token)])
    app[SETTINGS] = settings
    app[MAX_BODY] = settings.max_body_bytes
    # Import routes first: `/tools/import` must win over the `/tools/{name}` pattern.
    app.add_routes(import_api.routes)
    app.add_routes(routes)
    app.add_routes(grants_api.routes)
    app.add_routes(services_api.routes)
    app.add_routes(hosted_api.routes)
    app.add_routes(apispec.routes)
    app.cleanup_ctx.append(_nats)
    return app
