"""The Higress REST-to-MCP tools document: parse, validate, and compile for the data plane.

The registry is the data plane's compiler: whatever passes here, toolexec and the edge can run
without further checks. Every problem is reported as `InvalidParameter` whose message starts
with the offending field's path (`tools[0].requestTemplate.url: ...`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
import yaml

from mcpgw import untrusted
from mcpgw.contracts.errors import McpgwError, invalid
from mcpgw.contracts.registry import ToolListing
from mcpgw.contracts.tools import SecurityRef, ServerBlock, ToolArg, ToolsDocument, ToolSpec
from mcpgw.http_names import is_token
from mcpgw.json_schema import HEADER_TYPES, SUBSCHEMA, SUBSCHEMA_LISTS, SUBSCHEMA_MAPS, X_MCP_HEADER
from mcpgw.templating import Template, UrlTemplate
from mcpgw_registry.resources.tools.config_secrets import check_config
from mcpgw_registry.resources.tools.schema_check import check_schema
from mcpgw_registry.resources.validation import CONTROL, convert, join

ToolsFormat = Literal["yaml", "json"]

# What MCP allows as a tool name (2025-11-25: 1-128 of these characters); assemblies' names too.
TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
# An x-mcp-header name, matched whole (`fullmatch`: not even a final newline), as the edge does.
HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_ARG_NAME = 128
# Aliases can make a small YAML text expand into an enormous tree ("billion laughs"); the
# expanded document is walked with a budget before anything else touches it. The budget grows
# with the text: without aliases every node takes a few characters (generated tools documents
# take 14 to 25 per node), so a large text may be a large document, but not an expanded one.
MAX_DOCUMENT_NODES = 200_000
CHARS_PER_NODE = 4
_HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_json = msgspec.json.Encoder()


def minimal_document(server_name: str) -> str:
    """What GET returns for a server that has no tools: a valid document with none."""
    return f"server:\n  name: {server_name}\ntools: []\n"


def _load(text: str, fmt: ToolsFormat, whole: str) -> Any:
    if fmt == "json":
        data = text.encode()
        try:
            untrusted.check_json(data)
            return msgspec.json.decode(data)
        except untrusted.TooDeep as exc:
            raise invalid(whole, str(exc)) from None
        except msgspec.DecodeError as exc:
            raise invalid(whole, f"malformed JSON: {exc}") from None
    try:
        return untrusted.load_yaml(text, _Loader)
    except untrusted.TooDeep as exc:
        raise invalid(whole, str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # At end of input the mark sits on the line after the last one; report the last line.
        lines = max(len(text.splitlines()), 1)
        where = f" at line {min(mark.line + 1, lines)}" if mark is not None else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise invalid(whole, f"invalid YAML{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise invalid(whole, f"invalid YAML: {exc}") from None


def node_budget(text: str) -> int:
    return max(MAX_DOCUMENT_NODES, len(text) // CHARS_PER_NODE)


def _check_size(doc: Any, whole: str, limit: int) -> None:
    try:
        untrusted.check_tree(doc, limit)
    except untrusted.TooLarge:
        raise invalid(whole, f"document is too large (more than {limit} nodes after expanding aliases)") from None
    except untrusted.TooDeep as exc:
        raise invalid(whole, str(exc)) from None


def parse_tools(text: str, fmt: ToolsFormat = "yaml", *, root: str = "") -> ToolsDocument:
    """Parse and fully validate a tools document. `root` prefixes field paths in errors."""
    whole = root or "body"
    if not text.strip():
        raise invalid(whole, "the tools document is empty")
    raw = _load(text, fmt, whole)
    if not isinstance(raw, dict):
        raise invalid(whole, "must be a mapping with a `server` block and a `tools` list")
    _check_size(raw, whole, node_budget(text))
    if "toolSet" in raw:
        raise invalid(join(root, "toolSet"), "is not supported; create an AssemblyMCP server instead")
    doc = convert(raw, ToolsDocument, root, whole)
    validate_document(doc, root)
    return doc


def validate_document(doc: ToolsDocument, root: str = "", *, checked: Sequence[ToolSpec] = ()) -> None:
    """Raise `InvalidParameter` naming the first problem.

    `checked`: tools already validated against this same server block (`invalid_tools`); a tool
    equal to one of them is not walked again (validation is most of a large import's time:
    1.4 s of Kubernetes' 814 tools).
    """
    server = doc.server
    scheme_ids = _validate_server(server, join(root, "server"))
    known = {tool.name: tool for tool in checked}
    seen: dict[str, int] = {}
    for i, tool in enumerate(doc.tools):
        tfield = join(root, f"tools[{i}]")
        if tool.name in seen:
            raise invalid(join(tfield, "name"), f"duplicates the name of tools[{seen[tool.name]}] ({tool.name!r})")
        seen[tool.name] = i
        if known.get(tool.name) != tool:
            _validate_tool(tool, tfield, server, scheme_ids)
    if doc.allow_tools is not None:
        for i, name in enumerate(doc.allow_tools):
            if not TOOL_NAME.match(name):
                raise invalid(join(root, f"allowTools[{i}]"), "is not a valid tool name")


def invalid_tools(doc: ToolsDocument) -> dict[int, str]:
    """Tool index -> what is wrong with it, for each tool that fails validation on its own.

    What `validate_document` checks, tool by tool, so that one bad tool need not refuse the rest
    (the OpenAPI import skips it). The server block must be valid: its problems raise. Names are
    not compared across tools.
    """
    scheme_ids = _validate_server(doc.server, "server")
    problems: dict[int, str] = {}
    for i, tool in enumerate(doc.tools):
        try:
            _validate_tool(tool, "", doc.server, scheme_ids)
        except McpgwError as exc:
            problems[i] = exc.message
    return problems


def _validate_server(server: ServerBlock, sfield: str) -> set[str]:
    """The server block's problems raise; its security scheme ids are returned."""
    if not server.name.strip():
        raise invalid(join(sfield, "name"), "must not be empty")
    if server.type != "rest":
        raise invalid(join(sfield, "type"), "only `rest` is supported; host an existing MCP server with "
                                            "protocol SSE or StreamableHTTP instead")
    check_config(server, sfield)
    scheme_ids = _validate_schemes(server, sfield)
    _check_ref(server.default_upstream_security, join(sfield, "defaultUpstreamSecurity"), scheme_ids)
    _check_ref(server.default_downstream_security, join(sfield, "defaultDownstreamSecurity"), scheme_ids)
    return scheme_ids


def _validate_schemes(server: ServerBlock, sfield: str) -> set[str]:
    ids: set[str] = set()
    for i, scheme in enumerate(server.security_schemes):
        field = join(sfield, f"securitySchemes[{i}]")
        if not scheme.id.strip():
            raise invalid(join(field, "id"), "must not be empty")
        if scheme.id in ids:
            raise invalid(join(field, "id"), f"duplicates another scheme id ({scheme.id!r})")
        ids.add(scheme.id)
        if scheme.type == "http":
            if scheme.scheme is None:
                raise invalid(join(field, "scheme"), "is required for type http (basic or bearer)")
        else:
            if scheme.in_ is None:
                raise invalid(join(field, "in"), "is required for type apiKey (header, query or cookie)")
            if not scheme.name:
                raise invalid(join(field, "name"), "is required for type apiKey")
            if scheme.in_ == "header" and not is_token(scheme.name):
                raise invalid(join(field, "name"), "must be a valid HTTP header name")
        if scheme.default_credential is not None and CONTROL.search(scheme.default_credential):
            raise invalid(join(field, "defaultCredential"), "must not contain control characters")
    return ids


def _check_ref(ref: SecurityRef | None, field: str, scheme_ids: set[str]) -> None:
    if ref is None:
        return
    if ref.id not in scheme_ids:
        known = ", ".join(sorted(scheme_ids)) or "none are defined"
        raise invalid(join(field, "id"), f"refers to no server.securitySchemes entry ({ref.id!r}; {known})")
    if ref.credential is not None and CONTROL.search(ref.credential):
        raise invalid(join(field, "credential"), "must not contain control characters")


def _validate_args(args: list[ToolArg], tfield: str) -> None:
    names: set[str] = set()
    headers: dict[str, str] = {}  # x-mcp-header, lower case -> argument
    for j, arg in enumerate(args):
        field = join(tfield, f"args[{j}]")
        if not arg.name or len(arg.name) > MAX_ARG_NAME or CONTROL.search(arg.name):
            raise invalid(join(field, "name"), f"must be 1 to {MAX_ARG_NAME} characters without control characters")
        if arg.name in names:
            raise invalid(join(field, "name"), f"duplicates another argument ({arg.name!r})")
        names.add(arg.name)
        if arg.type == "array" and arg.items is not None:
            check_schema(arg.items, join(field, "items"))
        if arg.type == "object" and arg.properties is not None:
            for prop, schema in arg.properties.items():
                check_schema(schema, join(join(field, "properties"), prop))
        if arg.enum is not None and not arg.enum:
            raise invalid(join(field, "enum"), "must list at least one value")
        if arg.x_mcp_header:
            hfield = join(field, X_MCP_HEADER)
            _check_header_name(arg.x_mcp_header, arg.type, hfield)
            other = headers.get(arg.x_mcp_header.lower())
            if other is not None:
                raise invalid(hfield, f"duplicates the {X_MCP_HEADER} of argument {other!r} (header names are "
                                      "case-insensitive)")
            headers[arg.x_mcp_header.lower()] = arg.name


def _check_header_name(name: Any, kind: Any, field: str) -> None:
    if not isinstance(name, str) or not HTTP_TOKEN.fullmatch(name):
        raise invalid(field, "must be a valid HTTP header name (the part after `Mcp-Param-`)")
    if not isinstance(kind, str) or kind not in HEADER_TYPES:
        raise invalid(field, "is allowed only on a string, integer or boolean argument")


def _check_header_annotations(schema: dict[str, Any], field: str) -> None:
    """`x-mcp-header` in an explicit `inputSchema`: where it may be and what it may name."""
    seen: dict[str, str] = {}
    # (node, its field path, whether it is reached from the root through `properties` alone: None
    # for the root itself, which is no property)
    stack: list[tuple[Any, str, bool | None]] = [(schema, field, None)]
    while stack:
        node, where, reachable = stack.pop()
        if not isinstance(node, dict):
            continue
        if X_MCP_HEADER in node:
            hfield = join(where, X_MCP_HEADER)
            if not reachable:
                raise invalid(hfield, "is allowed only on a property reached from the schema root through "
                                      "`properties` alone")
            _check_header_name(node[X_MCP_HEADER], node.get("type"), hfield)
            lower = node[X_MCP_HEADER].lower()
            if lower in seen:
                raise invalid(hfield, f"duplicates the {X_MCP_HEADER} at {seen[lower]} (header names are "
                                      "case-insensitive)")
            seen[lower] = where
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                stack.extend((sub, join(join(where, key), str(name)), reachable is not False)
                             for name, sub in value.items())
            elif key in SUBSCHEMA:
                stack.append((value, join(where, key), False))
            elif key in SUBSCHEMA_MAPS and isinstance(value, dict):  # not `properties`: handled above
                stack.extend((sub, join(join(where, key), str(name)), False) for name, sub in value.items())
            elif key in SUBSCHEMA_LISTS and isinstance(value, list):
                stack.extend((sub, f"{join(where, key)}[{i}]", False) for i, sub in enumerate(value))


def _validate_tool(tool: ToolSpec, tfield: str, server: ServerBlock, scheme_ids: set[str]) -> None:
    if not TOOL_NAME.match(tool.name):
        raise invalid(join(tfield, "name"), "must be 1 to 128 characters from A-Z a-z 0-9 _ . -")
    _validate_args(tool.args, tfield)
    if tool.input_schema is not None:
        check_schema(tool.input_schema, join(tfield, "inputSchema"), object_root=True)
        _check_header_annotations(tool.input_schema, join(tfield, "inputSchema"))
        for j, arg in enumerate(tool.args):
            if arg.x_mcp_header:
                raise invalid(join(tfield, f"args[{j}].{X_MCP_HEADER}"),
                              "has no effect when the tool has an inputSchema; put it on the inputSchema property")
    if tool.output_schema is not None:
        check_schema(tool.output_schema, join(tfield, "outputSchema"), object_root=True)
    if tool.annotations is not None:
        for hint in _HINTS:
            if hint in tool.annotations and not isinstance(tool.annotations[hint], bool):
                raise invalid(join(join(tfield, "annotations"), hint), "must be true or false")
        if "title" in tool.annotations and not isinstance(tool.annotations["title"], str):
            raise invalid(join(join(tfield, "annotations"), "title"), "must be a string")
    _check_ref(tool.security, join(tfield, "security"), scheme_ids)

    rt = tool.request_template
    rfield = join(tfield, "requestTemplate")
    if sum((rt.args_to_json_body, rt.args_to_url_param, rt.args_to_form_body)) > 1:
        raise invalid(rfield, "only one of argsToJsonBody, argsToUrlParam or argsToFormBody can be true")
    resp = tool.response_template
    pfield = join(tfield, "responseTemplate")
    if resp is not None:
        if resp.body is not None and (resp.prepend_body is not None or resp.append_body is not None):
            raise invalid(join(pfield, "body"), "cannot be combined with prependBody or appendBody")
        for name, source in (("body", resp.body), ("prependBody", resp.prepend_body),
                             ("appendBody", resp.append_body)):
            if source is not None:
                Template(source, join(pfield, name), tool.name)
    if tool.error_response_template is not None:
        Template(tool.error_response_template, join(tfield, "errorResponseTemplate"), tool.name)

    path_args = {a.name for a in tool.args if a.position == "path"}
    if not rt.url:
        if resp is None or resp.body is None:
            raise invalid(join(pfield, "body"), "is required when requestTemplate.url is empty "
                                                "(a tool that answers without calling a backend)")
        if path_args:
            raise invalid(join(rfield, "url"), "is empty but the tool has path arguments")
    else:
        UrlTemplate(rt.url, join(rfield, "url"), server.config, path_args, tool.name)
        for j, arg in enumerate(tool.args):
            if arg.position == "path" and "{" + arg.name + "}" not in rt.url:
                raise invalid(join(tfield, f"args[{j}].position"),
                              f"is path but requestTemplate.url has no {{{arg.name}}} placeholder")
    if rt.method.upper() not in METHODS:
        raise invalid(join(rfield, "method"), f"must be one of {', '.join(METHODS)}")
    for j, header in enumerate(rt.headers):
        hfield = join(rfield, f"headers[{j}]")
        if not is_token(header.key):
            raise invalid(join(hfield, "key"), "must be a valid HTTP header name")
        if "\r" in header.value or "\n" in header.value or "\x00" in header.value:
            raise invalid(join(hfield, "value"), "must not contain CR, LF or NUL")
        Template(header.value, join(hfield, "value"), tool.name)
    if rt.body is not None:
        Template(rt.body, join(rfield, "body"), tool.name)
    _check_ref(rt.security, join(rfield, "security"), scheme_ids)


def effective_tools(doc: ToolsDocument) -> list[ToolSpec]:
    """The tools the server exposes: not disabled, and in `allowTools` when that is set.

    Methods are normalised to upper case here so the data plane never has to.
    """
    allowed = None if doc.allow_tools is None else set(doc.allow_tools)
    out: list[ToolSpec] = []
    for tool in doc.tools:
        if tool.disabled or (allowed is not None and tool.name not in allowed):
            continue
        rt = tool.request_template
        if rt.method != rt.method.upper():
            tool = msgspec.structs.replace(
                tool, request_template=msgspec.structs.replace(rt, method=rt.method.upper()))
        out.append(tool)
    return out


def input_schema(tool: ToolSpec) -> dict[str, Any]:
    """An explicit `inputSchema` wins; otherwise the Higress derivation from `args`."""
    if tool.input_schema is not None:
        return tool.input_schema
    properties: dict[str, Any] = {}
    required: list[str] = []
    for arg in tool.args:
        prop: dict[str, Any] = {"type": arg.type}
        if arg.description:
            prop["description"] = arg.description
        if arg.enum is not None:
            prop["enum"] = arg.enum
        if arg.default is not msgspec.UNSET:
            prop["default"] = arg.default
        if arg.type == "array" and arg.items is not None:
            prop["items"] = arg.items
        if arg.type == "object" and arg.properties is not None:
            prop["properties"] = arg.properties
        if arg.x_mcp_header:
            prop[X_MCP_HEADER] = arg.x_mcp_header
        properties[arg.name] = prop
        if arg.required:
            required.append(arg.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def listing_entry(tool: ToolSpec) -> ToolListing:
    """The tool's MCP `tools/list` object, encoded once here so the edge only splices bytes."""
    entry: dict[str, Any] = {"name": tool.name}
    if tool.title is not None:
        entry["title"] = tool.title
    entry["description"] = tool.description
    entry["inputSchema"] = input_schema(tool)
    if tool.output_schema is not None:
        entry["outputSchema"] = tool.output_schema
    if tool.annotations is not None:
        entry["annotations"] = tool.annotations
    return ToolListing(name=tool.name, entry=msgspec.Raw(_json.encode(entry)), repeatable=repeatable(tool))


def repeatable(tool: ToolSpec) -> bool:
    """Whether a call may be sent to the backend twice: a GET or HEAD, or a tool its definition marks
    idempotent or read-only (MCP annotations: the operator's word here, not an upstream's hint)."""
    if tool.request_template.method.upper() in ("GET", "HEAD"):
        return True
    marks = tool.annotations or {}
    return marks.get("idempotentHint") is True or marks.get("readOnlyHint") is True
