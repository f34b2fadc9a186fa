"""The aiohttp application factory: routes, the envelope middleware, and NATS/KV as a cleanup context."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from mcpgw.contracts import RedisKeys
from mcpgw.runtime.bus import Bus
from mcpgw.runtime.redis import connect_redis
from mcpgw_registry.bus import handlers as bus_handlers
from mcpgw_registry.bus.events import Events
from mcpgw_registry.http import admin_auth
from mcpgw_registry.http.console import CONSOLE, ConsoleFiles
from mcpgw_registry.http.context import REGISTRY, Registry
from mcpgw_registry.http.envelope import MAX_BODY, envelope_middleware
from mcpgw_registry.http.routes import TABLES
from mcpgw_registry.http.statistics import STATISTICS, StatisticsSource
from mcpgw_registry.importing.operations import ToolOperations
from mcpgw_registry.resources.servers.snapshots import SnapshotCache
from mcpgw_registry.settings import RegistrySettings
from mcpgw_registry.stores.blobs import BlobStore
from mcpgw_registry.stores.consumers import ConsumerRepository
from mcpgw_registry.stores.domain_users import DomainUsers
from mcpgw_registry.stores.domains import DomainRepository
from mcpgw_registry.stores.grant_records import GrantRecords
from mcpgw_registry.stores.grants import GrantRepository
from mcpgw_registry.stores.hooks import LinkedHooks
from mcpgw_registry.stores.kv import Store
from mcpgw_registry.stores.links import Links
from mcpgw_registry.stores.servers import ServerRepository
from mcpgw_registry.stores.services import ServiceRepository
from mcpgw_registry.stores.upstream_credentials import ConsumerCredentials

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
        # Deleting a server or a consumer deletes its grants (see stores.grant_records).
        grant_records = GrantRecords(store, events)
        servers = ServerRepository(store, events, SnapshotCache(), blobs, grant_records,
                                   max_import_bytes=settings.max_body_bytes, inline_bytes=settings.inline_record_bytes,
                                   max_snapshot_bytes=settings.max_snapshot_bytes,
                                   revisions_kept=settings.revisions_kept)
        consumers = ConsumerRepository(store, events, grant_records)
        grants = GrantRepository(grant_records, consumers, servers)
        credentials = ConsumerCredentials(store)
        hooks = LinkedHooks(servers, ServiceRepository(store, events), credentials, Links(store), events, bus,
                            DomainUsers(store, DomainRepository(store), servers))
        servers.hooks = consumers.hooks = hooks
        await bus_handlers.serve(bus, store, servers, consumers, grants, credentials)
        app[REGISTRY] = Registry(bus=bus, servers=servers, consumers=consumers, grants=grants, hooks=hooks,
                                 tool_ops=ToolOperations(servers))
        yield
    finally:
        await bus.close()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    """The statistics' Redis: a lazy client, so the registry starts (and serves all else) without it."""
    settings = app[SETTINGS]
    client = connect_redis(settings.redis_url, settings.request_timeout)
    app[STATISTICS] = StatisticsSource(client, RedisKeys(settings.subject_root), settings.stats_window)
    try:
        yield
    finally:
        await client.aclose()


def create_app(settings: RegistrySettings) -> web.Application:
    # The token check runs inside the envelope middleware, so a refusal is an envelope too.
    app = web.Application(client_max_size=settings.max_body_bytes,
                          middlewares=[envelope_middleware, admin_auth.middleware(settings.admin_token)])
    app[SETTINGS] = settings
    app[MAX_BODY] = settings.max_body_bytes
    app[CONSOLE] = ConsoleFiles(settings.edge_url)
    for table in TABLES:
        app.add_routes(table)
    app.cleanup_ctx.append(_nats)
    app.cleanup_ctx.append(_redis)
    return app
