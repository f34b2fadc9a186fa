"""Redis key names, built in one place under the same root as the subjects."""

from __future__ import annotations


class RedisKeys:
    def __init__(self, root: str = "mcpgw") -> None:
        self.root = root

    def session(self, session_id: str) -> str:
        return f"{self.root}:session:{session_id}"

    def session_ended(self, session_id: str) -> str:
        """A tombstone: the session was ended on purpose, so no edge writes it back from its cache."""
        return f"{self.root}:session-ended:{session_id}"

    def stats_minute(self, server_id: str, minute: int) -> str:
        """One server's statistics of one minute (Unix time // 60), a hash: see `mcpgw.statistics`."""
        return f"{self.root}:stats:{server_id}:{minute}"

    def upstream_session(self, session_id: str, server_id: str) -> str:
        """The upstream MCP session a client session holds on a hosted server (hosting's)."""
        return f"{self.root}:upstream:{session_id}:{server_id}"

    def upstream_holder(self, session_id: str, server_id: str) -> str:
        """Which hosting worker holds a legacy-SSE upstream session's stream."""
        return f"{self.root}:upstream-holder:{session_id}:{server_id}"

    def upstream_index(self, session_id: str) -> str:
        """The hosted servers a client session has upstream sessions on (a set of server ids)."""
        return f"{self.root}:upstream-index:{session_id}"

    def request_stream(self, session_id: str, stream_id: str) -> str:
        """A resumable request stream's events (a list), readable only through its own session."""
        return f"{self.root}:stream:{session_id}:{stream_id}"
