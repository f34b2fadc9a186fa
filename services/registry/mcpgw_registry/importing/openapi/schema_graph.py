"""Which referenced schemas are recursive, decided on the whole reference graph.

Tarjan's strongly connected components over the document's raw `$ref` edges: a definition is
recursive when it reaches itself. Deciding it on the graph, not on the order operations happen
to be converted in, makes a tool's schema depend only on what it references.
"""

from __future__ import annotations

from typing import Any

from mcpgw_registry.importing.openapi.refs import RefError, Resolver, Target

# Keywords whose values hold no schema: a `$ref` inside them is data, not an edge.
_SKIP_SCAN = frozenset({"example", "examples", "default", "enum", "const", "externalDocs", "xml"})


class ReferenceGraph:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._edges: dict[str, tuple[str, ...]] = {}
        self._recursive: dict[str, bool] = {}

    def known_recursive(self, key: str) -> bool:
        return self._recursive.get(key, False)

    def mark_recursive(self, key: str) -> None:
        """Found on a cycle while converting that the scan did not see (e.g. under a skipped keyword)."""
        self._recursive[key] = True

    def is_recursive(self, key: str, target: Target) -> bool:
        """Whether `key` (resolved to `target`) lies on a cycle of references."""
        known = self._recursive.get(key)
        if known is not None:
            return known
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        targets = {key: target}
        counter = 0
        work: list[tuple[str, int]] = [(key, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = self._edges_of(node, targets)
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i]
                if nxt in self._recursive and nxt not in index:
                    continue  # settled by an earlier search
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work and work[-1][0] != node:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                cyclic = len(component) > 1 or component[0] in self._edges_of(component[0], targets)
                for member in component:
                    self._recursive[member] = cyclic
        return self._recursive.get(key, False)

    def _edges_of(self, key: str, targets: dict[str, Target]) -> tuple[str, ...]:
        edges = self._edges.get(key)
        if edges is not None:
            return edges
        target = targets.get(key)
        if target is None:
            try:
                target = self.resolver.resolve(key)
            except RefError:
                self._edges[key] = ()
                return ()
        found: list[str] = []
        stack: list[tuple[Any, str]] = [(target.node, target.base)]
        while stack:
            node, base = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    try:
                        hit = self.resolver.resolve(ref, base)
                    except RefError:
                        hit = None
                    if hit is not None:
                        targets.setdefault(hit.key, hit)
                        if hit.key not in found:
                            found.append(hit.key)
                if isinstance(node.get("$id"), str):
                    base = Resolver._rebase(node, base)
                for k, v in node.items():
                    if isinstance(v, dict | list) and k not in _SKIP_SCAN and not (
                            isinstance(k, str) and k.startswith("x-")):
                        stack.append((v, base))
            elif isinstance(node, list):
                stack.extend((v, base) for v in node if isinstance(v, dict | list))
        self._edges[key] = edges = tuple(found)
        return edges
