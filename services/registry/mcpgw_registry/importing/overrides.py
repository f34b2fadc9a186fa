"""Operator overrides of imported tools: the model, applying it, and reading it back from edited YAML.

An imported tool is keyed by `"METHOD /path"` (its `source`), never by its name, so a rename or an
operationId change upstream cannot lose the operator's edits. Only a few fields are overrides
(name, description, disabled, argument default and hidden); they are what a re-import re-applies.

A hidden argument is written into the tools YAML as "in `args`, absent from the tool's
`inputSchema`" so the document a client sees and the one an operator edits agree. The data plane
is then given the argument pinned to its default (see `enforce_hidden`).
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from msgspec import UNSET

from mcpgw.contracts.tools import ServerBlock, ToolArg, ToolsDocument, ToolSpec
from mcpgw_registry.resources.tools.document import input_schema


class ArgOverride(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    default: Any = UNSET
    hidden: bool = False


class ToolOverride(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    name: str | None = None
    description: str | None = None
    disabled: bool | None = None
    args: dict[str, ArgOverride] = {}

    def is_empty(self) -> bool:
        return self.name is None and self.description is None and self.disabled is None and not self.args


class ServerOverride(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True, rename="camel"):
    """Edits of the `server` block: config values (and which are secret), credentials, allowTools."""

    config: dict[str, Any] = {}
    # Scheme id -> defaultCredential: a credential is never in an OpenAPI document, so it must survive.
    credentials: dict[str, str] = {}
    allow_tools: list[str] | None = None
    # `secretConfig`: lost on a re-import, a secret value would become readable.
    secret_config: list[str] | None = None

    def is_empty(self) -> bool:
        return (not self.config and not self.credentials and self.allow_tools is None
                and self.secret_config is None)


Overrides = dict[str, ToolOverride]


class ImportSettings(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """The converter options of the last import; a re-import without them reuses these."""

    base_url: str | None = None
    include_deprecated: bool = True
    description_limit: int = 1024


class ImportState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What an imported server's record keeps about its import, beside the tools YAML."""

    # Object-store name of the last generated ToolsDocument (what the next import diffs against).
    blob: str = ""
    operations: int = 0
    options: ImportSettings = msgspec.field(default_factory=ImportSettings)
    imported_ms: int = 0
    tools: Overrides = {}
    server: ServerOverride | None = None


def tool_key(tool: ToolSpec) -> str | None:
    """`"GET /pets/{id}"` for an imported tool, None for a hand-written one."""
    if tool.source is None:
        return None
    return f"{tool.source.method.upper()} {tool.source.path}"


def by_key(doc: ToolsDocument) -> dict[str, ToolSpec]:
    out: dict[str, ToolSpec] = {}
    for tool in doc.tools:
        key = tool_key(tool)
        if key is not None:
            out.setdefault(key, tool)
    return out


def hidden_args(override: ToolOverride | None) -> set[str]:
    if override is None:
        return set()
    return {name for name, arg in override.args.items() if arg.hidden}


def _props(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def _required(schema: dict[str, Any]) -> list[str]:
    req = schema.get("required")
    return [r for r in req if isinstance(r, str)] if isinstance(req, list) else []


# applying


def _override_default(override: ToolOverride, name: str) -> Any:
    aov = override.args.get(name)
    return aov.default if aov is not None else UNSET


def _visible_schema(gen: ToolSpec, base: ToolSpec, override: ToolOverride) -> dict[str, Any] | None:
    """`base`'s inputSchema with hidden arguments removed, un-hidden ones restored, defaults set."""
    hidden = hidden_args(override)
    if not hidden and (gen.input_schema is None or base.input_schema is None):
        return None  # derived from `args`, which carry the defaults already
    gen_schema = input_schema(gen)
    gen_props = _props(gen_schema)
    schema = copy.deepcopy(base.input_schema if base.input_schema is not None else input_schema(base))
    props = dict(_props(schema))
    required = _required(schema)
    gen_required = set(_required(gen_schema))
    takes = {a.name for a in base.args}
    for name in hidden:
        props.pop(name, None)
    for name, prop in gen_props.items():
        # Un-hidden again: back from the generated schema (schema-only tools take any property).
        if name not in hidden and name not in props and (not base.args or name in takes):
            props[name] = copy.deepcopy(prop)
            if name in gen_required and name not in required:
                required.append(name)
    for name, prop in list(props.items()):
        if not isinstance(prop, dict):
            continue
        wanted = _override_default(override, name)
        if wanted is UNSET:
            if name not in gen_props or not isinstance(gen_props[name], dict):
                continue
            wanted = gen_props[name].get("default", UNSET)
        if prop.get("default", UNSET) != wanted:
            prop = dict(prop)
            if wanted is UNSET:
                prop.pop("default", None)
            else:
                prop["default"] = wanted
            props[name] = prop
    schema["properties"] = props
    required = [r for r in required if r in props]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return schema


def apply_tool(gen: ToolSpec, override: ToolOverride | None, base: ToolSpec | None = None) -> ToolSpec:
    """The generated tool `gen` with `override` applied.

    `base` is the tool to edit (default `gen`): PATCH edits the current tool in place so edits
    that are not overrides survive, and takes cleared values back from `gen`.
    """
    base = base if base is not None else gen
    ov = override or ToolOverride()
    gen_args = {a.name: a for a in gen.args}
    gen_props = _props(input_schema(gen))
    hidden = hidden_args(ov)
    args: list[ToolArg] = []
    for arg in base.args:
        wanted = _override_default(ov, arg.name)
        if wanted is UNSET:
            wanted = gen_args[arg.name].default if arg.name in gen_args else arg.default
        if wanted is UNSET and arg.name in hidden and isinstance(gen_props.get(arg.name), dict):
            # Converters may put a default only in the schema; a hidden argument must carry it to be sent.
            wanted = gen_props[arg.name].get("default", UNSET)
        args.append(arg if arg.default == wanted else msgspec.structs.replace(arg, default=wanted))
    edited = msgspec.structs.replace(base, args=args)
    return msgspec.structs.replace(
        edited,
        name=ov.name if ov.name is not None else gen.name,
        description=ov.description if ov.description is not None else gen.description,
        disabled=ov.disabled if ov.disabled is not None else gen.disabled,
        input_schema=_visible_schema(gen, edited, ov),
    )


def apply_server(gen: ServerBlock, override: ServerOverride | None) -> ServerBlock:
    if override is None or override.is_empty():
        return gen
    config = {**gen.config, **override.config}
    schemes = [s if s.id not in override.credentials
               else msgspec.structs.replace(s, default_credential=override.credentials[s.id])
               for s in gen.security_schemes]
    secret = override.secret_config if override.secret_config is not None else gen.secret_config
    return msgspec.structs.replace(gen, config=config, security_schemes=schemes, secret_config=secret)


def apply_document(gen: ToolsDocument, overrides: Overrides, server: ServerOverride | None) -> ToolsDocument:
    tools = []
    for tool in gen.tools:
        key = tool_key(tool)
        tools.append(apply_tool(tool, overrides.get(key) if key else None))
    allow = server.allow_tools if server is not None and server.allow_tools is not None else gen.allow_tools
    return msgspec.structs.replace(gen, server=apply_server(gen.server, server), tools=tools, allow_tools=allow)


def tidy_override(gen: ToolSpec, override: ToolOverride) -> ToolOverride | None:
    """Drop what equals the generated value, and arguments the operation no longer has."""
    known = {a.name for a in gen.args}
    if gen.input_schema is not None and isinstance(gen.input_schema.get("properties"), dict):
        known |= set(gen.input_schema["properties"])
    args: dict[str, ArgOverride] = {k: v for k, v in override.args.items() if k in known}
    tidy = ToolOverride(
        name=None if override.name == gen.name else override.name,
        description=None if override.description == gen.description else override.description,
        disabled=None if override.disabled == gen.disabled else override.disabled,
        args=args,
    )
    return None if tidy.is_empty() else tidy


# the data plane


def enforce_hidden(tool: ToolSpec, override: ToolOverride | None) -> ToolSpec:
    """The tool toolexec is given: a hidden argument always takes its default, whatever a client sends.

    The visible tool (what `tools/list` shows) already lacks the argument in its inputSchema; here
    it is pinned with a one-value enum, so a client that sends it anyway gets a tool error instead
    of overriding the operator's value. A hidden argument without a default is simply not sent.
    """
    hidden = hidden_args(override)
    if not hidden:
        return tool
    if tool.args:
        args: list[ToolArg] = []
        for arg in tool.args:
            if arg.name not in hidden:
                args.append(arg)
            elif arg.default is not UNSET:
                args.append(msgspec.structs.replace(arg, enum=[arg.default], required=False))
        return msgspec.structs.replace(tool, args=args)
    # Schema-only tool: toolexec reads the schema's properties, so pin the default there.
    assert override is not None
    schema: dict[str, Any] = copy.deepcopy(tool.input_schema) if tool.input_schema is not None \
        else {"type": "object"}
    props = dict(_props(schema))
    for name in hidden:
        default = override.args[name].default
        if default is not UNSET:
            props[name] = {"default": default, "enum": [default]}
    schema["properties"] = props
    return msgspec.structs.replace(tool, input_schema=schema)
