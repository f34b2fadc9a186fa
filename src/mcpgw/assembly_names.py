"""Which tools an assembly takes from one source, and under which names: the rule the edge lists
and calls an assembly by, and the registry counts its tools by."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping


def exposed(names: Iterable[str], tools: Collection[str], aliases: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(exposed name, source name) of each of the source's `names` the assembly takes, in their order:
    those `tools` lists (every one when it is empty), renamed by `aliases`."""
    for name in names:
        if tools and name not in tools:
            continue
        yield aliases.get(name, name), name


def merged(sources: Iterable[Iterable[tuple[str, str]]]) -> list[str]:
    """The exposed names of several sources in order; the first source wins a name two expose."""
    return list(dict.fromkeys(name for source in sources for name, _ in source))
