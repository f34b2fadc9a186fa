"""OpenAPI 3.0/3.1 and Swagger 2.0 documents -> a Higress tools document (one tool per operation).

`convert` is the whole interface: the import workflow (preview, diff, apply) calls it and works
on the `ToolsDocument` it returns. Nothing here fetches anything: external references are refused.
"""

from mcpgw_registry.openapi.convert import convert
from mcpgw_registry.openapi.model import ImportOptions, ImportResult, Skipped

__all__ = ["ImportOptions", "ImportResult", "Skipped", "convert"]
