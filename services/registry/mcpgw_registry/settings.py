from __future__ import annotations

from typing import Annotated

import msgspec

from mcpgw.runtime.settings import CommonSettings, load_settings
from mcpgw.statistics import DEFAULT_WINDOW_SECONDS
from mcpgw_registry.http.admin_auth import refuse_open_api


class RegistrySettings(CommonSettings, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8081
    kv_bucket: str = "mcpgw-config"
    # JetStream replicas of the bucket; 3 on a NATS cluster.
    kv_replicas: int = 1
    max_body_bytes: int = 10 * 1024 * 1024
    # JetStream object store of large values beside the KV records (tools texts of large servers,
    # generated tools of imported ones); "" = "<kv_bucket>-imports".
    import_bucket: str = ""
    # A server record larger than this keeps its tools text (and if need be itself) in that object
    # store; capped at half the NATS message size.
    inline_record_bytes: int = 256 * 1024
    # Sanity bound of one server's compiled tools: what a lookup sends the edge and toolexec.
    max_snapshot_bytes: int = 64 * 1024 * 1024
    # Bearer token of the admin API (MCPGW_REGISTRY_ADMIN_TOKEN, or MCPGW_ADMIN_TOKEN cluster-wide).
    # Empty: allowed only on a loopback address, where the API is then open to local callers.
    admin_token: str = ""
    # Where toolexec and hosting keep statistics (MCPGW_REGISTRY_REDIS_URL, or MCPGW_REDIS_URL), and
    # how long they keep them: the statistics endpoint reads no wider range.
    redis_url: str = "redis://127.0.0.1:6379/0"
    stats_window: Annotated[float, msgspec.Meta(ge=60)] = DEFAULT_WINDOW_SECONDS
    # Where MCP clients reach the edge (MCPGW_REGISTRY_EDGE_URL): the console shows a server's
    # endpoints under it and its Debug page calls it (the edge must admit the console's origin:
    # loopback pages are, others need MCPGW_EDGE_ALLOWED_ORIGINS).
    edge_url: str = "http://127.0.0.1:8080"
    # Published revisions kept per server (GET …/revisions, rollback); older ones are deleted.
    revisions_kept: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20

    @property
    def import_bucket_name(self) -> str:
        return self.import_bucket or f"{self.kv_bucket}-imports"


def load() -> RegistrySettings:
    settings = load_settings(RegistrySettings, "registry")
    # Here too, not only at start: a refusal is then a settings error (exit status 2) like any other.
    refuse_open_api(settings.admin_token, settings.host)
    return settings
