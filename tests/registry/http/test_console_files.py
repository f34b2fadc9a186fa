"""The console's files: served open (no token: they hold no data), with a Content-Security-Policy
that allows only themselves, the admin API and the edge; only the shipped files, never a path."""

from __future__ import annotations

import aiohttp

from tests.cluster import Cluster


async def test_the_console_is_served_open_with_a_strict_policy(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{cluster.admin_url}/console", allow_redirects=False) as answer:
            assert answer.status == 302 and answer.headers["Location"] == "/console/"
        async with http.get(f"{cluster.admin_url}/console/") as answer:
            assert answer.status == 200
            assert answer.content_type == "text/html"
            assert "js/app.js" in await answer.text()
            policy = answer.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "connect-src 'self' http://127.0.0.1:8080" in policy  # the registry's default edge URL
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(f"{cluster.admin_url}/console/js/app.js") as answer:
            assert answer.status == 200 and answer.content_type == "text/javascript"
        async with http.get(f"{cluster.admin_url}/console/config.json") as answer:
            assert (await answer.json()) == {"edgeUrl": "http://127.0.0.1:8080"}
        # The admin API itself still wants the token.
        async with http.get(f"{cluster.admin_url}/v1/mcp-servers") as answer:
            assert answer.status == 401


async def test_only_the_shipped_files(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/console/nope.js", "/console/../settings.py", "/console/%2e%2e/app.py",
                     "/console/js/../../http/console.py", "/console/__init__.py"):
            async with http.get(f"{cluster.admin_url}{path}") as answer:
                # A path the client normalises out of /console/ meets the token check (401) instead.
                assert answer.status in (401, 404), path
