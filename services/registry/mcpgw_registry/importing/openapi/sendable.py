"""What a request can carry: parameters, body fields and path placeholders the gateway can send.

Decided before any argument is named. Something the gateway cannot send (an empty name; a
header or cookie name that is not an HTTP token) is left out with a note while it is optional;
when the operation requires it no call could succeed, so the operation is skipped with the
reason. Either way the rest of the document imports. A header the HTTP client sets itself
(Content-Length, Host, ...) is always left out: the request gets it anyway.
"""

from __future__ import annotations

from mcpgw.http_names import CLIENT_SET, cookie_arg_problem, header_arg_problem
from mcpgw_registry.importing.openapi import naming
from mcpgw_registry.importing.openapi.operations import Param
from mcpgw_registry.importing.openapi.problems import SkipOperation


def parameters(params: list[Param], notes: list[str]) -> list[Param]:
    """`params` without those that cannot be sent; raises `SkipOperation` for a required one.

    Path parameters are placed by the path template (`placeholders`), not judged here.
    """
    out: list[Param] = []
    for param in params:
        problem = None if param.location == "path" else _problem(param.location, param.name)
        if problem is None:
            out.append(param)
            continue
        what = f"{param.location} parameter {param.name!r} {problem}"
        if param.required and not (param.location == "header" and param.name.lower() in CLIENT_SET):
            raise SkipOperation(f"required {what}, so no call could succeed")
        notes.append(f"{what}; left out")
    return out


def body_field(name: str, required: bool, notes: list[str]) -> bool:
    """Whether a top-level body property can be an argument (JSON, form and multipart names
    are encoded, so only an empty one cannot: an argument needs a name to send it under)."""
    if name:
        return True
    if required:
        raise SkipOperation("a required request body property has an empty name, so no call could succeed")
    notes.append("a request body property with an empty name was left out")
    return False


def placeholders(path: str) -> list[str]:
    """The path's placeholders, each once, in order of first appearance.

    A placeholder used twice (`/{location}/System.{location}`) is one argument filling every
    place: the URL template names the argument at each.
    """
    names = list(dict.fromkeys(naming.placeholders(path)))
    if "" in names:
        raise SkipOperation("the path has a placeholder without a name ({})")
    return names


def _problem(location: str, name: str) -> str | None:
    if not name:
        return "has an empty name"
    if location == "header":
        return header_arg_problem(name)
    if location == "cookie":
        return cookie_arg_problem(name)
    return None  # query names are percent-encoded: any text travels
