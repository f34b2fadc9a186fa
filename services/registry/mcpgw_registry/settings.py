from __future__ import annotations

from mcpgw.runtime.settings import CommonSettings, load_settings
from mcpgw_registry.admin_auth import refuse_open_api


class RegistrySettings(CommonSettings, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8081
    kv_bucket: str = "mcpgw-config"
    # JetStream replicas of the bucket; 3 on a NATS cluster.
    kv_replicas: int = 1
    max_body_bytes: int = 10 * 1024 * 1024
    # JetStream object store of the generated tools of imported servers; "" = "<kv_bucket>-imports".
    import_bucket: str = ""
    # Bearer token of the admin API (MCPGW_REGISTRY_ADMIN_TOKEN, or MCPGW_ADMIN_TOKEN cluster-wide).
    # Empty: allowed only on a loopback address, where the API is then open to local callers.
    admin_token: str = ""

    @property
    def import_bucket_name(self) -> str:
        return self.import_bucket or f"{self.kv_bucket}-imports"


def load() -> RegistrySettings:
    settings = load_settings(RegistrySettings, "registry")
    # Here too, not only at start: a refusal is then a settings error (exit status 2) like any other.
    refuse_open_api(settings.admin_token, settings.host)
    return settings
