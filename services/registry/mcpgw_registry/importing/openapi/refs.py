"""Local `$ref` resolution: JSON pointers, and for 3.1 also `$id` / `$anchor` within the document.

Nothing outside the document is ever read: a reference that leaves it is reported as external
(resolving it would be an SSRF / local-file-read vector, and a preview must not touch the network).
Every target gets a canonical key (`#/json/pointer` from the root) so callers can memoise work
per target and detect cycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urldefrag, urljoin

# The document's own base URI. Relative `$id`s resolve against it; anything that resolves
# elsewhere is external. `.invalid` can never name a real host.
DOC_BASE = "https://document.invalid/openapi"

Problem = Literal["malformed", "not_found", "external", "circular", "unresolvable"]


class RefError(Exception):
    def __init__(self, ref: Any, kind: Problem, detail: str) -> None:
        super().__init__(detail)
        self.ref = ref
        self.kind = kind
        self.detail = detail

    @property
    def message(self) -> str:
        return f"$ref {self.ref!r}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Target:
    key: str  # "#/components/schemas/Pet"
    node: Any
    base: str  # the base URI in effect inside the target (changes under a 3.1 `$id`)


def escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


class Resolver:
    def __init__(self, root: dict[str, Any], *, ids: bool) -> None:
        self.root = root
        self._ids_enabled = ids  # `$id` / `$anchor` mean something only in 3.1
        self._resources: dict[str, str] | None = None  # absolute $id -> pointer
        self._anchors: dict[tuple[str, str], str] = {}  # (resource uri, name) -> pointer
        self._anchor_names: dict[str, list[str]] = {}

    # -- public -------------------------------------------------------------------------------

    def resolve(self, ref: Any, base: str = DOC_BASE) -> Target:
        """The node `ref` points at (one step; a target that is itself a `$ref` is not followed)."""
        if not isinstance(ref, str) or not ref.strip():
            raise RefError(ref, "malformed", "is not a reference string")
        if ref.startswith("#"):
            return self._fragment(ref, ref[1:], base)
        if not self._ids_enabled:
            raise RefError(ref, "external", "external references are not allowed")
        uri, fragment = urldefrag(urljoin(base, ref))
        if uri == DOC_BASE:
            return self._fragment(ref, fragment, DOC_BASE)
        pointer = self._id_index().get(uri)
        if pointer is None:
            if self._looks_local(ref):
                raise RefError(ref, "unresolvable", "no `$id` in the document matches it")
            raise RefError(ref, "external", "external references are not allowed")
        return self._in_resource(ref, uri, pointer, fragment)

    def deref(self, node: Any, base: str = DOC_BASE) -> Target:
        """Follow `$ref` chains (parameters, request bodies, responses, path items) to a real node."""
        seen: set[str] = set()
        target = Target("", node, base)
        while isinstance(target.node, dict) and "$ref" in target.node:
            ref = target.node["$ref"]
            target = self.resolve(ref, target.base)
            if target.key in seen:
                raise RefError(ref, "circular", "is circular")
            seen.add(target.key)
        return target

    # -- internals ------------------------------------------------------------------------------

    def _fragment(self, ref: str, fragment: str, base: str) -> Target:
        fragment = unquote(fragment)
        if fragment == "" or fragment.startswith("/"):
            # OpenAPI authors mean the document, even inside a 3.1 `$id` resource.
            try:
                return self._pointer(fragment)
            except RefError:
                if base == DOC_BASE:
                    raise
            resource = self._id_index().get(base)
            if resource is None:
                raise RefError(ref, "not_found", "not found") from None
            return self._in_resource(ref, base, resource, fragment)
        if not self._ids_enabled:
            raise RefError(ref, "not_found", "not found (plain-name fragments need OpenAPI 3.1)")
        self._id_index()
        pointer = self._anchors.get((base, fragment))
        if pointer is None:
            candidates = self._anchor_names.get(fragment, [])
            if len(candidates) != 1:
                raise RefError(ref, "unresolvable", f"no `$anchor` {fragment!r} in the document")
            pointer = candidates[0]
        return self._pointer(pointer)

    def _in_resource(self, ref: str, uri: str, pointer: str, fragment: str) -> Target:
        fragment = unquote(fragment)
        if fragment == "" or fragment.startswith("/"):
            return self._pointer(pointer + fragment, ref)
        anchor = self._anchors.get((uri, fragment))
        if anchor is None:
            raise RefError(ref, "unresolvable", f"no `$anchor` {fragment!r} in {uri}")
        return self._pointer(anchor, ref)

    def _pointer(self, pointer: str, ref: str | None = None) -> Target:
        node: Any = self.root
        base = DOC_BASE
        if pointer:
            for raw in pointer[1:].split("/"):
                segment = _unescape(raw)
                if self._ids_enabled and isinstance(node, dict):
                    base = self._rebase(node, base)
                if isinstance(node, dict):
                    if segment in node:
                        node = node[segment]
                    elif segment.isdigit() and int(segment) in node:  # YAML `200:` keys are ints
                        node = node[int(segment)]
                    else:
                        raise RefError(ref if ref is not None else "#" + pointer, "not_found", "not found")
                elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
                    node = node[int(segment)]
                else:
                    raise RefError(ref if ref is not None else "#" + pointer, "not_found", "not found")
        if self._ids_enabled and isinstance(node, dict):
            base = self._rebase(node, base)
        return Target("#" + pointer, node, base)

    @staticmethod
    def _rebase(node: dict[str, Any], base: str) -> str:
        own = node.get("$id")
        return urldefrag(urljoin(base, own))[0] if isinstance(own, str) else base

    @staticmethod
    def _looks_local(ref: str) -> bool:
        """`/components/schemas/x` names a 3.1 `$id` of this document; `./a.yaml` or `https://…` does not."""
        path = ref.split("#", 1)[0]
        return path.startswith("/") and not path.endswith((".json", ".yaml", ".yml"))

    def _id_index(self) -> dict[str, str]:
        if self._resources is not None:
            return self._resources
        resources: dict[str, str] = {}
        stack: list[tuple[Any, str, str]] = [(self.root, "", DOC_BASE)]
        while stack:
            node, pointer, base = stack.pop()
            if isinstance(node, dict):
                own = node.get("$id")
                if isinstance(own, str):
                    base = urldefrag(urljoin(base, own))[0]
                    resources.setdefault(base, pointer)
                anchor = node.get("$anchor")
                if isinstance(anchor, str):
                    self._anchors.setdefault((base, anchor), pointer)
                    self._anchor_names.setdefault(anchor, []).append(pointer)
                for key, value in node.items():
                    if isinstance(value, dict | list):
                        stack.append((value, f"{pointer}/{escape(str(key))}", base))
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    if isinstance(value, dict | list):
                        stack.append((value, f"{pointer}/{i}", base))
        self._resources = resources
        return resources
