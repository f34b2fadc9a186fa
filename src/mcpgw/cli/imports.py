"""The human report of an OpenAPI import (`tools import`, `servers create --openapi`): counts first,
then what changed and what the converter left out, each list cut to its first names unless
`--verbose` (an 826-operation Kubernetes import is a screenful, not 900 lines)."""

from __future__ import annotations

from typing import Any

from mcpgw.cli.output import Output


def _left_out(data: dict[str, Any], out: Output) -> list[str]:
    lines: list[str] = []
    for label in ("skipped", "degraded"):
        items = data.get(label) or []
        if items:
            lines.append(f"  {label} ({len(items)}):")
            lines.extend(out.lines([f"{item['operation']}: {item['reason']}" for item in items], "    "))
    lines.extend(f"  warning: {warning}" for warning in data.get("warnings") or [])
    return lines


def counts(data: dict[str, Any], out: Output) -> list[str]:
    """What an import made: its tools, and what it skipped or degraded."""
    tools = data.get("tools") or []
    lines = [f"  {len(tools)} tools from {data.get('operations', 0)} operations"]
    if tools:
        lines.append(f"  tools: {out.names(tools)}")
    return lines + _left_out(data, out)


def summary(server: str, data: dict[str, Any], preview: bool, out: Output) -> str:
    if preview:
        head = f"Preview of importing into {server} (nothing was changed):"
    elif data.get("applied"):
        head = f"Imported into {server} (revision {data.get('revision')}):"
    else:
        head = f"Imported into {server}: no changes (revision {data.get('revision')} stays)."
    lines = [head, f"  {len(data.get('tools') or [])} tools from {data.get('operations', 0)} operations"]
    for label in ("added", "removed"):
        items = data.get(label) or []
        if items:
            lines.append(f"  {label} ({len(items)}): {out.names(items)}")
    changed = data.get("changed") or []
    if changed:
        parts = []
        for item in changed:
            text = f"{item['tool']} ({', '.join(item.get('fields', []))})"
            if item.get("specName"):
                text += f" [name kept; the spec now says {item['specName']}]"
            parts.append(text)
        lines.append(f"  changed ({len(changed)}): {out.names(parts, separator='; ')}")
    lines.append(f"  unchanged: {data.get('unchanged', 0)}")
    return "\n".join(lines + _left_out(data, out))
