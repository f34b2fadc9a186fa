"""`PATCH /v1/mcp-servers/{id}/tools/{name}`: one imported tool's overrides, edited explicitly.

A field present sets the override, `null` clears it (back to what the OpenAPI document says),
a field absent leaves it alone. `hidden: false` un-hides.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.tools import ToolSpec
from mcpgw_registry.importing.overrides import ArgOverride, ToolOverride, apply_tool, tidy_override
from mcpgw_registry.resources.tools.document import TOOL_NAME, input_schema
from mcpgw_registry.resources.validation import Body


class ArgPatch(Body):
    # Any JSON value; null clears the override.
    default: Any = UNSET
    hidden: bool | UnsetType | None = UNSET


class ToolPatch(Body):
    name: str | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET
    disabled: bool | UnsetType | None = UNSET
    args: dict[str, ArgPatch] | UnsetType = UNSET


def _known_args(gen: ToolSpec) -> tuple[set[str], set[str], dict[str, Any]]:
    """(argument names, required names, generated defaults) of the generated tool."""
    schema = input_schema(gen)
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    names = {a.name for a in gen.args} | set(props)
    req = schema.get("required")
    required = {a.name for a in gen.args if a.required}
    if isinstance(req, list):
        required |= {r for r in req if isinstance(r, str)}
    defaults = {name: p["default"] for name, p in props.items() if isinstance(p, dict) and "default" in p}
    defaults.update({a.name: a.default for a in gen.args if a.default is not UNSET})
    return names, required, defaults


def _patched_args(gen: ToolSpec, current: dict[str, ArgOverride],
                  patch: dict[str, ArgPatch]) -> dict[str, ArgOverride]:
    names, required, defaults = _known_args(gen)
    args = dict(current)
    for name, change in patch.items():
        field = f"args.{name}"
        if name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise invalid(field, f"the tool has no argument {name!r} (it has: {known})")
        aov = args.get(name, ArgOverride())
        if change.default is not UNSET:
            aov = msgspec.structs.replace(aov, default=UNSET if change.default is None else change.default)
        if not isinstance(change.hidden, UnsetType):
            aov = msgspec.structs.replace(aov, hidden=bool(change.hidden))
        if aov.hidden and name in required and aov.default is UNSET and name not in defaults:
            raise invalid(f"{field}.hidden", f"argument {name!r} is required and has no default; "
                                              "set a default to hide it")
        if aov.default is UNSET and not aov.hidden:
            args.pop(name, None)
        else:
            args[name] = aov
    return args


def apply_patch(gen: ToolSpec, tool: ToolSpec, override: ToolOverride | None,
                patch: ToolPatch) -> tuple[ToolOverride, ToolSpec]:
    """The tool's new override, and `tool` (the current one) with it applied."""
    ov = override or ToolOverride()
    if not isinstance(patch.name, UnsetType):
        if patch.name is not None and not TOOL_NAME.match(patch.name):
            raise invalid("name", "must be 1 to 128 characters from A-Z a-z 0-9 _ . -")
        ov = msgspec.structs.replace(ov, name=patch.name)
    if not isinstance(patch.description, UnsetType):
        ov = msgspec.structs.replace(ov, description=patch.description)
    if not isinstance(patch.disabled, UnsetType):
        ov = msgspec.structs.replace(ov, disabled=patch.disabled)
    if not isinstance(patch.args, UnsetType):
        ov = msgspec.structs.replace(ov, args=_patched_args(gen, ov.args, patch.args))
    tidy = tidy_override(gen, ov) or ToolOverride()
    return tidy, apply_tool(gen, tidy, base=tool)
