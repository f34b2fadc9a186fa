"""A real OTLP/HTTP trace receiver for tests: an aiohttp server at `/v1/traces` decoding what the
services export with `opentelemetry-proto`, and waiting (on a condition, never a sleep) for the spans
of one trace."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL = (ProtoSpan.SPAN_KIND_SERVER, ProtoSpan.SPAN_KIND_CLIENT,
                                                 ProtoSpan.SPAN_KIND_PRODUCER, ProtoSpan.SPAN_KIND_CONSUMER,
                                                 ProtoSpan.SPAN_KIND_INTERNAL)


@dataclass
class Span:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    error: bool
    links: list[str]


def _value(any_value: AnyValue) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@dataclass
class Receiver:
    """An OTLP/HTTP trace receiver: what the services export, decoded."""

    spans: list[Span] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    url: str = ""

    async def export(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        decoded = ExportTraceServiceRequest()
        decoded.ParseFromString(body)
        for resource_spans in decoded.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(Span(
                        service=str(resource.get("service.name")), name=span.name, kind=span.kind,
                        trace_id=span.trace_id.hex(), span_id=span.span_id.hex(), parent_id=span.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        error=span.status.code == span.status.STATUS_CODE_ERROR,
                        links=[link.span_id.hex() for link in span.links]))
        async with self.arrived:
            self.arrived.notify_all()
        return web.Response(content_type="application/x-protobuf", body=b"")

    async def trace(self, trace_id: str, complete: Callable[[list[Span]], bool], within: float = 20.0) -> list[Span]:
        """The spans of one trace, once `complete` says all that is expected arrived."""
        async def arrived() -> list[Span]:
            async with self.arrived:
                while not complete(found := [s for s in self.spans if s.trace_id == trace_id]):
                    await self.arrived.wait()
                return found

        try:
            return await asyncio.wait_for(arrived(), within)
        except TimeoutError:
            got = [(s.service, s.name) for s in self.spans if s.trace_id == trace_id]
            raise AssertionError(f"trace {trace_id} incomplete after {within}s: {got}") from None


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A receiver listening on a free port; its `url` is what `OTEL_EXPORTER_OTLP_ENDPOINT` names."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/v1/traces", receiver.export)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


def one(spans: list[Span], service: str, name: str) -> Span:
    """The one span of `service` named `name`."""
    found = [s for s in spans if s.service == service and s.name == name]
    assert len(found) == 1, (service, name, [(s.service, s.name) for s in spans])
    return found[0]


def has(*wanted: tuple[str, str]) -> Callable[[list[Span]], bool]:
    """Whether spans hold one of each (service, name) wanted: a trace's `complete`."""
    return lambda spans: all(any(s.service == svc and s.name == name for s in spans) for svc, name in wanted)
