"""What may go into an outgoing HTTP header: token names, values without line breaks."""

from __future__ import annotations

import re

from mcpgw.http_names import RESERVED, is_token
from mcpgw_toolexec.failures import ToolFailure

# Name rules shared with the registry's OpenAPI import (mcpgw.http_names).
__all__ = ["RESERVED", "check_value", "is_header_safe", "is_token"]

# CR/LF would split the header (request smuggling); other control characters (tab aside) are
# refused by HTTP servers and by aiohttp itself.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def is_header_safe(value: str) -> bool:
    return not _CONTROL.search(value)


def check_value(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise ToolFailure(f"header {name}: value contains a line break or control character and was not sent")
    return value
