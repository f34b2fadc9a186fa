"""Media types: which request encoding a tool uses, and which responses are JSON."""

from __future__ import annotations

from typing import Literal

Kind = Literal["json", "form", "multipart", "text", "binary", "xml"]

# Lower is preferred. XML comes last: LLMs are poor at it, so it is used only when nothing else is
# offered (then as raw text the model writes).
_RANK: dict[Kind, int] = {"json": 0, "form": 1, "multipart": 2, "text": 3, "binary": 4, "xml": 5}


def essence(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def is_json(media_type: str) -> bool:
    base = essence(media_type)
    return base == "application/json" or base.endswith("+json") or base == "text/json"


def kind(media_type: str) -> Kind:
    base = essence(media_type)
    if is_json(base):
        return "json"
    if base == "application/x-www-form-urlencoded":
        return "form"
    if base.startswith("multipart/"):
        return "multipart"
    if base.endswith("/xml") or base.endswith("+xml"):
        return "xml"
    if base.startswith("text/"):
        return "text"
    return "binary"


def _json_rank(base: str) -> int:
    # Kubernetes PATCH offers json-patch (an array of operations), merge-patch and strategic
    # merge patch; a merge patch is the one a model can write from the resource's own schema.
    if base == "application/json":
        return 0
    if base == "application/merge-patch+json":
        return 1
    if base == "application/json-patch+json":
        return 3
    return 2


def choose(offered: list[str]) -> str | None:
    """The preferred of the offered request media types (document order breaks ties)."""
    best: tuple[int, int, int] | None = None
    chosen: str | None = None
    for i, media_type in enumerate(offered):
        base = essence(media_type)
        k = kind(base)
        rank = (_RANK[k], _json_rank(base) if k == "json" else 0, i)
        if best is None or rank < best:
            best, chosen = rank, media_type
    return chosen


def settle_wildcard(media_type: str, schema: object) -> str:
    """`*/*` (Kubernetes' `consumes`, GitHub's uploads) says nothing; the schema does. Raw bytes
    for a string schema or none, JSON for anything structured."""
    if "*" not in essence(media_type):
        return media_type
    if not isinstance(schema, dict) or not schema or (schema.get("type") == "string" and "$ref" not in schema):
        return media_type
    return "application/json"


def wire_type(media_type: str) -> str:
    """What goes into Content-Type: wildcards are not media types a request can carry."""
    base = essence(media_type)
    if "*" in base:
        return "text/plain" if base.startswith("text/") else "application/octet-stream"
    return media_type.strip()
