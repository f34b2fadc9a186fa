"""The converter's public types: options in, a tools document plus a report out."""

from __future__ import annotations

import msgspec

from mcpgw.contracts.tools import ToolsDocument


class ImportOptions(msgspec.Struct, kw_only=True):
    # Replaces `servers` / host+basePath as `server.config.baseUrl`, and any operation-level
    # server with the same URL.
    base_url: str | None = None
    include_deprecated: bool = True
    # Characters per description, counted after HTML stripping.
    description_limit: int = 1024
    # External references are never fetched. True only turns the import error into an
    # unresolved (any-value) schema plus a `degraded` entry.
    allow_external_refs: bool = False
    max_bytes: int = 10 * 1024 * 1024
    server_name: str = "openapi"
    # Output schemas are most of a large import's size (Stripe: 6 of 7 MB) and matter only to
    # clients that validate structured results; False leaves them out.
    output_schemas: bool = True


class Skipped(msgspec.Struct):
    operation: str  # "METHOD /path", e.g. "GET /pets/{id}"
    reason: str


class ImportResult(msgspec.Struct):
    document: ToolsDocument
    skipped: list[Skipped]  # operations not turned into tools, with the reason
    degraded: list[Skipped]  # tools made with something lost or approximated, and what
    operations: int  # operations seen: len(document.tools) + len(skipped)
    # Things that are not operations and so never become tools (webhooks, callbacks), listed so
    # nothing in the document disappears without a word.
    ignored: list[Skipped] = []
    # Document-wide remarks, e.g. a base URL that must be configured before the tools can run.
    warnings: list[str] = []
