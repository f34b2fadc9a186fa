"""Arguments -> the backend HTTP request (Higress §1.5 steps 3, 5, 7-12).

Every argument value is percent-encoded into the path and query, header values are refused when
they contain a line break, and the final URL must keep the origin the operator configured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

import msgspec
from multidict import CIMultiDict

from mcpgw.templating import to_text
from mcpgw_toolexec.compiled import CompiledTool
from mcpgw_toolexec.failures import ToolFailure
from mcpgw_toolexec.headers import check_value

JSON_TYPE = "application/json; charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded"
USER_AGENT = "mcpgw-toolexec"

# RFC 6265 cookie-octets minus "%": anything else in a value (";", ",", space, quotes) is
# percent-encoded so an argument cannot smuggle a second cookie in.
_COOKIE_SAFE = "!#$&'()*+/:<=>?@[]^`{|}"
# Characters a URL may carry as they are; `quote` encodes the rest (spaces, controls, non-ASCII)
# and leaves existing %XX escapes alone.
_URL_SAFE = "!$&'()*+,/:;=?@[]~%"

_encode_json = msgspec.json.Encoder().encode
_decode_json = msgspec.json.Decoder().decode


@dataclass(slots=True)
class BackendRequest:
    method: str
    url: str  # final and percent-encoded: sent as it is
    headers: CIMultiDict[str]
    body: bytes | None


def build(tool: CompiledTool, args: Mapping[str, Any], config: Mapping[str, Any]) -> BackendRequest:
    assert tool.url is not None, "direct-response tools are not called"
    url_template = tool.url
    data = {"args": args, "config": config}

    url = _render("requestTemplate.url", url_template.render, args, config)
    for name in tool.path_args:
        url = url.replace("{" + name + "}", _path_segment(args.get(name)))

    query: list[tuple[str, list[str]]] = []
    for name in tool.query_args:
        _collect(query, name, args)
    if tool.loose_to == "query":
        for name in tool.loose_args:
            _collect(query, name, args)

    headers: CIMultiDict[str] = CIMultiDict()
    for name, template in tool.headers:
        value = _render(f"header {name}", template.render, data)
        headers.add(name, check_value(name, value))
    for name in tool.header_args:
        if args.get(name) is not None:
            headers.add(name, check_value(name, to_text(args[name])))

    cookies = [(name, _cookie_value(name, args[name])) for name in tool.cookie_args
               if args.get(name) is not None]
    body = _body(tool, args, data, headers)

    if "Accept" not in headers:
        headers["Accept"] = "*/*"
    if "User-Agent" not in headers:
        headers["User-Agent"] = USER_AGENT
    if tool.auth is not None:
        if tool.auth.where == "header":
            headers[tool.auth.name] = tool.auth.value
        elif tool.auth.where == "query":
            query.append((tool.auth.name, [tool.auth.value]))
        else:
            cookies.append((tool.auth.name, tool.auth.value))
    if cookies:
        jar = "; ".join(f"{name}={value}" for name, value in cookies)
        existing = headers.get("Cookie")
        headers["Cookie"] = check_value("Cookie", f"{existing}; {jar}" if existing else jar)

    final = _finish_url(url, query)
    if not url_template.same_origin(final):
        raise ToolFailure("the request URL left the configured backend origin and was not sent")
    return BackendRequest(tool.method, final, headers, body)


def _render(what: str, render: Callable[..., str], *inputs: Any) -> str:
    try:
        return render(*inputs)
    except Exception as exc:  # a sandbox refusal or a type error inside the operator's template
        raise ToolFailure(f"{what}: template failed ({type(exc).__name__}: {str(exc)[:200]})") from None


def _path_segment(value: Any) -> str:
    text = quote(to_text(value), safe="")
    # "." and ".." would be resolved as dot-segments by the client or the backend: the argument
    # would climb out of the path the operator wrote.
    return "%2E" * len(text) if text in (".", "..") else text


def _values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [to_text(v) for v in value if v is not None]
    return [to_text(value)]


def _collect(query: list[tuple[str, list[str]]], name: str, args: Mapping[str, Any]) -> None:
    if args.get(name) is not None:
        query.append((name, _values(args[name])))


def _cookie_value(name: str, value: Any) -> str:
    # A line break is refused as in any header (the value would be encoded, but it is surely not
    # what the caller meant); the rest of the cookie-unsafe characters are encoded.
    return quote(check_value(f"Cookie ({name})", to_text(value)), safe=_COOKIE_SAFE)


def _body(tool: CompiledTool, args: Mapping[str, Any], data: Mapping[str, Any],
          headers: CIMultiDict[str]) -> bytes | None:
    """The body by Higress's precedence: template, argsToJsonBody, argsToFormBody, body args."""
    body_args = {name: args[name] for name in tool.body_args if name in args}
    if tool.body is not None:
        text = _render("requestTemplate.body", tool.body.render, data)
        if "Content-Type" not in headers and _is_json_container(text):
            headers["Content-Type"] = JSON_TYPE
        return text.encode()
    if tool.loose_to == "json":
        payload = {name: args[name] for name in tool.loose_args if name in args}
        payload.update(body_args)
        return _json(payload, headers)
    if tool.loose_to == "form":
        fields = {name: args[name] for name in tool.loose_args if name in args}
        fields.update(body_args)
        return _form(fields, headers)
    if body_args:
        if headers.get("Content-Type", "").lower().startswith(FORM_TYPE):
            return _form(body_args, headers)
        return _json(body_args, headers)
    return None


def _json(payload: Mapping[str, Any], headers: CIMultiDict[str]) -> bytes:
    headers.setdefault("Content-Type", JSON_TYPE)
    return _encode_json(payload)


def _form(fields: Mapping[str, Any], headers: CIMultiDict[str]) -> bytes:
    headers.setdefault("Content-Type", FORM_TYPE)
    pairs = [(name, text) for name, value in fields.items() if value is not None for text in _values(value)]
    return urlencode(pairs).encode()


def _is_json_container(text: str) -> bool:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        _decode_json(stripped)
    except msgspec.DecodeError:
        return False
    return True


def _finish_url(url: str, query: list[tuple[str, list[str]]]) -> str:
    parts = urlsplit(url)
    pairs = parts.query.split("&") if parts.query else []
    for name, values in query:
        # Higress sets (replaces) a parameter, so an argument overrides one written in the template.
        pairs = [p for p in pairs if unquote_plus(p.split("=", 1)[0]) != name]
        key = quote(name, safe="")
        pairs.extend(f"{key}={quote(v, safe='')}" for v in values)
    return urlunsplit((
        parts.scheme,
        parts.netloc,
        quote(parts.path, safe=_URL_SAFE) or "/",
        quote("&".join(pairs), safe=_URL_SAFE),
        "",  # a fragment never travels to the server
    ))
