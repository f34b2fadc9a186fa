"""Tool and argument names that every MCP client accepts, stable across re-imports.

Tool names: `[A-Za-z0-9_-]{1,64}` (Anthropic, OpenAI, Windsurf and Copilot reject dots; Claude
Desktop and OpenAI cap at 64). Anything shortened or disambiguated gets a hash of what it stands
for, never a counter, so a name depends only on its own operation and on which others collide
with it, not on the order operations appear in.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator

MAX_TOOL_NAME = 64
MAX_ARG_NAME = 64
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_NOT_ARG = re.compile(r"[^A-Za-z0-9_.-]+")
_UNDERSCORES = re.compile(r"_{2,}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def sanitize(text: str) -> str:
    name = _UNDERSCORES.sub("_", _NOT_NAME.sub("_", text)).strip("_")
    return name


def fit(name: str, identity: str, limit: int = MAX_TOOL_NAME) -> str:
    """`name` if it fits, else its head plus a hash of `identity`."""
    if len(name) <= limit:
        return name
    suffix = "_" + digest(identity)
    return name[: limit - len(suffix)].rstrip("_-") + suffix


def from_path(method: str, path: str) -> str:
    """`GET /pets/{petId}/photos` -> `get_pets_by_petId_photos` (for operations without operationId)."""
    path = _PLACEHOLDER.sub(lambda m: f"_by_{m.group(1)}_", path)
    return sanitize(f"{method.lower()}_{path}")


def base_name(method: str, path: str, operation_id: str | None) -> str:
    name = sanitize(operation_id) if operation_id else ""
    return name or from_path(method, path) or method.lower()


def tool_names(operations: list[tuple[str, str, str | None]]) -> list[str]:
    """Names for (method, path, operationId) triples, unique and independent of their order."""
    identities = [f"{method.upper()} {path}" for method, path, _ in operations]
    wanted = [fit(base_name(method, path, op_id), ident)
              for (method, path, op_id), ident in zip(operations, identities, strict=True)]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(wanted):
        groups[name].append(i)
    names = list(wanted)
    for name, members in groups.items():
        if len(members) > 1:  # every member of a clash is renamed, so none depends on who came first
            for i in members:
                names[i] = fit(f"{name}_{digest(identities[i], 6)}", identities[i])
    # A disambiguated name could, in theory, equal another operation's plain name; lengthen the
    # hash until it does not (deterministic: it depends only on the set of names).
    taken: dict[str, int] = {}
    for i in sorted(range(len(names)), key=lambda j: identities[j]):
        name = names[i]
        width = 10
        while name in taken:
            name = fit(f"{wanted[i]}_{digest(identities[i], width)}", identities[i] + "#" * width)
            width += 2
        taken[name] = i
        names[i] = name
    return names


def arg_name(name: str) -> str:
    """A property key every client accepts (`^[a-zA-Z0-9_.-]{1,64}$`, never empty); the caller
    resolves clashes.

    Comparison operators keep their meaning (Twilio's `StartTime<` / `StartTime>`).
    """
    if 0 < len(name) <= MAX_ARG_NAME and not _NOT_ARG.search(name):
        return name
    spelled = name.replace("<=", "_lte").replace(">=", "_gte").replace("<", "_lt").replace(">", "_gt")
    clean = _UNDERSCORES.sub("_", _NOT_ARG.sub("_", spelled)).strip("_") or "arg"
    return fit(clean, name, MAX_ARG_NAME)


def placeholders(path: str) -> list[str]:
    return _PLACEHOLDER.findall(path)


def placeholder_spans(path: str) -> Iterator[re.Match[str]]:
    """Where `placeholders` found each one: the URL template is built from the same matches."""
    return _PLACEHOLDER.finditer(path)
