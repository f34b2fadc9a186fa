"""Planning an OpenAPI import: convert, merge with what the server has, and describe the result.

A plan changes nothing; `ServerRepository` writes it (apply) or only reports it (preview).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.tools import ToolsDocument, ToolSpec
from mcpgw_registry.importing.openapi import ImportOptions, ImportResult, Skipped, convert
from mcpgw_registry.importing.overrides import ImportSettings, ImportState
from mcpgw_registry.importing.reimport import Merge, merge
from mcpgw_registry.importing.render import render
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.tools.document import ToolsFormat, invalid_tools, validate_document
from mcpgw_registry.resources.tools.secrets import has_credentials, masked
from mcpgw_registry.stores.blobs import BlobStore
from mcpgw_registry.stores.server_storage import Tools

log = logging.getLogger(__name__)

QUERY_OPTIONS = ("baseUrl", "includeDeprecated", "descriptionLimit")
MAX_DESCRIPTION_LIMIT = 100_000

_decode_doc = msgspec.json.Decoder(ToolsDocument).decode


def _bool(query: Mapping[str, str], name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in ("true", "false"):
        raise invalid(name, "must be true or false")
    return raw.lower() == "true"


def import_settings(query: Mapping[str, str], previous: ImportSettings | None) -> ImportSettings:
    """The options of this import: query parameters, else those of the last import, else defaults."""
    unknown = sorted(set(query) - set(QUERY_OPTIONS))
    if unknown:
        raise invalid(unknown[0], f"unknown query parameter; the import takes {', '.join(QUERY_OPTIONS)}")
    base = previous or ImportSettings()
    base_url = base.base_url
    if "baseUrl" in query:
        base_url = query["baseUrl"].strip() or None  # empty: back to the document's own servers
    limit = base.description_limit
    raw = query.get("descriptionLimit")
    if raw:
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_DESCRIPTION_LIMIT:
            raise invalid("descriptionLimit", f"must be an integer between 1 and {MAX_DESCRIPTION_LIMIT}")
        limit = int(raw)
    return ImportSettings(base_url=base_url, include_deprecated=_bool(query, "includeDeprecated",
                                                                      base.include_deprecated),
                          description_limit=limit)


@dataclass
class ImportPlan:
    merge: Merge
    text: str
    state: ImportState
    generated: bytes  # the converter's ToolsDocument as JSON, kept to diff the next import against
    result: ImportResult
    readable: str  # the document with credentials masked: what answers may show
    format: ToolsFormat = "yaml"

    def report(self) -> dict[str, Any]:
        """The preview/apply answer: resulting tools, the diff, and what the converter left out."""
        r = self.result
        data = self.merge.report()
        data.update({
            "skipped": [msgspec.to_builtins(s) for s in r.skipped],
            "degraded": [msgspec.to_builtins(s) for s in r.degraded],
            "operations": r.operations,
            "warnings": list(r.warnings),
            # Credentials recorded as overrides are in the stored text, never in an answer.
            "yaml": self.readable,
        })
        if r.ignored:
            data["ignored"] = [msgspec.to_builtins(s) for s in r.ignored]
        return data


async def load_generated(blobs: BlobStore, state: ImportState | None) -> ToolsDocument | None:
    if state is None or not state.blob:
        return None
    value = await blobs.get(state.blob)
    if value is None:
        log.warning("generated tools %s are missing; diffing against the current tools", state.blob)
        return None
    try:
        return _decode_doc(value)
    except msgspec.DecodeError as exc:
        log.error("generated tools %s are unreadable (%s); diffing against the current tools", state.blob, exc)
        return None


def _merged(old_gen: ToolsDocument | None, new_gen: ToolsDocument, current: Tools | None,
            state: ImportState | None) -> tuple[Merge, str, ToolsFormat, str]:
    merged = merge(old_gen, new_gen, current.doc if current is not None else None,
                   state.tools if state is not None else {}, state.server if state is not None else None)
    secrets = has_credentials(merged.doc)
    if current is not None and merged.doc == current.doc:
        # Nothing to run differently: the stored text (validated when written, maybe commented by
        # the operator) stays, and megabytes of tools need not be validated and rendered again.
        text, fmt = current.text, current.format
        readable = render(masked(merged.doc)) if secrets or fmt != "yaml" else text
        return merged, text, fmt, readable
    # What GET /tools will return must be a valid document. It is not parsed back: the renderer's
    # output reads back as the document it rendered (see tests), and parsing megabytes of YAML
    # would take longer than the whole rest of the import. Generated tools were validated one by
    # one (`screened`); only what overrides changed is walked again.
    same_server = merged.doc.server == new_gen.server
    validate_document(merged.doc, checked=new_gen.tools if same_server else ())
    text = render(merged.doc)
    return merged, text, "yaml", render(masked(merged.doc)) if secrets else text


def screened(result: ImportResult) -> ImportResult:
    """`result` without the generated tools the registry's validator refuses, each skipped with
    the validator's message, so one operation never fails the whole import.

    Defence in depth: the converter aims never to make such a tool.
    """
    doc = result.document
    problems = invalid_tools(doc)
    if not problems:
        return result
    bad = {_operation(doc.tools[i]): problem for i, problem in problems.items()}
    for operation, problem in bad.items():
        log.warning("OpenAPI import: skipped %s, whose generated tool is invalid: %s", operation, problem)
    tools = [tool for i, tool in enumerate(doc.tools) if i not in problems]
    return msgspec.structs.replace(
        result, document=msgspec.structs.replace(doc, tools=tools),
        skipped=result.skipped + [Skipped(op, f"the generated tool is invalid: {why}") for op, why in bad.items()],
        degraded=[d for d in result.degraded if d.operation not in bad])


def _operation(tool: ToolSpec) -> str:
    """The report's label of the operation a tool was made from ("GET /pets/{id}")."""
    return f"{tool.source.method} {tool.source.path}" if tool.source is not None else tool.name


def _convert(raw: bytes | str, options: ImportOptions) -> ImportResult:
    return screened(convert(raw, options))


async def plan_import(record: ServerRecord, current: Tools | None, raw: bytes | str,
                      settings: ImportSettings, *, max_bytes: int, blobs: BlobStore, now_ms: int) -> ImportPlan:
    """`current` is the server's tools now (None: it has none)."""
    options = ImportOptions(base_url=settings.base_url, include_deprecated=settings.include_deprecated,
                            description_limit=settings.description_limit, max_bytes=max_bytes,
                            server_name=record.name)
    # A large document takes a while to convert and render; a thread keeps NATS lookups and other
    # requests moving meanwhile.
    result = await asyncio.to_thread(_convert, raw, options)
    state = record.imported
    old_gen = await load_generated(blobs, state)
    merged, text, fmt, readable = await asyncio.to_thread(_merged, old_gen, result.document, current, state)
    generated = msgspec.json.encode(result.document)
    digest = hashlib.sha256(generated).hexdigest()[:32]
    new_state = ImportState(blob=f"{record.id}.{digest}", operations=result.operations, options=settings,
                            imported_ms=now_ms, tools=merged.overrides,
                            server=state.server if state is not None else None)
    return ImportPlan(merged, text, new_state, generated, result, readable, fmt)
