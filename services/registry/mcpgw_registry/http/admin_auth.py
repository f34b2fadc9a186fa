"""The admin API's bearer token: every route but `/healthz` and the OpenAPI document requires it.

Without a token the registry only starts when bound to loopback, where it warns and stays open:
that keeps `python -m mcpgw_registry` easy on a laptop and impossible to expose by accident.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from aiohttp import web
from aiohttp.typedefs import Middleware

from mcpgw.contracts.errors import ErrorCode
from mcpgw.runtime.settings import SettingsError
from mcpgw_registry.http.envelope import REQUEST_ID, Handler, error

log = logging.getLogger(__name__)

SPEC_PATH = "/v1/openapi.json"
# The OpenAPI document is open like /healthz. It is built from the code alone: the same for every
# registry of a version and in the public source, it names no server, consumer, key or address of
# this deployment (only the mcpgw version), and client generators and API tools fetch it before they
# hold a token. Kubernetes keeps its /openapi behind authentication because that document lists a
# cluster's own resource types; this one has nothing of the kind. What guards the admin API is the
# token on every other route, and a listener on loopback or a private network.
OPEN_PATHS = frozenset({"/healthz", SPEC_PATH})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mcpgw-admin"'}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_open_api(token: str, host: str) -> None:
    """Refuse to serve an open admin API beyond this machine."""
    if not token and not is_loopback(host):
        raise SettingsError(f"the admin API would listen on {host} without a token: set MCPGW_ADMIN_TOKEN "
                            "(or MCPGW_REGISTRY_ADMIN_TOKEN), or bind it to 127.0.0.1")


def check_settings(token: str, host: str) -> None:
    """`refuse_open_api`, and a warning when the API is open (to local callers only)."""
    refuse_open_api(token, host)
    if token:
        return
    log.warning("no admin token set (MCPGW_ADMIN_TOKEN): the admin API on %s accepts every local caller", host)


def _is_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")


def middleware(token: str) -> Middleware:
    expected = token.encode()

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The console's files are open: they hold no data, and every call they make carries the token.
        if expected and request.path not in OPEN_PATHS and not _is_console(request.path):
            scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
            # compare_digest: the time taken must not tell how much of a guess was right.
            if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected):
                return error(request[REQUEST_ID], ErrorCode.UNAUTHORIZED,
                             "Authorization: the admin API needs the admin token (Authorization: Bearer "
                             "<MCPGW_ADMIN_TOKEN>)", 401, CHALLENGE)
        return await handler(request)

    return require_token
