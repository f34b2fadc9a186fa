"""One settings Struct per service, loaded from `MCPGW_<SERVICE>_<FIELD>` environment variables.

A field may also be set cluster-wide as `MCPGW_<FIELD>` (e.g. `MCPGW_NATS_URL`); the per-service
variable wins. Lists are comma-separated. A bad value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import msgspec

from mcpgw.statistics import DEFAULT_WINDOW_SECONDS

S = TypeVar("S", bound=msgspec.Struct)


class SettingsError(Exception):
    """A settings variable is missing or malformed; the message names it."""


class CommonSettings(msgspec.Struct, kw_only=True):
    """Fields every service has."""

    nats_url: str = "nats://127.0.0.1:4222"
    subject_root: str = "mcpgw"
    # Upper bound on any request this service makes over NATS.
    request_timeout: float = 5.0
    log_level: str = "INFO"
    # Prometheus metrics at http://<metrics_host>:<metrics_port>/metrics (0: not served).
    metrics_host: str = "127.0.0.1"
    metrics_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0


class StatsSettings(CommonSettings, kw_only=True):
    """Fields of a service that counts calls (toolexec, hosting): where and how often it flushes them."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    stats_flush_interval: float = 1.0
    # How long a minute's statistics stay in Redis (seconds; the registry reads no further back).
    stats_window: Annotated[float, msgspec.Meta(ge=60)] = DEFAULT_WINDOW_SECONDS


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is list:
        return True
    return any(typing.get_origin(a) is list for a in typing.get_args(annotation))


def env_name(service: str, field: str) -> str:
    return f"MCPGW_{service.upper()}_{field.upper()}"


def load_settings(cls: type[S], service: str, environ: Mapping[str, str] | None = None) -> S:
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    raw: dict[str, Any] = {}
    source: dict[str, str] = {}
    for field in msgspec.structs.fields(cls):
        for name in (env_name(service, field.name), f"MCPGW_{field.name.upper()}"):
            if name in env:
                value: Any = env[name]
                if _is_list(hints[field.name]):
                    value = [part.strip() for part in value.split(",") if part.strip()]
                raw[field.name] = value
                source[field.name] = name
                break
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = re.search(r"at `\$\.([A-Za-z0-9_]+)", text)
        if match and match.group(1) in source:
            var = source[match.group(1)]
            raise SettingsError(f"{var}={env[var]!r} is invalid: {text.split(' - at ')[0]}") from None
        raise SettingsError(f"invalid {service} settings: {text}") from None
