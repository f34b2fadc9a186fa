"""The web console's files (`/console`): static, shipped in the package, open like `/healthz`.

The pages hold nothing secret: the admin token is typed in, kept in the browser's session storage
and sent as `Authorization` on each admin API call, so everything the console does goes through
the same checks a script's calls do. No cookie is ever set, so no other site can make the browser
act with it (no CSRF surface). The Content-Security-Policy allows only these files and calls to
this API and to the edge (the Debug page is an MCP client of it): an injected script, style or
frame would not run.
"""

from __future__ import annotations

import json
from importlib import resources
from urllib.parse import urlsplit

from aiohttp import web

PREFIX = "/console"
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}

routes = web.RouteTableDef()


class ConsoleFiles:
    """Every file of the console read once at start: a fixed set, so no path from a request ever
    reaches the file system."""

    def __init__(self, edge_url: str) -> None:
        root = resources.files("mcpgw_registry") / "console"
        self.files: dict[str, tuple[bytes, str]] = {}
        self._walk(root, "")
        parts = urlsplit(edge_url)
        edge_origin = f"{parts.scheme}://{parts.netloc}"
        config = {"edgeUrl": edge_url.rstrip("/")}
        self.files["config.json"] = (json.dumps(config).encode(), "application/json")
        self.policy = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                       f"connect-src 'self' {edge_origin}; base-uri 'none'; form-action 'none'; "
                       "frame-ancestors 'none'")

    def _walk(self, node: resources.abc.Traversable, prefix: str) -> None:
        for child in node.iterdir():
            name = f"{prefix}{child.name}"
            if child.is_dir():
                self._walk(child, name + "/")
                continue
            suffix = name[name.rfind("."):]
            if suffix in _TYPES:
                self.files[name] = (child.read_bytes(), _TYPES[suffix])


CONSOLE = web.AppKey("console", ConsoleFiles)


def _serve(files: ConsoleFiles, name: str) -> web.Response:
    found = files.files.get(name)
    if found is None:
        raise web.HTTPNotFound(text=f"no console file {name!r}")
    body, content_type = found
    return web.Response(body=body, headers={
        "Content-Type": content_type, "Content-Security-Policy": files.policy,
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})


@routes.get(PREFIX)
async def console_root(request: web.Request) -> web.StreamResponse:
    # Returned, not raised: the envelope middleware turns raised HTTP exceptions into envelopes.
    return web.Response(status=302, headers={"Location": PREFIX + "/"})


@routes.get(PREFIX + "/")
async def console_index(request: web.Request) -> web.Response:
    return _serve(request.app[CONSOLE], "index.html")


@routes.get(PREFIX + "/{name:.+}")
async def console_file(request: web.Request) -> web.Response:
    return _serve(request.app[CONSOLE], request.match_info["name"])
