"""What commands read besides their arguments: files (or stdin), secrets from the environment, and the
small value syntaxes the command line uses (on/off, durations, times)."""

from __future__ import annotations

import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from mcpgw.cli.errors import CliError, UsageError

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def read(path: str) -> bytes:
    """A file's bytes; `-` reads stdin."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def content_type(raw: bytes, path: str) -> str:
    """JSON for a `.json` file or a body that starts like JSON, else YAML."""
    if path.lower().endswith(".json") or raw.lstrip()[:1] in (b"{", b"["):
        return "application/json"
    return "application/yaml"


def read_text(path: str) -> str:
    try:
        return read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None


def read_mapping(path: str, option: str) -> dict[str, Any]:
    """A JSON or YAML object from a file, for options that take a part of a request body."""
    try:
        value = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise CliError(f"{option} {path}: not JSON or YAML: {exc}") from None
    if not isinstance(value, dict):
        raise CliError(f"{option} {path}: expected a JSON/YAML object")
    return value


def secret_from_env(variable: str, option: str) -> str:
    """A secret named by its environment variable: values on the command line show in `ps`."""
    value = os.environ.get(variable)
    if not value:
        raise UsageError(f"{option} {variable}: that environment variable is not set")
    return value


def switch(value: str) -> bool:
    """`on`/`off` (and the usual spellings) for argparse's `type=`."""
    lowered = value.lower()
    if lowered in ("on", "true", "yes", "1", "enable", "enabled"):
        return True
    if lowered in ("off", "false", "no", "0", "disable", "disabled"):
        return False
    raise ValueError(value)


switch.__name__ = "on/off"  # what argparse names in "invalid on/off value"


def expiry_ms(value: str, now: float | None = None) -> int:
    """`7d`, `12h`, `30m`, `90s`, `2w` from now, or an ISO 8601 time (UTC unless it says otherwise):
    milliseconds since the epoch, for argparse's `type=`."""
    found = _DURATION.match(value.strip())
    if found:
        seconds = int(found[1]) * _SECONDS[found[2]]
        return int(((now if now is not None else time.time()) + seconds) * 1000)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


expiry_ms.__name__ = "expiry (7d, 12h or an ISO 8601 time)"
