"""How conversion problems travel: a whole-import error, or one operation skipped with a reason."""

from __future__ import annotations

from mcpgw.contracts.errors import McpgwError, invalid
from mcpgw_registry.importing.openapi.refs import RefError


class SkipOperation(Exception):
    """This operation cannot become a tool; the others can."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def ref_failure(exc: RefError) -> McpgwError:
    return invalid(f"$ref {exc.ref!r}", exc.detail)
