"""The console's create form for the other kinds of server, in Chromium: a hosted MCP server (the
fixture server on the official SDK, reached through a backend service added on its page) and an
assembly drawing from it, each then listed and called from the Debug page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from tests.cluster import ADMIN_TOKEN
from tests.upstream.fixture_server import RunningFixture, running_fixture

pytest.importorskip("playwright.async_api", reason="playwright is not installed (make bootstrap)")
from playwright.async_api import Page, expect

from tests.console.browser import shot


@pytest.fixture
async def upstream() -> AsyncIterator[RunningFixture]:
    async with running_fixture() as running:
        yield running


async def _create(page: Page, console: str, name: str, kind: str) -> None:
    await page.goto(f"{console}#/servers/new")
    await expect(page.get_by_role("heading", name="Create MCP service")).to_be_visible()
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Type").select_option(kind)


async def _run_in_debug(page: Page, tool: str) -> None:
    await page.get_by_role("link", name="Debug").click()
    await page.get_by_role("button", name="List tools").click()
    await expect(page.get_by_role("heading", name=re.compile(r"^\d+ tools?$"))).to_be_visible()
    await page.get_by_label("Tool", exact=True).fill(tool)
    await page.get_by_label("Arguments (JSON)").fill("{}")
    await page.get_by_role("button", name="Run").click()
    await expect(page.locator("pre.result")).to_contain_text("This is a simple text response for testing.")


async def test_hosted_and_assembled_servers_from_the_form(console: str, page: Page,
                                                          upstream: RunningFixture) -> None:
    address = urlsplit(upstream.url).netloc
    await page.goto(console)
    await page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="MCP services")).to_be_visible()

    # Where the upstream is: a backend service of its address.
    await page.get_by_role("link", name="Backend services").click()
    await expect(page.get_by_role("heading", name="Backend services", exact=True)).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("fixture")
    await page.get_by_label("Source").select_option("VIP")
    await page.get_by_label("Addresses (host:port, comma-separated)").fill(address)
    await page.get_by_role("button", name="Add").click()
    await expect(page.get_by_role("rowheader", name="fixture")).to_be_visible()

    # A hosted server: transport, its path upstream, the service.
    await _create(page, console, "upstream", "hosted")
    await page.get_by_label("Transport").select_option("StreamableHTTP")
    await page.get_by_label("Path on the upstream").fill(urlsplit(upstream.url).path)
    await page.get_by_label("Backend service").select_option(label=f"fixture ({address})")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.get_by_role("heading", name="upstream", exact=True)).to_be_visible()
    await expect(page.locator("dl.facts").first).to_contain_text("hosted")
    await shot(page, "30-hosted-service")
    await _run_in_debug(page, "test_simple_text")

    # An assembly drawing from it: no service, its sources instead.
    await _create(page, console, "together", "assembled")
    await expect(page.get_by_label("Backend service")).to_be_hidden()
    await page.get_by_label("upstream", exact=True).check()
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.get_by_role("heading", name="together", exact=True)).to_be_visible()
    await expect(page.locator("dl.facts").first).to_contain_text("assembled")
    await _run_in_debug(page, "test_simple_text")
    await shot(page, "31-assembly-debug")

    # The list: each kind, and the tool counts (the assembly's through its source's).
    await page.goto(f"{console}#/servers")
    hosted_row = page.get_by_role("row", name=re.compile(r"^upstream "))
    assembled_row = page.get_by_role("row", name=re.compile(r"^together "))
    await expect(hosted_row).to_contain_text("hosted")
    await expect(assembled_row).to_contain_text("assembled")
    tools = await hosted_row.get_by_role("cell").nth(4).text_content()
    assert tools is not None and tools.isdigit() and int(tools) > 1
    await expect(assembled_row.get_by_role("cell").nth(4)).to_have_text(tools)
