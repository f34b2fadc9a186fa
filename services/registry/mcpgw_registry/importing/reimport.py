"""Incremental re-import: the new generated tools merged with the operator's overrides, and the diff.

Tools are matched on `source` ("METHOD /path"), so an operation whose operationId changed is
"changed", not removed and added. Its tool keeps the name clients know (the name is pinned as an
override, and the report says which name the spec now suggests). Overrides of operations that are
gone are dropped with them. Tools that did not come from an import are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.tools import ToolsDocument, ToolSpec
from mcpgw_registry.importing.edits import changed_fields
from mcpgw_registry.importing.overrides import (
    Overrides,
    ServerOverride,
    ToolOverride,
    apply_document,
    by_key,
    tidy_override,
    tool_key,
)
from mcpgw_registry.resources.tools.document import effective_tools


@dataclass
class Merge:
    doc: ToolsDocument
    overrides: Overrides
    added: list[str] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    server_changed: list[str] = field(default_factory=list)

    @property
    def tools(self) -> list[str]:
        """The names clients will see."""
        return [t.name for t in effective_tools(self.doc)]

    def report(self) -> dict[str, Any]:
        # Descriptions too, so a reviewer (the console's preview) can read and edit them per tool.
        tools = effective_tools(self.doc)
        return {"tools": [t.name for t in tools], "descriptions": {t.name: t.description for t in tools},
                "added": self.added, "changed": self.changed, "removed": self.removed,
                "unchanged": self.unchanged, "server": self.server_changed}


def baseline_of(current: ToolsDocument) -> ToolsDocument:
    """What to diff against when the last generated document is not known: the current imported tools."""
    return msgspec.structs.replace(current, tools=[t for t in current.tools if t.source is not None])


def _effective_name(tool: ToolSpec, override: ToolOverride | None) -> str:
    return override.name if override is not None and override.name is not None else tool.name


def _diff_fields(old: ToolSpec, new: ToolSpec) -> list[str]:
    fields = changed_fields(old, new)
    if "source" in fields:
        fields.remove("source")
        if old.source is not None and new.source is not None and old.source.operation_id != new.source.operation_id:
            fields.append("operationId")
    return sorted(fields)


def merge(old_gen: ToolsDocument | None, new_gen: ToolsDocument, current: ToolsDocument | None,
          overrides: Overrides, server: ServerOverride | None) -> Merge:
    if old_gen is None and current is not None:
        old_gen = baseline_of(current)
    old = by_key(old_gen) if old_gen is not None else {}
    new = by_key(new_gen)
    kept: Overrides = {}
    pinned: dict[str, str] = {}
    for key, tool in new.items():
        ov = overrides.get(key, ToolOverride())
        before = old.get(key)
        if before is not None and before.name != tool.name and ov.name is None:
            # Clients and prompts know the old name; keep it unless the operator renames.
            ov = msgspec.structs.replace(ov, name=before.name)
            pinned[key] = tool.name
        tidy = tidy_override(tool, ov)
        if tidy is not None:
            kept[key] = tidy
    doc = apply_document(new_gen, kept, server)

    hand = [t for t in (current.tools if current is not None else [])
            if (k := tool_key(t)) is None or (k not in old and k not in new)]
    hand_names = {t.name for t in hand}
    for tool in doc.tools:
        if tool.name in hand_names:
            raise invalid("tools", f"the imported tool {tool.name!r} ({tool_key(tool)}) has the name of a tool "
                                   "that did not come from this import; rename or delete that tool first")
    doc = msgspec.structs.replace(doc, tools=doc.tools + hand)

    result = Merge(doc=doc, overrides=kept)
    names = {tool_key(t): t.name for t in doc.tools}
    for key in new:
        if key not in old:
            result.added.append(names[key])
            continue
        fields = _diff_fields(old[key], new[key])
        if "name" in fields and _effective_name(old[key], overrides.get(key)) == names[key]:
            fields.remove("name")  # the spec renamed it, but clients keep seeing the same name
        if not fields:
            result.unchanged += 1
            continue
        item: dict[str, Any] = {"tool": names[key], "fields": fields}
        if key in pinned:
            item["specName"] = pinned[key]
        result.changed.append(item)
    result.removed = [_effective_name(tool, overrides.get(key)) for key, tool in old.items() if key not in new]
    if old_gen is not None:
        result.server_changed = changed_fields(old_gen.server, new_gen.server)
    return result
