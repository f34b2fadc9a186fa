"""Arguments -> the backend HTTP request (Higress §1.5 steps 3, 5, 7-12).

Every argument value is percent-encoded into the path and query, header values are refused when
they contain a line break, and the final URL must keep the origin the operator configured.

Imported tools add OpenAPI serialisation: wire names, path styles (simple / label / matrix),
query styles (form with or without explode, spaceDelimited, pipeDelimited, deepObject), and
bodies per media type (JSON, form-urlencoded with bracketed nesting, multipart with file parts,
raw text or bytes). Tools without those fields behave exactly as Higress's.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlencode, urlsplit, urlunsplit

import msgspec
from multidict import CIMultiDict

from mcpgw.templating import to_text
from mcpgw_toolexec.compiled import WHOLE_BODY, CompiledTool, Placed
from mcpgw_toolexec.failures import ToolFailure
from mcpgw_toolexec.headers import check_value
from mcpgw_toolexec.security import UpstreamAuth

JSON_TYPE = "application/json; charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded"
USER_AGENT = "mcpgw-toolexec"

# RFC 6265 cookie-octets minus "%": anything else in a value (";", ",", space, quotes) is
# percent-encoded so an argument cannot smuggle a second cookie in.
_COOKIE_SAFE = "!#$&'()*+/:<=>?@[]^`{|}"
# Characters a URL may carry as they are; `quote` encodes the rest (spaces, controls, non-ASCII)
# and leaves existing %XX escapes alone.
_URL_SAFE = "!$&'()*+,/:;=?@[]~%"
# In the query, `|` also stays: it is pipeDelimited's separator (values have theirs encoded).
_QUERY_SAFE = _URL_SAFE + "|"

_encode_json = msgspec.json.Encoder().encode
_decode_json = msgspec.json.Decoder().decode

# One query parameter as it will be written: (decoded name, for replacing a template's own
# parameter of that name; the already-encoded `k=v` texts).
QueryEntry = tuple[str, list[str]]


@dataclass(slots=True)
class BackendRequest:
    method: str
    url: str  # final and percent-encoded: sent as it is
    headers: CIMultiDict[str]
    body: bytes | None


def build(tool: CompiledTool, args: Mapping[str, Any], config: Mapping[str, Any],
          origin: str | None = None) -> BackendRequest:
    """`origin`: the picked backend address (`scheme://host:port`) a relative tool URL goes to."""
    assert tool.url is not None, "direct-response tools are not called"
    url_template = tool.url
    data = {"args": args, "config": config}

    url = _render("requestTemplate.url", url_template.render, args, config)
    if origin is not None:
        if not url.startswith("/"):
            raise ToolFailure("requestTemplate.url: a relative URL must render to a path starting with '/'")
        url = origin + url
    for placed in tool.path_args:
        url = url.replace("{" + placed.name + "}", _path_value(placed, args.get(placed.name)))

    query: list[QueryEntry] = []
    for placed in tool.query_args:
        if args.get(placed.name) is not None:
            query.extend(_query_entries(placed, args[placed.name]))
    if tool.loose_to == "query":
        for name in tool.loose_args:
            if args.get(name) is not None:
                query.extend(_query_entries(Placed(name, name), args[name]))

    headers: CIMultiDict[str] = CIMultiDict()
    for name, template in tool.headers:
        value = _render(f"header {name}", template.render, data)
        headers.add(name, check_value(name, value))
    for placed in tool.header_args:
        if args.get(placed.name) is not None:
            headers.add(placed.wire, check_value(placed.wire, _header_value(placed, args[placed.name])))

    cookies = [(p.wire, _cookie_value(p, args[p.name])) for p in tool.cookie_args if args.get(p.name) is not None]
    body = _body(tool, args, data, headers)

    if "Accept" not in headers:
        headers["Accept"] = "*/*"
    if "User-Agent" not in headers:
        headers["User-Agent"] = USER_AGENT
    for auth in (tool.auth, *tool.extra_auth):
        if auth is not None:
            _apply(auth, headers, query, cookies)
    if cookies:
        jar = "; ".join(f"{name}={value}" for name, value in cookies)
        existing = headers.get("Cookie")
        headers["Cookie"] = check_value("Cookie", f"{existing}; {jar}" if existing else jar)

    final = _finish_url(url, query)
    if not url_template.same_origin(final, origin):
        if url_template.relative and origin is None:
            raise ToolFailure("requestTemplate.url is relative but the server has no backendConfig")
        raise ToolFailure("the request URL left the configured backend origin and was not sent")
    return BackendRequest(tool.method, final, headers, body)


def _apply(auth: UpstreamAuth, headers: CIMultiDict[str], query: list[QueryEntry],
           cookies: list[tuple[str, str]]) -> None:
    if auth.where == "header":
        headers[auth.name] = auth.value
    elif auth.where == "query":
        query.append((auth.name, [f"{quote(auth.name, safe='')}={quote(auth.value, safe='')}"]))
    elif auth.where == "cookie":
        cookies.append((auth.name, auth.value))


def _render(what: str, render: Callable[..., str], *inputs: Any) -> str:
    try:
        return render(*inputs)
    except Exception as exc:  # a sandbox refusal or a type error inside the operator's template
        raise ToolFailure(f"{what}: template failed ({type(exc).__name__}: {str(exc)[:200]})") from None


# -- path ------------------------------------------------------------------------------------


def _enc(value: Any) -> str:
    return quote(to_text(value), safe="")


def _path_value(placed: Placed, value: Any) -> str:
    style, explode = placed.style or "simple", bool(placed.explode)
    if isinstance(value, list):
        items = [_enc(v) for v in value if v is not None]
        if style == "label":
            return "." + ("." if explode else ",").join(items)
        if style == "matrix":
            key = quote(placed.wire, safe="")
            return "".join(f";{key}={v}" for v in items) if explode else f";{key}=" + ",".join(items)
        return ",".join(items)
    if isinstance(value, dict):
        pairs = [(quote(str(k), safe=""), _enc(v)) for k, v in value.items() if v is not None]
        flat = [f"{k}={v}" for k, v in pairs] if explode else [x for kv in pairs for x in kv]
        if style == "label":
            return "." + ("." if explode else ",").join(flat)
        if style == "matrix":
            return "".join(f";{kv}" for kv in flat) if explode else f";{quote(placed.wire, safe='')}=" + ",".join(flat)
        return ",".join(flat)
    text = _enc(value)
    if style == "label":
        return "." + text
    if style == "matrix":
        return f";{quote(placed.wire, safe='')}={text}"
    # "." and ".." would be resolved as dot-segments by the client or the backend: the argument
    # would climb out of the path the operator wrote.
    return "%2E" * len(text) if text in (".", "..") else text


# -- query -----------------------------------------------------------------------------------


def _query_entries(placed: Placed, value: Any) -> list[QueryEntry]:
    wire = placed.wire
    key = quote(wire, safe="")
    style = placed.style
    if style == "deepObject":
        pairs = list(_brackets(wire, value))
        return [(wire, [f"{_bracket_key(k)}={quote(v, safe='')}" for k, v in pairs])]
    if isinstance(value, dict) and style is not None:
        items = [(str(k), v) for k, v in value.items() if v is not None]
        if placed.explode is not False and style == "form":
            return [(k, [f"{quote(k, safe='')}={_enc(v)}"]) for k, v in items]
        flat = ",".join(f"{quote(k, safe='')},{_enc(v)}" for k, v in items)
        return [(wire, [f"{key}={flat}"])]
    if isinstance(value, list):
        items_text = [_enc(v) for v in value if v is not None]
        if style is None or placed.explode or (placed.explode is None and style == "form"):
            return [(wire, [f"{key}={v}" for v in items_text])]
        separator = {"spaceDelimited": "%20", "pipeDelimited": "|"}.get(style, ",")
        return [(wire, [f"{key}={separator.join(items_text)}"])]
    return [(wire, [f"{key}={_enc(value)}"])]


def _brackets(key: str, value: Any) -> Iterable[tuple[str, str]]:
    """`{"a": {"b": 1}, "c": [2]}` under `p` -> `p[a][b]=1`, `p[c][0]=2` (Rails / PHP / Stripe)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _brackets(f"{key}[{k}]", v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _brackets(f"{key}[{i}]", v)
    elif value is not None:
        yield key, to_text(value)


def _bracket_key(key: str) -> str:
    return quote(key, safe="[]")


# -- headers and cookies ---------------------------------------------------------------------


def _joined(placed: Placed, value: Any, encode: Callable[[Any], str]) -> str:
    if isinstance(value, list):
        return ",".join(encode(v) for v in value if v is not None)
    if isinstance(value, dict) and (placed.style is not None or placed.explode is not None):
        items = [(str(k), v) for k, v in value.items() if v is not None]
        if placed.explode:
            return ",".join(f"{k}={encode(v)}" for k, v in items)
        return ",".join(f"{k},{encode(v)}" for k, v in items)
    return encode(value)


def _header_value(placed: Placed, value: Any) -> str:
    return _joined(placed, value, to_text)


def _cookie_value(placed: Placed, value: Any) -> str:
    # A line break is refused as in any header (the value would be encoded, but it is surely not
    # what the caller meant); the rest of the cookie-unsafe characters are encoded.
    def encode(v: Any) -> str:
        return quote(check_value(f"Cookie ({placed.name})", to_text(v)), safe=_COOKIE_SAFE)

    return _joined(placed, value, encode)


# -- body ------------------------------------------------------------------------------------


def _body(tool: CompiledTool, args: Mapping[str, Any], data: Mapping[str, Any],
          headers: CIMultiDict[str]) -> bytes | None:
    """The body by Higress's precedence: template, argsToJsonBody, argsToFormBody, body args."""
    body_args = {p.wire: args[p.name] for p in tool.body_args if p.name in args}
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
    if tool.body_media_type is not None:
        return _typed_body(tool, tool.body_media_type, args, headers)
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


def _values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [to_text(v) for v in value if v is not None]
    return [to_text(value)]


def _typed_body(tool: CompiledTool, media_type: str, args: Mapping[str, Any],
                headers: CIMultiDict[str]) -> bytes | None:
    """A body encoded for the media type the tool was imported with."""
    given = [(p, args[p.name]) for p in tool.body_args
             if p.name in args and (args[p.name] is not None or p.nullable)]
    if not given:
        return None
    essence = media_type.split(";", 1)[0].strip().lower()
    whole = next(((p, v) for p, v in given if p.wire == WHOLE_BODY), None)
    if essence.startswith("multipart/"):
        fields = _object_fields(given, whole)
        boundary = "mcpgw-" + secrets.token_hex(16)
        headers.setdefault("Content-Type", f"{essence}; boundary={boundary}")
        return _multipart(fields, boundary)
    headers.setdefault("Content-Type", media_type)
    if essence == "application/json" or essence.endswith("+json") or essence == "text/json":
        if whole is not None:
            return _encode_json(whole[1])
        return _encode_json({p.wire: v for p, v in given})
    if essence == FORM_TYPE:
        return _form_encode(_object_fields(given, whole))
    # text, XML, octet-stream and the rest: one argument is the payload
    placed, value = whole if whole is not None else given[0]
    if placed.binary:
        return _unbase64(placed.name, value)
    return to_text(value).encode()


def _object_fields(given: list[tuple[Placed, Any]], whole: tuple[Placed, Any] | None) -> list[tuple[Placed, Any]]:
    if whole is None:
        return given
    placed, value = whole
    if not isinstance(value, dict):
        raise ToolFailure(f"argument {placed.name}: expected an object")
    return [(Placed(str(k), str(k)), v) for k, v in value.items()]


def _form_encode(fields: list[tuple[Placed, Any]]) -> bytes:
    pairs: list[tuple[str, str]] = []
    for placed, value in fields:
        wire = placed.wire
        if isinstance(value, list) and placed.style != "deepObject":
            scalars = all(not isinstance(v, dict | list) for v in value)
            if scalars and placed.explode is False:
                separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(placed.style or "", ",")
                pairs.append((wire, separator.join(to_text(v) for v in value if v is not None)))
                continue
            if scalars:
                pairs.extend((wire, to_text(v)) for v in value if v is not None)
                continue
        pairs.extend(_brackets(wire, value))
    return "&".join(f"{quote_plus(k, safe='[]')}={quote_plus(v)}" for k, v in pairs).encode()


def _multipart(fields: list[tuple[Placed, Any]], boundary: str) -> bytes:
    out = bytearray()
    for placed, value in fields:
        name = _disposition_name(placed.wire)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None:
                continue
            out += f"--{boundary}\r\n".encode()
            if placed.binary:
                out += (f'Content-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                        "Content-Type: application/octet-stream\r\n\r\n").encode()
                out += _unbase64(placed.name, item)
            else:
                out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                out += to_text(item).encode()
            out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def _disposition_name(name: str) -> str:
    check_value("Content-Disposition", name)
    return name.replace("\\", "\\\\").replace('"', "%22")


def _unbase64(name: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise ToolFailure(f"argument {name}: expected base64-encoded text")
    text = "".join(value.split())
    if text.startswith("data:") and "," in text:  # a data: URL is what some models send for a file
        text = text.split(",", 1)[1]
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ToolFailure(f"argument {name}: not valid base64") from None


def _is_json_container(text: str) -> bool:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        _decode_json(stripped)
    except msgspec.DecodeError:
        return False
    return True


# -- URL -------------------------------------------------------------------------------------


def _finish_url(url: str, query: list[QueryEntry]) -> str:
    parts = urlsplit(url)
    pairs = parts.query.split("&") if parts.query else []
    for name, encoded in query:
        # Higress sets (replaces) a parameter, so an argument overrides one written in the template.
        pairs = [p for p in pairs if unquote_plus(p.split("=", 1)[0]) != name]
        pairs.extend(encoded)
    return urlunsplit((
        parts.scheme,
        parts.netloc,
        quote(parts.path, safe=_URL_SAFE) or "/",
        quote("&".join(pairs), safe=_QUERY_SAFE),
        "",  # a fragment never travels to the server
    ))
