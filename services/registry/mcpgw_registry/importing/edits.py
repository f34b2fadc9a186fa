"""Reading an operator's edited tools document back as overrides of the generated one.

`PUT /tools` on an imported server stores the YAML as sent (it is what runs), and compares it
with the generated document by `source` key: the differences that are overrides are recorded so
the next import re-applies them. Other edits (a changed URL template, a new argument) take
effect too but a re-import replaces them; they are reported as `notKept` so that is no surprise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import UNSET

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.tools import ServerBlock, ToolsDocument, ToolSpec
from mcpgw_registry.importing.overrides import (
    ArgOverride,
    Overrides,
    ServerOverride,
    ToolOverride,
    apply_server,
    apply_tool,
    by_key,
    tool_key,
)
from mcpgw_registry.resources.tools.document import input_schema


@dataclass
class Derived:
    overrides: Overrides
    server: ServerOverride | None
    # The edited document with each override applied consistently (a default edited only in `args`
    # or only in `inputSchema` is set in both), so what runs now is what a re-import keeps.
    document: ToolsDocument
    # [{"tool": name, "fields": [...]}]: edits in effect now that a re-import will replace.
    not_kept: list[dict[str, Any]] = field(default_factory=list)


def _props(tool: ToolSpec) -> dict[str, Any]:
    props = input_schema(tool).get("properties")
    return props if isinstance(props, dict) else {}


def _prop_default(props: dict[str, Any], name: str) -> Any:
    prop = props.get(name)
    return prop.get("default", UNSET) if isinstance(prop, dict) else UNSET


def _required(tool: ToolSpec) -> set[str]:
    req = input_schema(tool).get("required")
    names = {r for r in req if isinstance(r, str)} if isinstance(req, list) else set()
    return names | {a.name for a in tool.args if a.required}


def changed_fields(a: msgspec.Struct, b: msgspec.Struct) -> list[str]:
    """Top-level fields (as named on the wire) whose values differ between two Structs of one type.

    Values are compared with ==, not through `to_builtins`: omit_defaults leaves out a default
    only when it is the very same object, so equal values could otherwise encode differently.
    """
    return sorted(f.encode_name for f in msgspec.structs.fields(a)
                  if getattr(a, f.name) != getattr(b, f.name))


def _arg_overrides(gen: ToolSpec, edited: ToolSpec, tfield: str) -> dict[str, ArgOverride]:
    gen_args = {a.name: a for a in gen.args}
    ed_args = {a.name: a for a in edited.args}
    gen_props, ed_props = _props(gen), _props(edited)
    required = _required(gen)
    out: dict[str, ArgOverride] = {}
    for name in list(gen_args) + [p for p in gen_props if p not in gen_args]:
        aov = ArgOverride()
        if name in gen_args and name in ed_args and ed_args[name].default != gen_args[name].default:
            aov.default = ed_args[name].default
        elif _prop_default(ed_props, name) != _prop_default(gen_props, name):
            aov.default = _prop_default(ed_props, name)
        if name in gen_props and name not in ed_props:
            aov.hidden = True
            has_default = aov.default is not UNSET or (
                name in gen_args and gen_args[name].default is not UNSET) or \
                _prop_default(gen_props, name) is not UNSET
            if name in required and not has_default:
                raise invalid(f"{tfield}.inputSchema", f"argument {name!r} is left out (hidden) but it is required "
                                                       "and has no default; give it a default in args")
        if aov.default is not UNSET or aov.hidden:
            out[name] = aov
    return out


def _server_override(gen: ServerBlock, edited: ServerBlock, gen_allow: list[str] | None,
                     ed_allow: list[str] | None) -> ServerOverride | None:
    config = {k: v for k, v in edited.config.items() if gen.config.get(k, UNSET) != v}
    gen_schemes = {s.id: s for s in gen.security_schemes}
    credentials = {s.id: s.default_credential for s in edited.security_schemes
                   if s.id in gen_schemes and s.default_credential is not None
                   and s.default_credential != gen_schemes[s.id].default_credential}
    override = ServerOverride(config=config, credentials=credentials,
                              allow_tools=ed_allow if ed_allow != gen_allow else None,
                              secret_config=edited.secret_config if edited.secret_config != gen.secret_config else None)
    return None if override.is_empty() else override


def derive(gen: ToolsDocument, edited: ToolsDocument, previous: Overrides) -> Derived:
    """Overrides that turn `gen` into `edited`, as far as overrides can express it."""
    seen: dict[str, int] = {}
    for i, tool in enumerate(edited.tools):
        key = tool_key(tool)
        if key is None:
            continue
        if key in seen:
            raise invalid(f"tools[{i}].source", f"{key} is also the source of tools[{seen[key]}]; "
                                               "one operation makes one tool")
        seen[key] = i
    edited_by_key = by_key(edited)
    overrides: Overrides = {}
    not_kept: list[dict[str, Any]] = []
    normalized = {i: t for i, t in enumerate(edited.tools)}
    for gen_tool in gen.tools:
        key = tool_key(gen_tool)
        if key is None:
            continue
        ed_tool = edited_by_key.get(key)
        if ed_tool is None:
            # Deleting an imported tool from the YAML disables it, so a re-import does not bring it back.
            kept = previous.get(key, ToolOverride())
            overrides[key] = msgspec.structs.replace(kept, disabled=True)
            continue
        tfield = f"tools[{seen[key]}]"
        ov = ToolOverride(
            name=ed_tool.name if ed_tool.name != gen_tool.name else None,
            description=ed_tool.description if ed_tool.description != gen_tool.description else None,
            disabled=ed_tool.disabled if ed_tool.disabled != gen_tool.disabled else None,
            args=_arg_overrides(gen_tool, ed_tool, tfield),
        )
        if not ov.is_empty():
            overrides[key] = ov
        tool = normalized[seen[key]] = apply_tool(gen_tool, ov, base=ed_tool)
        lost = changed_fields(apply_tool(gen_tool, ov), tool)
        if lost:
            not_kept.append({"tool": tool.name, "fields": lost})
    server = _server_override(gen.server, edited.server, gen.allow_tools, edited.allow_tools)
    lost = changed_fields(apply_server(gen.server, server), edited.server)
    if lost:
        not_kept.append({"tool": "", "fields": [f"server.{f}" for f in lost]})
    document = msgspec.structs.replace(edited, tools=[normalized[i] for i in range(len(edited.tools))])
    return Derived(overrides, server, document, not_kept)
