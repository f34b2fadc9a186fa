"""Query parameters of the list operations and the paged `data` shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from mcpgw.contracts.errors import invalid

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
    if not raw.isascii() or not raw.isdigit():
        raise invalid(name, f"must be an integer {bounds}")
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise invalid(name, f"must be an integer {bounds}")
    return value


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    return (_int(query, "pageNumber", 1, 1, None),
            _int(query, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE))


def choices(query: Mapping[str, str], name: str, allowed: Sequence[str]) -> set[str] | None:
    """A comma-separated filter; None when absent. Unknown values are a 400 naming the parameter."""
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    values = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(values - set(allowed))
    if unknown:
        raise invalid(name, f"unknown value {unknown[0]!r}; expected {', '.join(allowed)}")
    return values


def page(items: Sequence[T], number: int, size: int) -> dict[str, Any]:
    start = (number - 1) * size
    return {"pageNumber": number, "pageSize": size, "totalSize": len(items),
            "items": list(items[start:start + size])}
