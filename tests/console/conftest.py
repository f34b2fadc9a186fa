"""The console's browser tests: a registry replica that knows the edge, a headless Debian Chromium
page, and screenshots kept in `.artifacts/console/` (not committed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcpgw_registry.service import RegistryService
from mcpgw_registry.settings import RegistrySettings

from tests.cluster import ADMIN_TOKEN, Cluster

pytest.importorskip("playwright.async_api", reason="playwright is not installed (make bootstrap)")
from playwright.async_api import ConsoleMessage, Page, async_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
WAIT = 15_000  # ms: a page's answer, never a fixed sleep

@pytest.fixture
async def console(cluster: Cluster) -> AsyncIterator[str]:
    """A registry replica of the cluster that knows the edge's URL: the console's base URL."""
    settings = cluster.registry.settings
    registry = RegistryService(RegistrySettings(nats_url=cluster.nats_url, redis_url=cluster.redis_url,
                                                subject_root=cluster.root, port=0, kv_bucket=settings.kv_bucket,
                                                admin_token=ADMIN_TOKEN, edge_url=cluster.edge_url()))
    await registry.start()
    try:
        yield f"http://127.0.0.1:{registry.port}/console/"
    finally:
        await registry.stop()


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed (make bootstrap installs it when run as root)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        page.set_default_timeout(WAIT)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        def console_error(message: ConsoleMessage) -> None:
            # A refused API call (a wrong token's 401, a 400 the page shows) is logged by the browser
            # as a failed load: expected. Any other error (a bad `pattern`, a CSP refusal) is not.
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                errors.append(f"console: {message.text}")

        page.on("console", console_error)
        try:
            yield page
        finally:
            await browser.close()
        assert not errors, f"the console threw in the browser: {errors}"


