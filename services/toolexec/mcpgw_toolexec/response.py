"""Backend answers -> MCP `CallToolResult` JSON (Higress §1.5 steps 4, 13, 14).

Backend failures are results with `isError: true`, so the model sees them and may react; only
protocol problems (unknown tool, malformed arguments) become JSON-RPC errors, elsewhere.
"""

from __future__ import annotations

import base64
import codecs
import logging
from collections.abc import Mapping
from typing import Any

import msgspec

from mcpgw import untrusted
from mcpgw.gotemplate import decode_response
from mcpgw.templating import Template
from mcpgw_toolexec.backend import BackendResponse
from mcpgw_toolexec.compiled import CompiledTool
from mcpgw_toolexec.failures import ToolFailure

log = logging.getLogger(__name__)

_decode_json = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_NOT_JSON: Any = object()
_MAX_LOCATION = 200


class TextContent(msgspec.Struct, tag="text", tag_field="type"):
    text: str


class ImageContent(msgspec.Struct, tag="image", tag_field="type"):
    data: str
    mimeType: str


class CallToolResult(msgspec.Struct):
    content: list[TextContent | ImageContent]
    isError: bool = False
    structuredContent: Any = msgspec.UNSET

    def encode(self) -> bytes:
        return _encode(self)


def failure(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(message)], isError=True)


def direct(tool: CompiledTool, args: Mapping[str, Any], config: Mapping[str, Any]) -> CallToolResult:
    """A tool without URL: its response template rendered with the arguments, no HTTP call."""
    assert tool.response_body is not None
    text = _render(tool.response_body, {"args": args, "config": config})
    result = CallToolResult(content=[TextContent(text or "success")])
    if tool.structured:
        result.structuredContent = _structured(text.encode())
    return result


def from_backend(tool: CompiledTool, resp: BackendResponse, args: Mapping[str, Any],
                 config: Mapping[str, Any], excerpt_bytes: int) -> CallToolResult:
    if 200 <= resp.status < 300:
        return _success(tool, resp, args, config)
    return _error(tool, resp, args, config, excerpt_bytes)


def _success(tool: CompiledTool, resp: BackendResponse, args: Mapping[str, Any],
             config: Mapping[str, Any]) -> CallToolResult:
    mime = resp.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if mime.startswith("image/"):
        encoded = base64.b64encode(resp.body).decode()
        return CallToolResult(content=[ImageContent(data=encoded, mimeType=mime)])
    raw = resp.body.decode("utf-8", "replace")
    templated = tool.response_body or tool.prepend_body or tool.append_body
    parsed = _parse_for_template(resp.body) if templated else _parse(resp.body) if tool.structured else _NOT_JSON
    if tool.response_body is not None:
        text = _render(tool.response_body, _data(parsed, args, config))
    elif tool.prepend_body is not None or tool.append_body is not None:
        data = _data(parsed, args, config)
        before = _render(tool.prepend_body, data) if tool.prepend_body is not None else ""
        after = _render(tool.append_body, data) if tool.append_body is not None else ""
        text = before + raw + after
    else:
        text = raw
    result = CallToolResult(content=[TextContent(text or "success")])
    if tool.structured and parsed is not _NOT_JSON:
        # The backend's own JSON, not the template's output (as Higress): it is what outputSchema describes.
        result.structuredContent = (msgspec.Raw(resp.body) if isinstance(parsed, dict)
                                    else {"result": msgspec.Raw(resp.body)})
    return result


def _error(tool: CompiledTool, resp: BackendResponse, args: Mapping[str, Any],
           config: Mapping[str, Any], excerpt_bytes: int) -> CallToolResult:
    if tool.error_template is not None:
        data = _data(_parse_for_template(resp.body), args, config)
        data["_headers"] = {":status": str(resp.status), **{k.lower(): v for k, v in resp.headers.items()}}
        try:
            text = _render(tool.error_template, data)
        except ToolFailure as exc:
            log.warning("tool %s: %s", tool.name, exc.message)
            text = ""
        if text.strip():
            return failure(text)
    head = f"backend returned HTTP {resp.status} {resp.reason}".rstrip()
    if 300 <= resp.status < 400:
        location = resp.headers.get("Location", "")
        if len(location) > _MAX_LOCATION:
            location = location[:_MAX_LOCATION] + "…"
        target = f" to {location}" if location else ""
        return failure(f"{head}: redirect{target} was not followed")
    text = excerpt(resp.body, excerpt_bytes)
    return failure(f"{head}: {text}" if text else head)


def excerpt(body: bytes, limit: int) -> str:
    """At most `limit` bytes of `body` as text, never ending inside a UTF-8 sequence."""
    if len(body) <= limit:
        return body.decode("utf-8", "replace").strip()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    return decoder.decode(body[:limit], final=False).rstrip() + "… (truncated)"


def _parse(body: bytes) -> Any:
    """The backend's JSON; an answer that is not JSON, or nests too deep to walk, is text."""
    try:
        untrusted.check_json(body)
        return _decode_json(body)
    except msgspec.DecodeError:  # TooDeep too
        return _NOT_JSON


def _parse_for_template(body: bytes) -> Any:
    """The body as templates read it: each float keeps its own text (`21.0` prints `21.0`, as in Higress)."""
    try:
        untrusted.check_json(body)
        return decode_response(body)
    except msgspec.DecodeError:  # TooDeep too
        return _NOT_JSON


def _structured(body: bytes) -> Any:
    parsed = _parse(body)
    if parsed is _NOT_JSON:
        return msgspec.UNSET
    return msgspec.Raw(body) if isinstance(parsed, dict) else {"result": msgspec.Raw(body)}


def _data(parsed: Any, args: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """Template data: a JSON object's own keys; `args`/`config` where the response does not use those names.

    A non-object JSON answer is reachable as `result`, matching how structuredContent wraps it.
    """
    if isinstance(parsed, dict):
        data: dict[str, Any] = dict(parsed)
    elif parsed is _NOT_JSON:
        data = {}
    else:
        data = {"result": parsed}
    data.setdefault("args", args)
    data.setdefault("config", config)
    return data


def _render(template: Template, data: Mapping[str, Any]) -> str:
    try:
        return template.render(data)
    except Exception as exc:  # the operator's template failed on this answer: say so, not a traceback
        raise ToolFailure(
            f"responseTemplate: template failed ({type(exc).__name__}: {str(exc)[:200]})") from None
