"""Messages of the auth worker."""

from __future__ import annotations

from typing import Literal

import msgspec


class PresentedCredential(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A credential as the client presented it. `name` is the header or query parameter name."""

    source: Literal["bearer", "header", "query", "cookie"]
    value: str
    name: str = ""


class VerifyRequest(msgspec.Struct, kw_only=True, omit_defaults=True, tag="auth.verify.v1", tag_field="kind"):
    server_id: str
    server_name: str
    credentials: list[PresentedCredential] = []
    # The newest consumer/grant revision the asking edge has seen in change events: auth must not
    # answer from an older index (so a revocation the edge already knows of cannot be undone).
    min_revision: int = 0


Outcome = Literal["allow", "unauthenticated", "forbidden"]


class VerifyReply(msgspec.Struct, kw_only=True, omit_defaults=True, tag="auth.verify.reply.v1", tag_field="kind"):
    outcome: Outcome
    consumer_id: str = ""
    consumer_name: str = ""
    # None: every tool of the server; a list: only these (tool-level grants).
    allowed_tools: list[str] | None = None
    # Safe to show to the client: never contains the credential.
    reason: str = ""
    # Claims copied to backend request headers (`claimsToHeadersConfigs`).
    forward_headers: dict[str, str] = {}
    # Unix seconds after which this answer must be asked for again (a token's `exp`, a grant's
    # expiry); 0: no such limit. The edge never caches an answer beyond it.
    valid_until: float = 0.0


class SourcesRequest(msgspec.Struct, kw_only=True, tag="auth.sources.v1", tag_field="kind"):
    pass


class SourcesReply(msgspec.Struct, kw_only=True, omit_defaults=True, tag="auth.sources.reply.v1", tag_field="kind"):
    """Header and query parameter names consumers' keys may arrive in, besides `Authorization`."""

    headers: list[str] = []
    query: list[str] = []
    cookies: list[str] = []
