"""The console's Tools and Debug pages with what stresses them: a tools YAML the server refuses
(its error shown at the line it names) and a server of 1,000 tools (the preview renders a page of
rows at a time, the import completes, and Debug lists them all)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.backends import Backend
from tests.cluster import ADMIN_TOKEN, Cluster

pytest.importorskip("playwright.async_api", reason="playwright is not installed (make bootstrap)")
from playwright.async_api import Page, expect

from tests.console.browser import shot

BROKEN = """\
server:
  name: scratch
tools:
- name: fine
  description: answers
  requestTemplate:
    url: http://127.0.0.1:9/fine
- name: broken
  description: has no absolute URL
  requestTemplate:
    url: not-a-url
"""


async def _login(page: Page, console: str) -> None:
    await page.goto(console)
    await page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="MCP services")).to_be_visible()


async def test_a_refused_yaml_is_shown_at_its_line(console: str, page: Page, cluster: Cluster) -> None:
    server_id = await cluster.create_server("scratch")
    await _login(page, console)
    await page.goto(f"{console}#/servers/{server_id}/tools")
    editor = page.get_by_role("textbox", name="Tools YAML")
    await editor.fill(BROKEN)
    await page.get_by_role("button", name="Save tools").click()
    where = page.get_by_text(re.compile(r"^At line 11: tools\[1\]\.requestTemplate\.url"))
    await expect(where).to_be_visible()
    await expect(editor).to_be_focused()
    selected = await editor.evaluate("(el) => el.value.slice(el.selectionStart, el.selectionEnd)")
    assert selected.strip() == "url: not-a-url"
    await shot(page, "20-yaml-error")


def _large_spec(operations: int) -> str:
    paths = {f"/items{i}/{{id}}": {"get": {
        "operationId": f"getItem{i}", "summary": f"Item kind {i}",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok"}}}} for i in range(operations)}
    return json.dumps({"openapi": "3.0.3", "info": {"title": "large", "version": "1"}, "paths": paths})


async def test_a_server_of_a_thousand_tools(console: str, page: Page, cluster: Cluster, backend: Backend,
                                            tmp_path: Path) -> None:
    spec = tmp_path / "large.json"
    spec.write_text(_large_spec(1000))
    server_id = await cluster.create_server("large")
    await _login(page, console)
    await page.goto(f"{console}#/servers/{server_id}/tools")
    await page.get_by_label("Document (OpenAPI 3.x or Swagger 2.0, JSON or YAML)").set_input_files(str(spec))
    await page.get_by_label("Base URL").fill(f"{backend.url}/echo")
    await page.get_by_role("button", name="Preview").click()
    await expect(page.get_by_text(re.compile(r"1000 operations: 1000 tools"))).to_be_visible(timeout=60_000)
    rows = page.locator(".tool-row")
    await expect(rows).to_have_count(200)  # a page of rows at a time
    for shown in (400, 600, 800, 1000):
        await page.get_by_role("button", name="Show more").click()
        await expect(rows).to_have_count(shown)
    await expect(page.get_by_role("button", name="Show more")).to_be_hidden()
    await page.get_by_label("Include getItem999").uncheck()
    await page.get_by_role("button", name="Confirm import").click()
    await expect(page.get_by_text("999 tools are live; 1 left out (disabled).")).to_be_visible(timeout=60_000)

    await page.goto(f"{console}#/servers/{server_id}/debug")
    await page.get_by_role("button", name="List tools").click()
    await expect(page.get_by_role("heading", name="999 tools")).to_be_visible(timeout=30_000)
    await page.get_by_label("Tool", exact=True).fill("getItem500")
    await page.get_by_label("Arguments (JSON)").fill('{"id": 5}')
    await page.get_by_role("button", name="Run").click()
    await expect(page.locator("pre.result")).to_contain_text("/echo/items500/5")
    await shot(page, "21-large-debug")
