"""Which values of a tools document's `server.config` are secret: the one place that decides.

Higress configs often keep an API key in `config` for templates to read (`{{.config.apiKey}}`), so
config values can be credentials too. A value is secret when

- its key, or the key of a mapping or list it sits in, contains `key`, `token`, `secret` or
  `password`, case-insensitively (`apiKey`, `X-Auth-Token`, `client_secret`, `dbPassword`); or
- it is declared: `server.secretConfig` lists its path (`region`, `oauth.clientId` for nested
  mappings), or the path of a mapping or list it sits in.

Only non-empty strings and numbers are hidden; booleans and nulls tell nothing worth hiding. A
name that merely looks secret (`tokenUrl`) is hidden too: a read shows `******`, and a write that
sends `******` back keeps the value, so nothing is lost. `secrets` masks and restores what
this module names, in documents as text (YAML nodes, JSON data) and as Structs alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mcpgw.contracts.errors import invalid
from mcpgw.contracts.tools import ServerBlock
from mcpgw_registry.resources.validation import join

SECRET_NAME = re.compile(r"key|token|secret|password", re.IGNORECASE)
# Documents are walked for secrets before they are validated (a write restores `******` first),
# so YAML aliases could make config a cycle or an exponential tree: the walk has bounds.
MAX_CONFIG_NODES = 200_000
MAX_CONFIG_DEPTH = 64

_STR = "tag:yaml.org,2002:str"
_NUMBERS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

T = TypeVar("T")
# A mapping's or a list's entries as (name in a path, key or index in the container, value).
Children = Callable[[T], list[tuple[str, Any, T]] | None]


def secret_name(key: object) -> bool:
    return SECRET_NAME.search(str(key)) is not None


def leaves(config: T, declared: Collection[str], children: Children[T],
           field: str = "server.config") -> Iterator[tuple[str, Any, Any, T, bool]]:
    """(path, container, key, value, secret?) of every leaf of `config`, in document order.

    Leaves are everything `children` does not open; whether a secret one holds something worth
    hiding is for the caller to say (`hidden`, `hidden_node`). `field` is what an error names.
    """
    stack: list[tuple[str, Any, Any, T, bool, int]] = [("", None, None, config, False, 0)]
    budget = MAX_CONFIG_NODES
    while stack:
        path, container, key, value, secret, depth = stack.pop()
        entries = children(value)
        if entries is None:
            if path:
                yield path, container, key, value, secret
            continue
        budget -= len(entries)
        if budget < 0 or depth == MAX_CONFIG_DEPTH:
            raise invalid(field, f"is too large: at most {MAX_CONFIG_NODES} values, nested at most "
                                 f"{MAX_CONFIG_DEPTH} deep (aliases expanded)")
        below = [(p, value, k, child, secret or secret_name(name) or p in declared, depth + 1)
                 for name, k, child in entries for p in (join(path, name),)]
        stack.extend(reversed(below))


def data_children(value: Any) -> list[tuple[str, Any, Any]] | None:
    """`children` of plain data (what YAML or JSON loads, `msgspec.to_builtins`)."""
    if isinstance(value, Mapping):
        return [(str(k), k, v) for k, v in value.items()]
    if isinstance(value, list):
        return [(f"[{i}]", i, v) for i, v in enumerate(value)]
    return None


def node_children(node: Node) -> list[tuple[str, Any, Node]] | None:
    """`children` of a composed YAML node."""
    if isinstance(node, MappingNode):
        return [(str(k.value) if isinstance(k, ScalarNode) else "", k, v) for k, v in node.value]
    if isinstance(node, SequenceNode):
        return [(f"[{i}]", i, v) for i, v in enumerate(node.value)]
    return None


def hidden(value: Any) -> bool:
    """Whether a secret leaf of plain data is masked: a non-empty string or a number."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or (isinstance(value, str) and value != "")


def hidden_node(node: Node) -> bool:
    """`hidden` for a composed YAML scalar (its tag says what it loads as)."""
    if not isinstance(node, ScalarNode):
        return False
    return node.tag in _NUMBERS or (node.tag == _STR and node.value != "")


def secret_config(config: Any, declared: Collection[str]) -> Iterator[tuple[str, Any, Any]]:
    """(path, container, key) of every value of plain-data `config` to hide."""
    for path, container, key, value, secret in leaves(config, declared, data_children):
        if secret and hidden(value):
            yield path, container, key


def _at(config: Any, path: str) -> bool:
    value = config
    for name in path.split("."):
        if not isinstance(value, Mapping) or name not in value:
            return False
        value = value[name]
    return True


def check_config(server: ServerBlock, sfield: str) -> None:
    """`config` is within the walk's bounds (reads walk it), and every `secretConfig` entry names a
    value of it: a typo would leave a secret readable."""
    for _ in leaves(server.config, (), data_children, join(sfield, "config")):
        pass
    for i, path in enumerate(server.secret_config):
        if not _at(server.config, path):
            raise invalid(join(sfield, f"secretConfig[{i}]"), f"names no value of server.config ({path!r}); "
                                                              "give a key of config, dotted for nested ones")
