"""The pooled HTTP client every tool call goes through.

One `ClientSession` per process: connections are kept alive per backend host, DNS answers are
cached, and nothing follows redirects or keeps cookies (a cookie set for one consumer's call must
never ride along on another's). Failures become `ToolFailure`s with short, secret-free messages.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDictProxy
from opentelemetry import propagate, trace
from yarl import URL

from mcpgw_toolexec.failures import ToolFailure
from mcpgw_toolexec.request import BackendRequest
from mcpgw_toolexec.settings import ToolexecSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mcpgw.toolexec")

_CHUNK = 64 * 1024
# Methods a second attempt cannot harm when a kept-alive connection turns out to be closed.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(slots=True)
class BackendResponse:
    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes


class BackendClient:
    def __init__(self, settings: ToolexecSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        s = self._settings
        connector = aiohttp.TCPConnector(
            limit=0,  # the per-host limit is what protects backends; the total is bounded by max_inflight
            limit_per_host=s.max_connections_per_host,
            keepalive_timeout=60,
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=s.backend_timeout, connect=s.backend_connect_timeout),
            auto_decompress=True,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, request: BackendRequest) -> BackendResponse:
        if self._session is None:
            raise RuntimeError("BackendClient.start() was not called")
        parts = urlsplit(request.url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        attributes: dict[str, str | int] = {
            "http.request.method": request.method,
            "server.address": host,
            "server.port": port,
            "url.scheme": parts.scheme,
        }
        # The span records no query and no headers: API keys can travel in either.
        with tracer.start_as_current_span(request.method, kind=trace.SpanKind.CLIENT,
                                          attributes=attributes) as span:
            propagate.inject(request.headers)
            try:
                response = await self._send(self._session, request, host, port)
            except ToolFailure as exc:
                span.set_status(trace.Status(trace.StatusCode.ERROR, exc.message))
                raise
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 400:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            return response

    async def _send(self, session: aiohttp.ClientSession, request: BackendRequest,
                    host: str, port: int) -> BackendResponse:
        skip = () if "Content-Type" in request.headers else ("Content-Type",)
        attempts = 2 if request.method in _IDEMPOTENT else 1
        for attempt in range(1, attempts + 1):
            answered = False
            try:
                async with session.request(
                    request.method,
                    URL(request.url, encoded=True),
                    headers=request.headers,
                    data=request.body,
                    allow_redirects=False,
                    skip_auto_headers=skip,
                ) as resp:
                    answered = True
                    body = await self._read(resp)
                    return BackendResponse(resp.status, resp.reason or "", resp.headers, body)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientConnectionResetError):
                # Usually a pooled connection the backend closed while idle: safe to try once more.
                if attempt < attempts and not answered:
                    log.debug("backend %s:%d closed a kept-alive connection; retrying", host, port)
                    continue
                raise ToolFailure("backend closed the connection without a complete answer") from None
            except aiohttp.ConnectionTimeoutError:
                raise ToolFailure(
                    f"backend unreachable: no connection to {host}:{port} within "
                    f"{self._settings.backend_connect_timeout:g}s") from None
            except TimeoutError:
                raise ToolFailure(
                    f"backend did not answer within {self._settings.backend_timeout:g}s") from None
            except aiohttp.ClientConnectorDNSError:
                raise ToolFailure(f"backend unreachable: cannot resolve {host}") from None
            except aiohttp.ClientConnectorError as exc:
                err = exc.os_error
                reason = os.strerror(err.errno) if err.errno else type(err).__name__
                raise ToolFailure(f"backend unreachable: cannot connect to {host}:{port}: {reason}") from None
            except aiohttp.ClientPayloadError:
                raise ToolFailure("backend sent a malformed response body") from None
            except aiohttp.ClientResponseError:
                raise ToolFailure("backend sent an invalid HTTP response") from None
            except aiohttp.ClientError as exc:
                raise ToolFailure(f"backend call failed: {type(exc).__name__}") from None
            except ValueError:  # aiohttp/yarl refusing the URL or a header; their text may quote secrets
                raise ToolFailure("backend request could not be sent: invalid URL or header") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        limit = self._settings.max_response_bytes
        too_large = ToolFailure(f"backend response larger than {limit} bytes")
        if resp.content_length is not None and resp.content_length > limit:
            raise too_large
        body = bytearray()
        # Counted after decompression, so a small gzip bomb stops at the limit too.
        async for chunk in resp.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)
