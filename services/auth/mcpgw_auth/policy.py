"""Authorization: what an authenticated consumer may do on one MCP server.

This is the seam for grants (server-level and tool-level). Until grants exist every enabled
consumer may call every tool of a server that asks for consumer authentication.
"""

from __future__ import annotations

from mcpgw.contracts import ConsumerCredentials, VerifyReply, VerifyRequest


def authorize(consumer: ConsumerCredentials, request: VerifyRequest) -> VerifyReply:
    """Decide for an authenticated, enabled consumer: allow (all tools or some) or forbidden."""
    return VerifyReply(
        outcome="allow",
        consumer_id=consumer.consumer_id,
        consumer_name=consumer.name,
        allowed_tools=None,
    )
