"""Backend credentials in a tools document are write-only.

Reads (`GET …/tools`, `mcpServerConfig`, import answers) show `******` in place of every credential:
`server.securitySchemes[].defaultCredential`, `server.default{Upstream,Downstream}Security.credential`,
`tools[].requestTemplate.security.credential`, `tools[].security.credential`, and the values of
`server.config` that `config_secrets` says are secret. A write that sends `******` back keeps the
value stored at the same place (the same scheme id, the same tool name, the same config path), so
reading, editing and putting a document back works.

YAML is edited in place, by the character spans of the credential scalars, so the operator's
comments and layout survive; JSON documents, and YAML where a credential is an alias, a block
scalar or otherwise odd, are re-serialised instead.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Iterator
from typing import Any

import msgspec
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mcpgw import untrusted
from mcpgw.contracts.errors import invalid
from mcpgw.contracts.tools import SecurityRef, ServerBlock, ToolsDocument
from mcpgw_registry.resources.tools.config_secrets import (
    SECRET_NAME,
    data_children,
    hidden,
    hidden_node,
    leaves,
    node_children,
    secret_config,
)
from mcpgw_registry.resources.tools.document import ToolsFormat, node_budget
from mcpgw_registry.resources.validation import MASK, join

_HINT = "redential"  # in every credential field name


def _may_hold_secrets(text: str) -> bool:
    """False only for a text that cannot hold a secret (no credential field, no secret-looking name)."""
    return _HINT in text or SECRET_NAME.search(text) is not None


# Where credentials live, as (locations, path of the field). The first location identifies the place
# across reordering (scheme id, tool name), the second by position (survives a rename); the path is
# what an error message names.
Place = tuple[tuple[str, ...], str]


def _get(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node  # type: ignore[no-any-return]
    return None


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _scalar(node: Node | None) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else ""


def _places_of_nodes(root: Node, field: str) -> Iterator[tuple[Place, Node]]:
    """`field`: what an error names (a config too large to walk)."""
    server = _get(root, "server")
    config = _get(server, "config")
    if config is not None:
        declared = {_scalar(entry) for entry in _items(_get(server, "secretConfig"))}
        for path, _, _, leaf, secret in leaves(config, declared, node_children, field):
            # A `******` anywhere in config stands for what is stored there, declared secret or not.
            if (secret and hidden_node(leaf)) or (isinstance(leaf, ScalarNode) and leaf.value == MASK):
                yield ((f"config:{path}",), join("server.config", path)), leaf
    for i, scheme in enumerate(_items(_get(server, "securitySchemes"))):
        node = _get(scheme, "defaultCredential")
        if node is not None:
            yield ((f"scheme:{_scalar(_get(scheme, 'id'))}", f"scheme#{i}"),
                   f"server.securitySchemes[{i}].defaultCredential"), node
    for key in ("defaultUpstreamSecurity", "defaultDownstreamSecurity"):
        node = _get(_get(server, key), "credential")
        if node is not None:
            yield ((f"server:{key}",), f"server.{key}.credential"), node
    for i, tool in enumerate(_items(_get(root, "tools"))):
        name = _scalar(_get(tool, "name"))
        node = _get(_get(_get(tool, "requestTemplate"), "security"), "credential")
        if node is not None:
            yield ((f"tool:{name}:request", f"tool#{i}:request"),
                   f"tools[{i}].requestTemplate.security.credential"), node
        node = _get(_get(tool, "security"), "credential")
        if node is not None:
            yield ((f"tool:{name}:tool", f"tool#{i}:tool"), f"tools[{i}].security.credential"), node


def _places_of_data(doc: Any, field: str = "server.config") -> Iterator[tuple[Place, Any, Any]]:
    """The same places in plain data: (place, the mapping or list holding the value, its key)."""
    if not isinstance(doc, dict):
        return
    server = doc.get("server")
    server = server if isinstance(server, dict) else {}
    declared = server.get("secretConfig")
    declared = {d for d in declared if isinstance(d, str)} if isinstance(declared, list) else set()
    for path, holder, key, value, secret in leaves(server.get("config"), declared, data_children, field):
        if (secret and hidden(value)) or value == MASK:
            yield ((f"config:{path}",), join("server.config", path)), holder, key
    schemes = server.get("securitySchemes")
    for i, scheme in enumerate(schemes if isinstance(schemes, list) else []):
        if isinstance(scheme, dict) and "defaultCredential" in scheme:
            yield ((f"scheme:{scheme.get('id', '')}", f"scheme#{i}"),
                   f"server.securitySchemes[{i}].defaultCredential"), scheme, "defaultCredential"
    for key in ("defaultUpstreamSecurity", "defaultDownstreamSecurity"):
        ref = server.get(key)
        if isinstance(ref, dict) and "credential" in ref:
            yield ((f"server:{key}",), f"server.{key}.credential"), ref, "credential"
    tools = doc.get("tools")
    for i, tool in enumerate(tools if isinstance(tools, list) else []):
        if not isinstance(tool, dict):
            continue
        name = tool.get("name", "")
        template = tool.get("requestTemplate")
        ref = template.get("security") if isinstance(template, dict) else None
        if isinstance(ref, dict) and "credential" in ref:
            yield ((f"tool:{name}:request", f"tool#{i}:request"), f"tools[{i}].requestTemplate.security.credential"), \
                ref, "credential"
        ref = tool.get("security")
        if isinstance(ref, dict) and "credential" in ref:
            yield ((f"tool:{name}:tool", f"tool#{i}:tool"), f"tools[{i}].security.credential"), ref, "credential"


def _load(text: str, fmt: ToolsFormat) -> Any:
    """The document as plain data; a ValueError (too deep too) for one the registry would refuse."""
    if fmt == "json":
        untrusted.check_json(text.encode())
        return json.loads(text)
    doc = untrusted.load_yaml(text, yaml.SafeLoader)
    untrusted.check_tree(doc, node_budget(text))  # parse_tools's own bounds: what it refuses, this leaves
    return doc


def _dump(doc: Any, fmt: ToolsFormat) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def _secret(value: Any) -> bool:
    """A value at a place is a secret to mask or keep (credentials are strings; config values vary)."""
    return isinstance(value, str) or hidden(value)


def stored_credentials(text: str, fmt: ToolsFormat) -> dict[str, Any]:
    """Place -> secret of a stored (already validated) document."""
    if not text or not _may_hold_secrets(text):
        return {}
    try:
        doc = _load(text, fmt)
    except (ValueError, yaml.YAMLError):
        return {}
    return credentials_of(doc)


def credentials_of(doc: Any) -> dict[str, Any]:
    """Place -> secret of a document as plain data (what YAML loads, or `msgspec.to_builtins`)."""
    found: dict[str, Any] = {}
    for (locations, _), holder, key in _places_of_data(doc):
        if _secret(holder[key]):
            for location in locations:
                found.setdefault(location, holder[key])
    return found


def _edit_spans(text: str, edits: list[tuple[Node, str]]) -> str:
    for node, replacement in sorted(edits, key=lambda e: e[0].start_mark.index, reverse=True):
        text = text[:node.start_mark.index] + replacement + text[node.end_mark.index:]
    return text


def _span_editable(root: Node, nodes: list[Node]) -> bool:
    """In-place edits are safe when every node is a plain or quoted scalar used exactly once."""
    seen: dict[int, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        seen[id(node)] = seen.get(id(node), 0) + 1
        if seen[id(node)] > 1:
            continue
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return all(isinstance(n, ScalarNode) and n.style in (None, "'", '"') and seen.get(id(n)) == 1 for n in nodes)


def _rewrite(text: str, fmt: ToolsFormat, replace: Callable[[Place, Any], Any], prefix: str = "") -> str:
    """Apply `replace(place, current value)` (None: leave it) to every secret of the document;
    `prefix` goes before the field an error names."""
    field = join(prefix, "server.config")
    if fmt == "yaml":
        try:
            root = untrusted.compose_yaml(text, yaml.SafeLoader)
        except (yaml.YAMLError, untrusted.TooDeep):
            return text  # not a document the registry would have accepted; nothing to do here
        if root is None:
            return text
        found = [(place, node) for place, node in _places_of_nodes(root, field)]
        edits: list[tuple[Node, str]] = []
        for place, node in found:
            if isinstance(node, ScalarNode):
                new = replace(place, str(node.value))
                if new is not None:
                    # JSON is valid YAML: a string becomes a double-quoted scalar, a number stays one.
                    edits.append((node, json.dumps(new)))
        if not edits:
            return text
        if _span_editable(root, [node for node, _ in edits]):
            return _edit_spans(text, edits)
    try:
        doc = _load(text, fmt)
    except (ValueError, yaml.YAMLError):
        return text
    changed = False
    for place, holder, key in _places_of_data(doc, field):
        if _secret(holder[key]):
            new = replace(place, holder[key])
            if new is not None:
                holder[key], changed = new, True
    return _dump(doc, fmt) if changed else text


def _set(ref: SecurityRef | None) -> bool:
    return ref is not None and bool(ref.credential)


def has_credentials(doc: ToolsDocument) -> bool:
    """Whether `mask` would change the text of `doc`: some credential is set and not empty, or some
    config value is secret."""
    server = doc.server
    return (any(s.default_credential for s in server.security_schemes)
            or _set(server.default_upstream_security) or _set(server.default_downstream_security)
            or any(_set(t.security) or _set(t.request_template.security) for t in doc.tools)
            or next(secret_config(server.config, server.secret_config), None) is not None)


def mask(text: str, fmt: ToolsFormat) -> str:
    """The document as readers see it: every non-empty secret replaced by `******`."""
    if not text or not _may_hold_secrets(text):
        return text
    return _rewrite(text, fmt, lambda _, value: MASK if value != "" else None)


def masked_config(config: dict[str, Any], declared: Collection[str]) -> dict[str, Any]:
    """`config` as readers see it: its secret values (see `config_secrets`) replaced by `******`."""
    copied = copy.deepcopy(config)
    found = [(holder, key) for _, holder, key in secret_config(copied, declared)]
    for holder, key in found:
        holder[key] = MASK
    return copied if found else config


def _ref(ref: SecurityRef | None) -> SecurityRef | None:
    if ref is None or not ref.credential:
        return ref
    return msgspec.structs.replace(ref, credential=MASK)


def masked(doc: ToolsDocument) -> ToolsDocument:
    """`doc` as readers see it, as a Struct: the same places and mask as `mask` gives its text, so
    a rendered masked document can be PUT back."""
    server: ServerBlock = doc.server
    server = msgspec.structs.replace(
        server,
        config=masked_config(server.config, server.secret_config),
        security_schemes=[s if not s.default_credential else msgspec.structs.replace(s, default_credential=MASK)
                          for s in server.security_schemes],
        default_upstream_security=_ref(server.default_upstream_security),
        default_downstream_security=_ref(server.default_downstream_security),
    )
    tools = [msgspec.structs.replace(t, security=_ref(t.security), request_template=msgspec.structs.replace(
        t.request_template, security=_ref(t.request_template.security))) for t in doc.tools]
    return msgspec.structs.replace(doc, server=server, tools=tools)


def restore(text: str, fmt: ToolsFormat, stored_text: str, stored_fmt: ToolsFormat, root: str = "") -> str:
    """The document to store: each `******` replaced by the credential stored at the same place.

    An `******` with no stored credential behind it is a 400 naming the field, never stored as
    if it were a credential.
    """
    if MASK not in text:
        return text
    return restore_from(text, fmt, stored_credentials(stored_text, stored_fmt), root)


def restore_from(text: str, fmt: ToolsFormat, stored: dict[str, Any], root: str = "") -> str:
    """`restore` with the stored secrets already at hand (place -> secret)."""
    if MASK not in text:
        return text

    def replace(place: Place, value: Any) -> Any:
        if value != MASK:
            return None
        secret = next((stored[loc] for loc in place[0] if stored.get(loc, "") != ""), None)
        if secret is None:
            field = f"{root}.{place[1]}" if root else place[1]
            raise invalid(field, f'"{MASK}" stands for a stored credential, but none is stored here; '
                                 "send the credential itself")
        return secret

    return _rewrite(text, fmt, replace, root)
