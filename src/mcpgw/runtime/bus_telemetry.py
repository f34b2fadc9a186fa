"""What `Bus` counts and traces: NATS requests made and served, by operation and outcome.

An operation is a subject without its root and ids (`toolexec.call`, `registry.edge.lookup`,
`hosting.held`), so a label never holds a server or session id. Spans follow the messaging
semantic conventions: a request is a `PRODUCER` span (`send <operation>`), the handling of it a
`CONSUMER` span (`process <operation>`), with `messaging.*` attributes.
"""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry import trace
from prometheus_client.core import Metric

from mcpgw.runtime import tracing
from mcpgw.runtime.metrics import Timings, gauge

tracer = trace.get_tracer("mcpgw.bus")

# Subjects of these services are fixed (`<root>.registry.edge.lookup`); the others' carry ids after
# the second token (`<root>.toolexec.call.<server id>`, `<root>.hosting.held.<session>.<server>`).
_FIXED = frozenset({"registry", "auth"})
OK = "ok"


def operation_of(subject: str) -> str:
    """`mcpgw.toolexec.call.s-1` -> `toolexec.call`; a subject of another shape is kept whole."""
    parts = subject.split(".")
    if len(parts) < 3:
        return subject
    if parts[1] in _FIXED:
        return ".".join(parts[1:])
    return f"{parts[1]}.{parts[2]}"


def request_timings() -> Timings:
    return Timings("mcpgw_nats_request_duration_seconds",
                   "NATS requests this process made, from sending to the reply, by operation and outcome",
                   ("operation", "outcome"))


def served_timings() -> Timings:
    return Timings("mcpgw_nats_served_duration_seconds",
                   "NATS requests this process answered, from taking to answering, by operation and outcome",
                   ("operation", "outcome"))


class RequestTiming:
    """The series of one operation's requests, kept per subject by the bus (a dict hit per call)."""

    __slots__ = ("_timings", "ok", "operation")

    def __init__(self, operation: str, timings: Timings) -> None:
        self.operation = operation
        self._timings = timings
        self.ok = timings.series(operation, OK)

    def failed(self, outcome: str, seconds: float, span: tracing.Open | None) -> None:
        self._timings.observe(seconds, self.operation, outcome)
        if span is not None:
            tracing.end(span, outcome)


def producer(subject: str, operation: str) -> tracing.Open:
    """The span of one request made (call only when tracing is on)."""
    return tracing.start(tracer, f"send {operation}", trace.SpanKind.PRODUCER, {
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.operation.name": "request",
        "messaging.destination.name": subject,
    })


def consumer_attributes(subject: str, queue: str) -> dict[str, str]:
    """The attributes of every span of requests served on one subscription (built once)."""
    attributes = {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.template" if "*" in subject or ">" in subject else "messaging.destination.name": subject,
    }
    if queue:
        attributes["messaging.consumer.group.name"] = queue
    return attributes


def families(requests: Timings, served: Timings, in_flight: int) -> Iterator[Metric]:
    yield requests.family()
    yield served.family()
    yield gauge("mcpgw_nats_served_in_flight", "NATS requests this process is answering now", in_flight)
