"""Messages between edge replicas."""

from __future__ import annotations

import msgspec


class SseDeliver(msgspec.Struct, kw_only=True, tag="edge.sse.deliver.v1", tag_field="kind"):
    """A JSON-RPC message for a legacy SSE stream held by whichever edge replica subscribed."""

    session_id: str
    payload: msgspec.Raw


class SessionEnded(msgspec.Struct, kw_only=True, tag="event.session.ended.v1", tag_field="kind"):
    session_id: str


class StreamAppended(msgspec.Struct, kw_only=True, tag="edge.stream.appended.v1", tag_field="kind"):
    """A resumable request stream got another event (kept in Redis): whoever resumes it reads on."""

    stream_id: str
