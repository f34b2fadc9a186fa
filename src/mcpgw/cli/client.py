"""The admin API as the CLI uses it: the envelope unwrapped, failures as exit-coded errors, names
resolved to ids, every page of a list.

The CLI is only a client of this API (it never imports a service): anything it shows, a script
with curl could get the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from mcpgw.cli.errors import CliError, NotFound, Unavailable

DEFAULT_ADMIN_URL = "http://127.0.0.1:8081"
# The API's largest page: a list of N items costs N/100 requests.
PAGE_SIZE = 100
TOKEN_HINT = ("set MCPGW_ADMIN_TOKEN to the admin API's token (make up keeps it in .run/admin-token, "
              "which mcpgw reads when the variable is unset)")


@dataclass(frozen=True)
class Kind:
    """A named resource of the API: how its ids look and how a name is looked up."""

    label: str
    path: str
    id_field: str
    id_shape: re.Pattern[str]
    # The list's query parameter that narrows by name (a substring or the exact name).
    name_filter: str


def _shape(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{prefix}-[a-z0-9]{{16}}$")


SERVERS = Kind("MCP server", "/v1/mcp-servers", "mcpServerId", _shape("mcp"), "nameLike")
CONSUMERS = Kind("consumer", "/v1/consumers", "consumerId", _shape("cs"), "nameLike")
SERVICES = Kind("service", "/v1/services", "serviceId", _shape("svc"), "name")
DOMAINS = Kind("domain", "/v1/domains", "domainId", _shape("d"), "nameLike")
RULE_ID = _shape("car")


def path(*parts: str) -> str:
    """`/v1/...` with each id or name quoted as one path segment."""
    return "/".join(quote(part, safe="") if n else part for n, part in enumerate(parts))


class Admin:
    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self._http = http
        self.base = base_url.rstrip("/")

    async def call(self, method: str, where: str, *, body: Any = None, data: bytes | None = None,
                   content_type: str | None = None, params: Mapping[str, str] | None = None) -> Any:
        """The envelope's `data` (JSON answers) or the text (YAML answers)."""
        if body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            async with self._http.request(method, self.base + where, data=data, headers=headers,
                                          params=params) as resp:
                if resp.content_type == "application/json":
                    answer = await resp.json()
                    envelope = answer if isinstance(answer, dict) else {}
                    if resp.status >= 400 or envelope.get("code", "Ok") != "Ok":
                        raise _refusal(resp.status, str(envelope.get("code", resp.status)),
                                       str(envelope.get("message") or answer))
                    return envelope.get("data")
                text = await resp.text()
                if resp.status >= 400:
                    raise _refusal(resp.status, f"HTTP {resp.status}", f"{method} {where}: {text[:200]}")
                return text
        except aiohttp.ClientConnectionError as exc:
            raise Unavailable(f"cannot reach the admin API at {self.base}: {exc}") from None
        except TimeoutError:
            raise Unavailable(f"the admin API at {self.base} did not answer in time (--timeout)") from None
        except aiohttp.ClientError as exc:
            raise Unavailable(f"{method} {where} failed: {exc}") from None

    async def all_pages(self, where: str, params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a paged list."""
        items: list[dict[str, Any]] = []
        number = 1
        while True:
            data = await self.call("GET", where, params={**(params or {}), "pageNumber": str(number),
                                                         "pageSize": str(PAGE_SIZE)})
            page = data.get("items") or []
            items.extend(page)
            # totalSize is a string in the rules' list (as in the reference), a number elsewhere.
            if not page or number * PAGE_SIZE >= int(data.get("totalSize") or 0):
                return items
            number += 1

    async def resolve(self, kind: Kind, ref: str) -> str:
        """An id as given; a name by exact match (the list's filter may match substrings)."""
        if kind.id_shape.match(ref):
            return ref
        for item in await self.all_pages(kind.path, {kind.name_filter: ref}):
            if item.get("name") == ref:
                return str(item[kind.id_field])
        raise NotFound(f"no {kind.label} named {ref!r}")


def _refusal(status: int, code: str, message: str) -> CliError:
    text = f"{code} ({status}): {message}"
    if status == 404:
        return NotFound(text)
    if status >= 500:
        return Unavailable(text)
    if status == 401:
        return CliError(f"{text}; {TOKEN_HINT}")
    return CliError(text)
