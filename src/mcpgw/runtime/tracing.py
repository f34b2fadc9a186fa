"""OpenTelemetry set-up and W3C trace-context propagation through NATS headers.

Standard `OTEL_*` variables configure it. Tracing is on when an exporter is configured
(`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_TRACES_EXPORTER`
of `otlp` or `console`) or when a test installs one. When it is off, the hot paths skip spans and
trace headers entirely: recording spans that go nowhere cost ~90 us per call at the edge alone.
Even then a trace context that arrives with a message is handed on unchanged, so a trace started
by a traced caller is not broken by a hop that records nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_enabled = False
_provider: TracerProvider | None = None
_TRACE_HEADERS = ("traceparent", "tracestate")
# With tracing off: the trace headers of the message being handled, to hand on as they came.
_passthrough: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("mcpgw_trace", default=None)


def enabled() -> bool:
    return _enabled


def _configured_exporter() -> SpanExporter | None:
    wanted = os.environ.get("OTEL_TRACES_EXPORTER", "").lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if wanted == "none":
        return None
    if wanted == "console":
        return ConsoleSpanExporter()
    if wanted == "otlp" or endpoint:
        # Imported only here: protobuf and the HTTP client cost start-up time a process without
        # tracing need not pay.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def setup_tracing(service_name: str, exporter: SpanExporter | None = None,
                  processor: SpanProcessor | None = None) -> None:
    """Install a tracer provider when there is somewhere to send spans; once per process."""
    global _enabled, _provider
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    if processor is None:
        exporter = exporter or _configured_exporter()
        if exporter is None:
            return
        processor = BatchSpanProcessor(exporter)
    if _provider is None:
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
        _provider = TracerProvider(resource=resource)
        trace.set_tracer_provider(_provider)
    _provider.add_span_processor(processor)
    _enabled = True


def inject_headers(headers: dict[str, str] | None = None) -> dict[str, str] | None:
    """The current trace context as headers (`traceparent`, `tracestate`); untouched when tracing is off."""
    if not _enabled:
        inherited = _passthrough.get()
        if inherited is None:
            return headers
        return {**inherited, **headers} if headers else dict(inherited)
    carrier: dict[str, str] = {} if headers is None else headers
    propagate.inject(carrier)
    return carrier


@contextlib.contextmanager
def _span(tracer: trace.Tracer, name: str, kind: trace.SpanKind, attributes: Mapping[str, Any] | None,
          parent: Mapping[str, str] | None) -> Iterator[trace.Span | None]:
    token = context.attach(propagate.extract(parent)) if parent is not None else None
    try:
        with tracer.start_as_current_span(name, kind=kind, attributes=attributes) as span:  # type: ignore[arg-type,unused-ignore]
            yield span
    finally:
        if token is not None:
            context.detach(token)


_NO_SPAN: contextlib.nullcontext[None] = contextlib.nullcontext()


class Open:
    """A span started and made current by `start`, for code that cannot nest a `with` around its
    work (a `with` would cost the untraced hot path a context manager); `end` closes it."""

    __slots__ = ("span", "token")

    def __init__(self, span: trace.Span, token: object) -> None:
        self.span = span
        self.token = token


def start(tracer: trace.Tracer, name: str, kind: trace.SpanKind, attributes: Mapping[str, Any],
          parent: Mapping[str, str] | None = None) -> Open:
    """Start a span as the current one (call only when `enabled()`). With `parent` (trace headers
    from a message) the span continues that trace, linked to the span that was current."""
    if not parent:
        span = tracer.start_span(name, kind=kind, attributes=attributes)  # type: ignore[arg-type,unused-ignore]
        return Open(span, context.attach(trace.set_span_in_context(span)))
    remote = propagate.extract(parent)
    ambient = trace.get_current_span().get_span_context()
    links = [trace.Link(ambient)] if ambient.is_valid else None
    span = tracer.start_span(name, context=remote, kind=kind, attributes=attributes,  # type: ignore[arg-type,unused-ignore]
                             links=links)
    return Open(span, context.attach(trace.set_span_in_context(span, remote)))


def end(opened: Open, error: str | None = None, description: str | None = None) -> None:
    """End a span from `start`; `error` is its `error.type` (a low-cardinality class of failure)."""
    if error is not None:
        failed(opened.span, error, description)
    context.detach(opened.token)  # type: ignore[arg-type]
    opened.span.end()


def failed(span: trace.Span | None, error: str, description: str | None = None) -> None:
    """Mark a span as failed, the semantic conventions' way: `error.type` and an ERROR status."""
    if span is None:
        return
    span.set_attribute("error.type", error)
    span.set_status(trace.Status(trace.StatusCode.ERROR, description))


class _Passthrough(contextlib.AbstractContextManager[None]):
    __slots__ = ("_headers", "_token")

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers
        self._token: contextvars.Token[dict[str, str] | None] | None = None

    def __enter__(self) -> None:
        self._token = _passthrough.set(self._headers)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _passthrough.reset(self._token)


def span(tracer: trace.Tracer, name: str, kind: trace.SpanKind = trace.SpanKind.INTERNAL, *,
         attributes: Mapping[str, Any] | None = None,
         parent: Mapping[str, str] | None = None) -> contextlib.AbstractContextManager[trace.Span | None]:
    """A span when tracing is on (child of `parent` headers if given); otherwise a free no-op."""
    if not _enabled:
        if parent and "traceparent" in parent:
            return _Passthrough({k: parent[k] for k in _TRACE_HEADERS if k in parent})
        return _NO_SPAN
    return _span(tracer, name, kind, attributes, parent)


def http_client_attributes(method: str, scheme: str, host: str, port: int, target: str) -> dict[str, str | int]:
    """A CLIENT span's semantic-convention attributes for an HTTP request to `target` (path and
    query) at scheme://host:port. `url.full` has no query: API keys travel there (and in headers,
    which no span records)."""
    return {
        "http.request.method": method,
        "server.address": host,
        "server.port": port,
        "url.scheme": scheme,
        "url.full": f"{scheme}://{host}:{port}{target.partition('?')[0]}",
        "network.protocol.version": "1.1",
    }


def http_answered(span: trace.Span, status: int) -> None:
    """A CLIENT span's answer: its status code, and an error status from 400 up."""
    span.set_attribute("http.response.status_code", status)
    if status >= 400:
        failed(span, str(status))
