from __future__ import annotations

from mcpgw.runtime.settings import CommonSettings, load_settings


class RegistrySettings(CommonSettings, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8081
    kv_bucket: str = "mcpgw-config"
    # JetStream replicas of the bucket; 3 on a NATS cluster.
    kv_replicas: int = 1
    max_body_bytes: int = 10 * 1024 * 1024


def load() -> RegistrySettings:
    return load_settings(RegistrySettings, "registry")
