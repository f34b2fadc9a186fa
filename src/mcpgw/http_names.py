"""Which names an outgoing HTTP request can carry as a header or a cookie.

toolexec sends the requests; the registry's OpenAPI import decides which parameters become
arguments. One rule for both, so the import never makes an argument toolexec refuses to send
(a tool that is listed but fails every call).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")

# Framing and connection headers belong to the HTTP client; letting a template or an argument
# set them would desynchronise the connection.
RESERVED = frozenset({
    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
    "proxy-connection", "proxy-authorization",
})
# What an argument may never set: the framing headers, and Host (it names the backend the
# operator configured).
CLIENT_SET = RESERVED | {"host"}


def is_token(name: str) -> bool:
    """An HTTP token (RFC 9110): what a header name, a cookie name and a method must be."""
    return bool(_TOKEN.match(name))


def header_arg_problem(name: str) -> str | None:
    """Why an argument cannot be sent as header `name`; None when it can."""
    if not is_token(name):
        return "is not a valid HTTP header name"
    if name.lower() in CLIENT_SET:
        return "is a header the HTTP client sets itself"
    return None


def cookie_arg_problem(name: str) -> str | None:
    """Why an argument cannot be sent as cookie `name`; None when it can."""
    return None if is_token(name) else "is not a valid cookie name"
