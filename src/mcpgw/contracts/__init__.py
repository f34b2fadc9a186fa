"""The wire contracts: every message on the bus, the subject builder and the error codes."""

from mcpgw.contracts.auth import PresentedCredential, SourcesReply, SourcesRequest, VerifyReply, VerifyRequest
from mcpgw.contracts.edge import SessionEnded, SseDeliver
from mcpgw.contracts.errors import ErrorCode, ErrorReply, McpgwError, invalid
from mcpgw.contracts.keys import RedisKeys
from mcpgw.contracts.registry import (
    ApiKeySource,
    AuthIndex,
    AuthIndexRequest,
    ClaimToHeader,
    ConfigChanged,
    ConsumerCredentials,
    Grant,
    JwtVerification,
    ServerLookup,
    ServerLookupReply,
    ServerSnapshot,
    TokenSource,
    ToolListing,
)
from mcpgw.contracts.subjects import Subjects
from mcpgw.contracts.toolcall import ToolCallReply, ToolCallRequest
from mcpgw.contracts.tools import (
    HeaderTemplate,
    RequestTemplate,
    ResponseTemplate,
    SecurityRef,
    SecurityScheme,
    ServerBlock,
    ToolArg,
    ToolsDocument,
    ToolSource,
    ToolSpec,
)

__all__ = [
    "ApiKeySource",
    "AuthIndex",
    "AuthIndexRequest",
    "ClaimToHeader",
    "ConfigChanged",
    "ConsumerCredentials",
    "ErrorCode",
    "ErrorReply",
    "Grant",
    "HeaderTemplate",
    "JwtVerification",
    "McpgwError",
    "PresentedCredential",
    "RedisKeys",
    "RequestTemplate",
    "ResponseTemplate",
    "SecurityRef",
    "SecurityScheme",
    "ServerBlock",
    "ServerLookup",
    "ServerLookupReply",
    "ServerSnapshot",
    "SessionEnded",
    "SourcesReply",
    "SourcesRequest",
    "SseDeliver",
    "Subjects",
    "TokenSource",
    "ToolArg",
    "ToolCallReply",
    "ToolCallRequest",
    "ToolListing",
    "ToolSource",
    "ToolSpec",
    "ToolsDocument",
    "VerifyReply",
    "VerifyRequest",
    "invalid",
]
