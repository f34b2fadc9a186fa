"""Authorization: what an authenticated, enabled consumer may do on one MCP server.

The edge only asks about servers with consumer authentication on, so a consumer with no live
grant there is refused (403 at the edge): enabling authentication on a server with no grants
closes it to everyone, as the console documents.
"""

from __future__ import annotations

from mcpgw.contracts import ConsumerCredentials, VerifyReply, VerifyRequest
from mcpgw_auth.grants import GrantTable

NOT_GRANTED = "consumer is not authorized for this MCP server"


def authorize(consumer: ConsumerCredentials, request: VerifyRequest, grants: GrantTable,
              forward_headers: dict[str, str] | None = None, valid_until: float = 0.0) -> VerifyReply:
    """Allow (every tool, or the granted ones) or forbidden."""
    access = grants.access(consumer.consumer_id, request.server_id)
    if not access.allowed:
        return VerifyReply(outcome="forbidden", consumer_id=consumer.consumer_id, consumer_name=consumer.name,
                           reason=NOT_GRANTED)
    limits = [t for t in (valid_until, access.expires_at / 1000) if t]
    return VerifyReply(
        outcome="allow",
        consumer_id=consumer.consumer_id,
        consumer_name=consumer.name,
        allowed_tools=access.tools,
        forward_headers=forward_headers or {},
        valid_until=min(limits) if limits else 0.0,
    )
