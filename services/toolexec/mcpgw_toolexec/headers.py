"""What may go into an outgoing HTTP header: token names, values without line breaks."""

from __future__ import annotations

import re

from mcpgw_toolexec.failures import ToolFailure

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# CR/LF would split the header (request smuggling); other control characters (tab aside) are
# refused by HTTP servers and by aiohttp itself.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# Framing and connection headers belong to the HTTP client; letting a template or an argument
# set them would desynchronise the connection.
RESERVED = frozenset({
    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
    "proxy-connection", "proxy-authorization",
})


def is_token(name: str) -> bool:
    return bool(_TOKEN.match(name))


def is_header_safe(value: str) -> bool:
    return not _CONTROL.search(value)


def check_value(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise ToolFailure(f"header {name}: value contains a line break or control character and was not sent")
    return value
