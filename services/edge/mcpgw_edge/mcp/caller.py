"""Who is calling: what one request established about its consumer."""

from __future__ import annotations


class Caller:
    """Who is calling, as far as this request goes: consumer, allowed tools, what backends may see."""

    __slots__ = ("allowed", "backend", "client_credential", "consumer_id", "forward_headers")

    def __init__(self, consumer_id: str = "", allowed: frozenset[str] | None = None,
                 forward_headers: dict[str, str] | None = None, client_credential: str = "",
                 backend: int = 0) -> None:
        self.consumer_id = consumer_id
        # None: every tool of the server.
        self.allowed = allowed
        self.forward_headers = forward_headers or {}
        self.client_credential = client_credential
        # The backend this request's calls go to (`grayMcpServerConfigs`): 0 the main one, i gray i-1.
        self.backend = backend


ANONYMOUS = Caller()
