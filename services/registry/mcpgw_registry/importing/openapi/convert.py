"""The pipeline: load, read operations, name them, and build one tool per operation.

Order matters (each step relies on the ones before): parse -> 2.0 normalisation and local refs
(per operation, lazily) -> path-item parameters merged -> media type chosen -> flat schema and
parameter map -> names. Every operation ends up either as a tool or in `skipped` with a reason;
anything approximated on the way is listed in `degraded`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mcpgw.contracts.tools import RequestTemplate, ServerBlock, ToolsDocument, ToolSource, ToolSpec
from mcpgw_registry.importing.openapi import inputs, naming, outputs, security, sendable, servers, swagger2, text
from mcpgw_registry.importing.openapi.load import load
from mcpgw_registry.importing.openapi.model import ImportOptions, ImportResult, Skipped
from mcpgw_registry.importing.openapi.operations import ALL_METHODS, TOOL_METHODS, Operation, path_items, read3
from mcpgw_registry.importing.openapi.problems import SkipOperation
from mcpgw_registry.importing.openapi.refs import Resolver
from mcpgw_registry.importing.openapi.schemas import Ctx, SchemaConverter

# Characters a path template may keep as they are; the rest is percent-encoded at import so the
# URL template holds only URL text (placeholders are added after).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class _Context:
    def __init__(self, doc: dict[str, Any], version: str, options: ImportOptions) -> None:
        self.doc = doc
        self.version = version
        self.options = options
        self.resolver = Resolver(doc, ids=version == "3.1")
        self.schemas = SchemaConverter(self.resolver, description_limit=options.description_limit,
                                       allow_external=options.allow_external_refs)
        self.schemes = security.read_schemes(doc, version, self.resolver)
        self.base_url, self.document_url, self.warnings = servers.base_url(doc, version, options.base_url)
        self.simplified_outputs = 0


def convert(raw: bytes | str, options: ImportOptions | None = None) -> ImportResult:
    options = options or ImportOptions()
    doc, version = load(raw, options.max_bytes)
    cx = _Context(doc, version, options)
    skipped: list[Skipped] = []
    ignored: list[Skipped] = []
    degraded: list[Skipped] = []
    candidates: list[Operation] = []
    seen = 0
    for path, item, item_base in path_items(doc, cx.resolver):
        for method in ALL_METHODS:
            raw_op = item.get(method)
            if not isinstance(raw_op, dict):
                continue
            seen += 1
            label = f"{method.upper()} {path}"
            op = _read(cx, method, path, item, item_base, raw_op, label, skipped, ignored)
            if op is not None:
                candidates.append(op)
    ignored.extend(_webhooks(doc))

    names = naming.tool_names([(op.method, op.path, op.operation_id) for op in candidates])
    tools: list[ToolSpec] = []
    for op, name in zip(candidates, names, strict=True):
        try:
            tool, notes = _tool(cx, op, name)
        except SkipOperation as exc:
            skipped.append(Skipped(op.label, exc.reason))
            continue
        tools.append(tool)
        if notes:
            degraded.append(Skipped(op.label, "; ".join(notes)))

    server = ServerBlock(name=options.server_name, config={"baseUrl": cx.base_url},
                         security_schemes=cx.schemes.schemes)
    if cx.simplified_outputs:
        cx.warnings.append(f"the output schemas of {cx.simplified_outputs} tools were simplified to fit the size "
                           "budget (deeper parts reduced to their types)")
    warnings = list(cx.warnings) + cx.schemes.notes + [
        f"security scheme {scheme_id!r} is not supported: {why}" for scheme_id, why in cx.schemes.unsupported.items()]
    return ImportResult(document=ToolsDocument(server=server, tools=tools), skipped=skipped, degraded=degraded,
                        operations=seen, ignored=ignored, warnings=warnings)


def _read(cx: _Context, method: str, path: str, item: dict[str, Any], item_base: str, raw_op: dict[str, Any],
          label: str, skipped: list[Skipped], ignored: list[Skipped]) -> Operation | None:
    callbacks = raw_op.get("callbacks")
    if isinstance(callbacks, dict):
        ignored.extend(Skipped(f"CALLBACK {label} {name}", "callbacks are requests the API sends, not operations "
                                                           "a client calls") for name in callbacks)
    if method not in TOOL_METHODS:
        skipped.append(Skipped(label, f"{method.upper()} operations are not turned into tools"))
        return None
    if raw_op.get("deprecated") is True and not cx.options.include_deprecated:
        skipped.append(Skipped(label, "deprecated (deprecated operations are excluded by the import options)"))
        return None
    if "{{" in path or "{%" in path or "{#" in path:
        skipped.append(Skipped(label, "the path contains template syntax ({{, {% or {#)"))
        return None
    try:
        if cx.version == "2.0":
            return swagger2.read2(cx.doc, cx.resolver, method, path, item, raw_op)
        return read3(cx.resolver, method, path, item, item_base, raw_op)
    except SkipOperation as exc:
        skipped.append(Skipped(label, exc.reason))
        return None


def _webhooks(doc: dict[str, Any]) -> list[Skipped]:
    hooks = doc.get("webhooks")
    if not isinstance(hooks, dict):
        return []
    out: list[Skipped] = []
    for name, item in hooks.items():
        methods = [m.upper() for m in ALL_METHODS if isinstance(item, dict) and m in item] or ["*"]
        out.extend(Skipped(f"WEBHOOK {m} {name}", "webhooks are requests the API sends, not operations a "
                                                  "client calls") for m in methods)
    return out


def _tool(cx: _Context, op: Operation, name: str) -> tuple[ToolSpec, list[str]]:
    notes = list(op.notes)
    limit = cx.options.description_limit
    reqs = security.requirements(op, cx.doc, cx.schemes, notes)
    params = sendable.parameters([p for p in op.params if not security.hidden(p, cx.schemes, reqs, notes)], notes)
    ctx = Ctx()
    built = inputs.build(op, params, cx.schemas, ctx, limit,
                         lambda field: security.hidden_body_field(field, cx.schemes, reqs, notes))
    notes.extend(built.notes)
    notes.extend(n for n in ctx.notes if n not in notes)
    response = op.response if cx.options.output_schemas else None
    output, out_ctx = outputs.output_schema(response, cx.schemas)
    if out_ctx.simplified:
        # Common with big APIs (most Stripe answers reach most of its schemas) and harmless to
        # calls: counted in one warning rather than listed as degraded tools.
        cx.simplified_outputs += 1
    notes.extend(f"output schema: {n}" for n in out_ctx.notes if not n.startswith("schema too large"))

    prefix = servers.operation_prefix(op.servers, cx.document_url, cx.base_url)
    url = prefix + _url_path(op.path, built.path_args)
    request = RequestTemplate(url=url, method=op.method, body_media_type=built.body_media_type,
                              security_requirements=reqs.alternatives, security=reqs.first)
    title = text.one_line(op.summary) or None
    description = text.combine(op.summary, op.description, limit)
    if op.deprecated:
        description = "[DEPRECATED] " + description
    tool = ToolSpec(
        name=name,
        title=title,
        description=description or f"{op.method} {op.path}",
        args=built.args,
        input_schema=built.schema,
        output_schema=output,
        annotations=outputs.hints(op.method),
        request_template=request,
        source=ToolSource(method=op.method, path=op.path, operation_id=op.operation_id),
    )
    return tool, notes


def _url_path(path: str, path_args: dict[str, str]) -> str:
    """The path template with each `{param}` turned into `{argument}` and the rest URL-encoded.

    Text around a placeholder stays (`System.{location}` -> `System.{location}`), and a
    placeholder used twice names its argument twice: toolexec fills every place.
    """
    rest = path if path.startswith("/") else "/" + path
    out: list[str] = []
    done = 0
    for match in naming.placeholder_spans(rest):
        out.append(quote(rest[done:match.start()], safe=_PATH_SAFE))
        arg = path_args.get(match.group(1))
        out.append("{" + arg + "}" if arg is not None else quote(match.group(0), safe=_PATH_SAFE))
        done = match.end()
    out.append(quote(rest[done:], safe=_PATH_SAFE))
    return "".join(out)
