"""OpenTelemetry set-up and W3C trace-context propagation through NATS headers.

Standard `OTEL_*` variables configure it. With no exporter configured the SDK is still installed
(so trace ids exist and travel), but spans go nowhere and cost little.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

_configured = False


def setup_tracing(service_name: str, exporter: SpanExporter | None = None) -> None:
    """Install a tracer provider once per process; tests may pass an in-memory exporter."""
    global _configured
    if _configured:
        if exporter is not None:
            provider = trace.get_tracer_provider()
            if isinstance(provider, TracerProvider):
                provider.add_span_processor(BatchSpanProcessor(exporter))
        return
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        _configured = True
        return
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    if exporter is None and os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        try:  # the OTLP exporter is optional: install opentelemetry-exporter-otlp-proto-http to use it
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter,
            )

            exporter = OTLPSpanExporter()
        except ImportError:  # pragma: no cover - depends on an optional package
            exporter = None
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True


def inject_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """The current trace context as NATS headers (`traceparent`, `tracestate`)."""
    carrier: dict[str, str] = {} if headers is None else headers
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str] | None) -> context.Context:
    return propagate.extract(headers or {})
