"""A tool compiled once per server revision: templates parsed, positions sorted, credential resolved.

Compilation is lazy (on a tool's first call at a revision) so a server with hundreds of imported
operations costs nothing until used, and it never runs again on the warm path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from mcpgw.contracts import ErrorCode, McpgwError, ServerBlock, ServerSnapshot, ToolSpec, invalid
from mcpgw.templating import Template, UrlTemplate
from mcpgw_toolexec import security
from mcpgw_toolexec.arguments import ArgDecl, declarations
from mcpgw_toolexec.headers import RESERVED, is_token

log = logging.getLogger(__name__)

LooseArgs = Literal["query", "json", "form"] | None


@dataclass(frozen=True, slots=True)
class CompiledTool:
    name: str
    decls: tuple[ArgDecl, ...]
    # None: a direct-response tool that renders `response_body` and calls nothing.
    url: UrlTemplate | None
    method: str
    headers: tuple[tuple[str, Template], ...]
    body: Template | None
    # Where arguments without a position go (argsToUrlParam / argsToJsonBody / argsToFormBody).
    loose_to: LooseArgs
    path_args: tuple[str, ...]
    query_args: tuple[str, ...]
    header_args: tuple[str, ...]
    cookie_args: tuple[str, ...]
    body_args: tuple[str, ...]
    loose_args: tuple[str, ...]
    auth: security.UpstreamAuth | None
    response_body: Template | None
    prepend_body: Template | None
    append_body: Template | None
    error_template: Template | None
    structured: bool


@dataclass(frozen=True, slots=True)
class BrokenTool:
    """A tool whose definition cannot run; calling it is a tool error that says why."""

    name: str
    problem: str


def compile_tool(spec: ToolSpec, server: ServerBlock | None) -> CompiledTool | BrokenTool:
    try:
        return _compile(spec, server)
    except McpgwError as exc:
        log.warning("tool %r cannot be compiled: %s", spec.name, exc.message)
        return BrokenTool(spec.name, exc.message)


def _compile(spec: ToolSpec, server: ServerBlock | None) -> CompiledTool:
    where = f"tools[{spec.name}]"
    config: dict[str, Any] = server.config if server is not None else {}
    decls = declarations(spec)
    by_position: dict[str | None, list[str]] = {}
    for decl in decls:
        by_position.setdefault(decl.position, []).append(decl.name)
    for name in by_position.get("header", []):
        if not is_token(name) or name.lower() in RESERVED or name.lower() == "host":
            raise invalid(f"{where}.args[{name}]", "cannot be sent as a header")
    for name in by_position.get("cookie", []):
        if not is_token(name):
            raise invalid(f"{where}.args[{name}]", "is not a valid cookie name")

    req = spec.request_template
    flags = [req.args_to_url_param, req.args_to_json_body, req.args_to_form_body]
    if sum(flags) > 1:
        raise invalid(f"{where}.requestTemplate",
                      "only one of argsToJsonBody, argsToUrlParam, or argsToFormBody can be set to true")
    loose_to: LooseArgs = ("query" if req.args_to_url_param else "json" if req.args_to_json_body
                           else "form" if req.args_to_form_body else None)

    url: UrlTemplate | None = None
    if req.url:
        url = UrlTemplate(req.url, f"{where}.requestTemplate.url", config, set(by_position.get("path", [])))
    method = req.method.strip().upper() or "GET"
    if not is_token(method):
        raise invalid(f"{where}.requestTemplate.method", "is not an HTTP method")

    headers: list[tuple[str, Template]] = []
    for index, header in enumerate(req.headers):
        name = header.key.strip()
        if not name:  # Higress skips these with a warning too
            continue
        field = f"{where}.requestTemplate.headers[{index}]"
        if not is_token(name) or name.lower() in RESERVED:
            raise invalid(field, f"{name!r} cannot be sent as a header")
        template = Template(header.value, field)
        if name.lower() == "host" and not template.is_static:
            raise invalid(field, "the Host header may not depend on arguments")
        headers.append((name, template))

    resp = spec.response_template
    response_body = _template(resp.body if resp else None, f"{where}.responseTemplate.body")
    prepend = _template(resp.prepend_body if resp else None, f"{where}.responseTemplate.prependBody")
    append = _template(resp.append_body if resp else None, f"{where}.responseTemplate.appendBody")
    if response_body is not None and (prepend is not None or append is not None):
        raise invalid(f"{where}.responseTemplate", "body cannot be combined with prependBody/appendBody")
    if url is None and response_body is None:
        raise invalid(f"{where}.responseTemplate.body", "direct response mode must set responseTemplate.body")

    return CompiledTool(
        name=spec.name,
        decls=decls,
        url=url,
        method=method,
        headers=tuple(headers),
        body=_template(req.body, f"{where}.requestTemplate.body"),
        loose_to=loose_to,
        path_args=tuple(by_position.get("path", [])),
        query_args=tuple(by_position.get("query", [])),
        header_args=tuple(by_position.get("header", [])),
        cookie_args=tuple(by_position.get("cookie", [])),
        body_args=tuple(by_position.get("body", [])),
        loose_args=tuple(by_position.get(None, [])),
        auth=security.resolve(spec, server, where),
        response_body=response_body,
        prepend_body=prepend,
        append_body=append,
        error_template=_template(spec.error_response_template, f"{where}.errorResponseTemplate"),
        structured=spec.output_schema is not None,
    )


def _template(source: str | None, field: str) -> Template | None:
    return Template(source, field) if source else None


class CompiledServer:
    """One server at one revision: its config and its tools, compiled on first use."""

    __slots__ = ("_block", "_compiled", "_specs", "config", "name", "revision", "server_id")

    def __init__(self, snapshot: ServerSnapshot) -> None:
        self.server_id = snapshot.server_id
        self.name = snapshot.name
        self.revision = snapshot.revision
        self._block = snapshot.server
        self.config: dict[str, Any] = snapshot.server.config if snapshot.server is not None else {}
        self._specs = {tool.name: tool for tool in snapshot.tools if not tool.disabled}
        self._compiled: dict[str, CompiledTool | BrokenTool] = {}

    def tool(self, name: str) -> CompiledTool | BrokenTool:
        found = self._compiled.get(name)
        if found is not None:
            return found
        spec = self._specs.get(name)
        if spec is None:
            raise McpgwError(ErrorCode.NOT_FOUND, f"unknown tool: {name}")
        found = self._compiled[name] = compile_tool(spec, self._block)
        return found
