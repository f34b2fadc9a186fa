"""Base URLs: `servers` (with variables) or 2.0 scheme + host + basePath, or the operator's override.

The base URL lives in `server.config.baseUrl` so an operator can point the same tools at another
deployment; tool URLs start with `{{.config.baseUrl}}`. An operation or path item that declares
its own server on another origin keeps that absolute URL (its origin still never depends on an
argument).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from mcpgw.contracts.errors import invalid
from mcpgw_registry.importing.openapi.problems import SkipOperation

# Where a base URL the document cannot give us points until the operator configures one:
# `.invalid` never resolves, so an unconfigured tool fails fast instead of reaching some host.
PLACEHOLDER = "https://base-url-not-configured.invalid"
BASE_URL_TEMPLATE = "{{.config.baseUrl}}"
_VARIABLE = re.compile(r"\{([^{}]*)\}")


def _parts(url: str) -> SplitResult | None:
    """`url` split, or None when it is no URL at all (an unclosed IPv6 bracket, a port that is not
    a number or out of range): such text must not reach the registry's validator as a tool URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is the check: it raises on a bad port
    except ValueError:
        return None
    return parts


def _absolute(url: str) -> bool:
    parts = _parts(url)
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)


def _substitute(server: dict[str, Any]) -> str | None:
    url = server.get("url")
    if not isinstance(url, str):
        return None
    variables: dict[str, Any] = server["variables"] if isinstance(server.get("variables"), dict) else {}

    def value(m: re.Match[str]) -> str:
        var = variables.get(m.group(1))
        if isinstance(var, dict):
            if var.get("default") is not None:
                return str(var["default"])
            if isinstance(var.get("enum"), list) and var["enum"]:
                return str(var["enum"][0])
        return "\0"

    resolved = _VARIABLE.sub(value, url.strip())
    return None if "\0" in resolved else resolved


def document_base(doc: dict[str, Any], version: str) -> tuple[str | None, list[str]]:
    """The document's own base URL (None when it has none usable) and what to tell the operator."""
    if version == "2.0":
        host = doc.get("host")
        base_path = doc.get("basePath") if isinstance(doc.get("basePath"), str) else ""
        schemes = [s for s in doc.get("schemes") or [] if s in ("http", "https")]
        scheme = "https" if "https" in schemes or not schemes else schemes[0]
        if isinstance(host, str) and host.strip():
            joined = f"{scheme}://{host.strip()}{base_path}"
            if _parts(joined) is None:
                return None, [f"the host {host!r} does not make a valid URL; set the base URL"]
            return _trim(joined), []
        return None, [f"the document names no host; set the base URL (basePath {base_path or '/'!r})"]
    servers = doc.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return None, ["the document lists no servers; set the base URL"]
    url = _substitute(servers[0])
    if url is None:
        return None, ["the first server URL has a variable without a default; set the base URL"]
    if _parts(url) is None:
        return None, [f"the server URL {url!r} is not a valid URL; set the base URL"]
    if not _absolute(url):
        return None, [f"the server URL {url!r} is relative; set the base URL"]
    return _trim(url), []


def base_url(doc: dict[str, Any], version: str, override: str | None) -> tuple[str, str | None, list[str]]:
    """(baseUrl for config, the document's own base or None, warnings)."""
    own, warnings = document_base(doc, version)
    if override is not None:
        if not _absolute(override.strip()):
            raise invalid("baseUrl", f"must be an absolute http or https URL (got {override!r})")
        return _trim(override.strip()), own, []
    if own is not None:
        return own, own, []
    relative = ""
    if version == "2.0":
        base_path = doc.get("basePath")
        relative = base_path if isinstance(base_path, str) else ""
    else:
        servers = doc.get("servers")
        if isinstance(servers, list) and servers and isinstance(servers[0], dict):
            relative = _substitute(servers[0]) or ""
    relative = relative if relative.startswith("/") else ""
    return _trim(PLACEHOLDER + relative), None, warnings


def operation_prefix(servers: Any, document_url: str | None, config_url: str) -> str:
    """What a tool's URL starts with: the configured base, or an operation's own absolute server."""
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return BASE_URL_TEMPLATE
    url = _substitute(servers[0])
    if url is None:
        return BASE_URL_TEMPLATE
    if _parts(url) is None:
        # Falling back to the base URL could send the calls to another host than meant.
        raise SkipOperation(f"its server URL {url!r} is not a valid URL")
    if not _absolute(url):
        url = urljoin((document_url or config_url) + "/", url.lstrip("/")) if url else ""
        if not _absolute(url):
            return BASE_URL_TEMPLATE
    url = _trim(url)
    if url in (document_url, config_url):
        return BASE_URL_TEMPLATE
    return url


def _trim(url: str) -> str:
    return url.rstrip("/")
