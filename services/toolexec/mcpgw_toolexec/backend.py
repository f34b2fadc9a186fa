"""The pooled HTTP client every tool call goes through.

One `http11.Pool` per process: connections are kept alive per backend origin, and nothing follows
redirects, keeps cookies (a cookie set for one consumer's call must never ride along on
another's) or reads proxy settings from the environment. Failures become `ToolFailure`s with
short, secret-free messages.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from multidict import CIMultiDictProxy
from opentelemetry import propagate, trace

from mcpgw.balancing import Health
from mcpgw.runtime import tracing
from mcpgw.runtime.metrics import Series, Timings, http_outcome, http_series
from mcpgw_toolexec import http11
from mcpgw_toolexec.failures import ToolFailure, Unreachable
from mcpgw_toolexec.request import BackendRequest
from mcpgw_toolexec.settings import ToolexecSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mcpgw.toolexec")

# Methods a second attempt cannot harm when a kept-alive connection turns out to be closed.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_KEEPALIVE_TIMEOUT = 60.0


@dataclass(slots=True)
class BackendResponse:
    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """What the scheme and authority of a backend URL mean, worked out once per authority."""

    scheme: str
    host: str
    port: int
    authorization: str | None  # Basic credentials from user:password@ in the URL, if any
    # Latency series by outcome (`HTTP_OUTCOMES` index), looked up once per authority.
    series: list[Series] = field(default_factory=list)


_MAX_ENDPOINTS = 4096  # authorities come from operator config; the bound only stops a leak


class BackendClient:
    def __init__(self, settings: ToolexecSettings) -> None:
        self._settings = settings
        self._pool: http11.Pool | None = None
        self._endpoints: dict[str, _Endpoint] = {}
        # Trust per service CA bundle (PEM text -> context), built once per bundle.
        self._contexts: dict[str, ssl.SSLContext] = {}
        # Passive health of backendConfig addresses (`mcpgw.balancing`), shared by every server.
        self.health = Health(settings.backend_eject_after, settings.backend_eject_seconds)
        # Backends are labelled host:port: an argument never changes a tool's origin (request.py),
        # so they are the configured ones.
        self.timings = Timings("mcpgw_backend_request_duration_seconds",
                               "HTTP calls toolexec made to REST backends, by backend (host:port) and outcome",
                               ("backend", "outcome"))

    def _trust(self, ca_bundle: str = "") -> ssl.SSLContext:
        context = ssl.create_default_context()  # verifies certificates and host names
        if self._settings.backend_ca_file:
            context.load_verify_locations(cafile=self._settings.backend_ca_file)
        if ca_bundle:
            context.load_verify_locations(cadata=ca_bundle)
        context.set_alpn_protocols(["http/1.1"])
        return context

    def context_for(self, ca_bundle: str) -> ssl.SSLContext:
        """The trust of an https service with its own CA bundle (the system's and the file's too)."""
        context = self._contexts.get(ca_bundle)
        if context is None:
            try:
                context = self._trust(ca_bundle)
            except (ssl.SSLError, ValueError):
                raise ToolFailure("backend unreachable: the service's CA bundle is unusable") from None
            if len(self._contexts) >= _MAX_ENDPOINTS:
                self._contexts.clear()
            self._contexts[ca_bundle] = context
        return context

    async def start(self) -> None:
        s = self._settings
        context = self._trust()
        self._pool = http11.Pool(
            max_per_origin=s.max_connections_per_host,
            connect_timeout=s.backend_connect_timeout,
            max_response_bytes=s.max_response_bytes,
            keepalive_timeout=_KEEPALIVE_TIMEOUT,
            ssl_context=context,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def send(self, request: BackendRequest, ssl_context: ssl.SSLContext | None = None) -> BackendResponse:
        """The backend's answer; `ssl_context`: a service's own trust (its CA bundle).

        A connection that could not be opened raises `Unreachable` (nothing was sent).
        """
        if self._pool is None:
            raise RuntimeError("BackendClient.start() was not called")
        endpoint, target = self._split(request.url)
        series = endpoint.series
        if not series:
            series.extend(http_series(self.timings, f"{endpoint.host}:{endpoint.port}"))
        started = time.perf_counter()
        if not tracing.enabled():
            try:
                response = await self._send(self._pool, request, endpoint, target, ssl_context)
            except ToolFailure:
                series[0].observe(time.perf_counter() - started)
                raise
            series[http_outcome(response.status)].observe(time.perf_counter() - started)
            return response
        attributes = tracing.http_client_attributes(request.method, endpoint.scheme, endpoint.host, endpoint.port,
                                                    target)
        with tracer.start_as_current_span(request.method, kind=trace.SpanKind.CLIENT,
                                          attributes=attributes) as span:
            propagate.inject(request.headers)
            try:
                response = await self._send(self._pool, request, endpoint, target, ssl_context)
            except ToolFailure as exc:
                series[0].observe(time.perf_counter() - started)
                tracing.failed(span, type(exc).__name__, exc.message)
                raise
            series[http_outcome(response.status)].observe(time.perf_counter() - started)
            tracing.http_answered(span, response.status)
            return response

    def _split(self, url: str) -> tuple[_Endpoint, str]:
        """(endpoint, request target) of a final URL from request.py: scheme://authority/path?query.

        String slicing and a dict lookup; `urlsplit` and its `.hostname`/`.port` cost ~3 us a call.
        """
        start = url.find("://") + 3
        slash = url.find("/", start)
        origin, target = (url, "/") if slash < 0 else (url[:slash], url[slash:])
        endpoint = self._endpoints.get(origin)
        if endpoint is None or "#" in target:
            return self._split_slowly(url)
        return endpoint, target

    def _split_slowly(self, url: str) -> tuple[_Endpoint, str]:
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # a port that is not a number; the text may quote secrets
            raise ToolFailure("backend request could not be sent: invalid URL or header") from None
        authorization = None
        if parts.username is not None:
            # Credentials in the URL become Basic auth, as aiohttp did; never part of the request line.
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
        endpoint = _Endpoint(parts.scheme, parts.hostname or "", port, authorization)
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        # Cached only where the fast split finds the same pieces: plain scheme://authority/...
        if url == f"{parts.scheme}://{parts.netloc}{target}":
            if len(self._endpoints) >= _MAX_ENDPOINTS:
                self._endpoints.clear()
            self._endpoints[f"{parts.scheme}://{parts.netloc}"] = endpoint
        return endpoint, target

    async def _send(self, pool: http11.Pool, request: BackendRequest, endpoint: _Endpoint,
                    target: str, ssl_context: ssl.SSLContext | None) -> BackendResponse:
        s = self._settings
        method, headers, body = request.method, request.headers, request.body
        scheme, host, port = endpoint.scheme, endpoint.host, endpoint.port
        if endpoint.authorization is not None and "Authorization" not in headers:
            headers["Authorization"] = endpoint.authorization
        deadline = pool.time() + s.backend_timeout
        try:
            try:
                answer = await pool.request(scheme, host, port, method, target, headers, body, deadline=deadline,
                                            ssl_context=ssl_context)
            except http11.Disconnected as exc:
                if not (exc.stale and method in _IDEMPOTENT):
                    raise
                # A kept-alive connection the backend closed while idle: it never saw the request.
                log.debug("backend %s:%d closed a kept-alive connection; retrying", host, port)
                answer = await pool.request(scheme, host, port, method, target, headers, body,
                                            deadline=deadline, fresh=True, ssl_context=ssl_context)
        except http11.TimedOut:
            raise ToolFailure(f"backend did not answer within {s.backend_timeout:g}s") from None
        except http11.ConnectTimeout:
            raise Unreachable(
                f"backend unreachable: no connection to {host}:{port} within {s.backend_connect_timeout:g}s") from None
        except http11.ConnectFailed as exc:
            # A TLS failure is the service's configuration, not its health: no other address helps.
            failure = ToolFailure if isinstance(exc.error, ssl.SSLError) else Unreachable
            raise failure(_unreachable(exc.error, host, port)) from None
        except http11.Disconnected:
            raise ToolFailure("backend closed the connection without a complete answer") from None
        except http11.TooLarge:
            raise ToolFailure(f"backend response larger than {s.max_response_bytes} bytes") from None
        except http11.MalformedBody:
            raise ToolFailure("backend sent a malformed response body") from None
        except http11.InvalidResponse:
            raise ToolFailure("backend sent an invalid HTTP response") from None
        except (http11.InvalidRequest, UnicodeError):  # the text may quote secrets: not repeated
            raise ToolFailure("backend request could not be sent: invalid URL or header") from None
        return BackendResponse(answer.status, answer.reason, CIMultiDictProxy(answer.headers), answer.body)


def _unreachable(error: OSError, host: str, port: int) -> str:
    if isinstance(error, socket.gaierror):
        return f"backend unreachable: cannot resolve {host}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"backend unreachable: TLS certificate of {host}:{port} not trusted: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"backend unreachable: TLS handshake with {host}:{port} failed: {error.reason or 'SSLError'}"
    reason = os.strerror(error.errno) if error.errno else type(error).__name__
    return f"backend unreachable: cannot connect to {host}:{port}: {reason}"
