"""The HTTP side of upstream MCP servers: pooled connections, target choice and credentials.

One aiohttp ClientSession per trust configuration (the system's CAs, or those plus a service's CA
bundle), each a keep-alive pool per address. Certificates are always verified. Every request is
measured and traced by one middleware (`telemetry.py`).
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from collections.abc import Sequence
from urllib.parse import urlencode

import aiohttp

from mcpgw.balancing import Balancer, Health
from mcpgw.contracts import HostedBackend, UpstreamConfig, UpstreamCredential, UpstreamTarget
from mcpgw_hosting.upstream.errors import UpstreamError
from mcpgw_hosting.upstream.telemetry import UpstreamTelemetry

IDLE_CONNECTION_SECONDS = 4.0
_MAX_BALANCERS = 4096  # one per server revision and backend; the bound only stops a leak


class UpstreamHttp:
    def __init__(self, connect_timeout: float, read_timeout: float, per_host: int,
                 health: Health | None = None) -> None:
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._per_host = per_host
        self.telemetry = UpstreamTelemetry()
        self.timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        # Passive health of upstream addresses, the rule toolexec applies too (`mcpgw.balancing`).
        self.health = health or Health()
        self._balancers: dict[tuple[str, int, int], Balancer] = {}

    def balancer(self, config: UpstreamConfig, backend: int = 0) -> Balancer:
        """The addresses of `config`'s main backend (0) or gray config `backend`-1 (the main one
        when it has no such gray config), kept per revision so round robin carries on."""
        if not 0 < backend <= len(config.backend.gray_targets):
            backend = 0
        key = (config.server_id, config.revision, backend)
        found = self._balancers.get(key)
        if found is None:
            if len(self._balancers) >= _MAX_BALANCERS:
                self._balancers.clear()
            targets = config.backend.gray_targets[backend - 1] if backend else config.backend.targets
            found = self._balancers[key] = Balancer(targets)
        return found

    def pick(self, config: UpstreamConfig, backend: int = 0, avoid: Sequence[str] = (),
             service: int | None = None) -> UpstreamTarget:
        """An address by the shared rule: a service by weight, then a healthy address of it."""
        balancer = self.balancer(config, backend)
        if not balancer:
            raise UpstreamError("the hosted server's service has no address")
        return balancer.pick(self.health, avoid, service)

    def client(self, target: UpstreamTarget) -> aiohttp.ClientSession:
        """The pooled client for `target`'s trust configuration."""
        key = hashlib.sha256(target.ca_bundle.encode()).hexdigest() if target.ca_bundle else ""
        session = self._sessions.get(key)
        if session is None or session.closed:
            context = ssl.create_default_context()
            if target.ca_bundle:
                try:
                    context.load_verify_locations(cadata=target.ca_bundle)
                except (ssl.SSLError, ValueError) as exc:
                    raise UpstreamError(f"the service's CA bundle is unusable: {exc}") from None
            # Idle connections go before the upstream drops them: uvicorn and Node.js close theirs
            # after 5 s, and a request sent on a connection the server is closing fails (make bench
            # saw 4 of ~20,000 calls fail that way right after an idle pause with 60 s here).
            connector = aiohttp.TCPConnector(ssl=context, limit=0, limit_per_host=self._per_host,
                                             keepalive_timeout=IDLE_CONNECTION_SECONDS)
            # No cookies, no redirects followed (a redirect must not move a call to another host),
            # no proxy from the environment: an upstream is reached exactly where it is configured.
            session = aiohttp.ClientSession(connector=connector, timeout=self.timeout,
                                            cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                                            auto_decompress=True, middlewares=(self.telemetry.middleware,))
            self._sessions[key] = session
        return session

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()


def find_target(backend: HostedBackend, address: str) -> UpstreamTarget | None:
    """The target at `address` among the main and gray backends' (a session keeps its address)."""
    for targets in (backend.targets, *backend.gray_targets):
        for target in targets:
            if target.address == address:
                return target
    return None


def target_url(target: UpstreamTarget, path: str, credential: UpstreamCredential | None) -> str:
    url = f"{target.scheme}://{target.address}{path}"
    if credential is not None and credential.type == "ApiKey" and credential.location == "query":
        url += ("&" if "?" in path else "?") + urlencode({credential.name: credential.value})
    return url


def credential_headers(credential: UpstreamCredential | None) -> dict[str, str]:
    if credential is None:
        return {}
    if credential.type == "Bearer":
        return {"Authorization": f"Bearer {credential.value}"}
    if credential.type == "Basic":
        token = base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    if credential.location == "header":
        return {credential.name: credential.value}
    return {}
