"""The console's whole workflow in a real browser (Debian's Chromium driven by Playwright), as a
user clicks it: log in; create a service; import petstore-v3 through the preview, leaving one tool
out; create a consumer and copy its key; authorize it on one tool; switch consumer auth on; run
that tool from the Debug page and see the backend's answer, and see another tool refused; undeploy,
deploy, roll back; see the calls on the Statistics page.

A screenshot of each page is kept in `.artifacts/console/` (not committed).
"""

from __future__ import annotations

import lzma
import re
from pathlib import Path

import pytest

from tests.backends import Backend
from tests.cluster import ADMIN_TOKEN

pytest.importorskip("playwright.async_api", reason="playwright is not installed (make bootstrap)")
from playwright.async_api import Page, expect

from tests.console.browser import shot

SPEC = Path(__file__).resolve().parents[1] / "data" / "specs" / "petstore-v3.openapi.yaml.xz"


async def test_the_console_flow(console: str, page: Page, backend: Backend, tmp_path: Path) -> None:
    spec = tmp_path / "petstore-v3.openapi.yaml"
    spec.write_bytes(lzma.decompress(SPEC.read_bytes()))

    # Log in: a wrong token is refused with a message, the right one opens the services list.
    await page.goto(console)
    await page.get_by_label("Admin token").fill("wrong")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_text("That token is not the admin token.")).to_be_visible()
    await shot(page, "01-login")
    # By keyboard: the token field has the focus, Enter logs in.
    await page.get_by_label("Admin token").fill("")
    await expect(page.get_by_label("Admin token")).to_be_focused()
    await page.keyboard.type(ADMIN_TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="MCP services")).to_be_visible()

    # Create a service; a bad name is refused beside the field, then fixed.
    await page.get_by_role("link", name="Create MCP service").click()
    await expect(page.get_by_role("heading", name="Create MCP service")).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("Pets!")
    # The pattern compiles (a browser ignores one that does not) and refuses the name.
    assert await page.get_by_label("Name", exact=True).evaluate("(el) => el.validity.patternMismatch")
    await page.get_by_label("Count calls (statistics)").check()
    await page.get_by_role("button", name="Create", exact=True).click()
    name_id = await page.get_by_label("Name", exact=True).get_attribute("id")
    await expect(page.locator(f"#{name_id}-error")).to_contain_text("name")
    await shot(page, "02-create-service")
    await page.get_by_label("Name", exact=True).fill("pets")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.get_by_role("heading", name="pets", exact=True)).to_be_visible()
    server_url = page.url
    await expect(page.locator("code.endpoint").first).to_contain_text("/mcp-servers/pets")
    await shot(page, "03-service-details")

    # Tools: petstore-v3 through the preview, deletePet left out.
    await page.get_by_role("link", name="Tools").click()
    await page.get_by_label("Document (OpenAPI 3.x or Swagger 2.0, JSON or YAML)").set_input_files(str(spec))
    await page.get_by_label("Base URL").fill(f"{backend.url}/echo")
    await page.get_by_role("button", name="Preview").click()
    await expect(page.get_by_role("heading", name="Review")).to_be_visible()
    await page.get_by_label("Include deletePet").uncheck()
    await shot(page, "04-import-preview")
    await page.get_by_role("button", name="Confirm import").click()
    await expect(page.get_by_text(re.compile(r"tools are live; 1 left out"))).to_be_visible()
    await shot(page, "05-imported")

    # Backend authentication: the document's api_key scheme gets a credential, write-only.
    scheme = page.get_by_role("group", name="Scheme api_key")
    await scheme.get_by_label("Credential").fill("k-console")
    await page.get_by_role("button", name="Save authentication").click()
    await expect(page.get_by_text("Backend authentication saved.")).to_be_visible()
    await expect(scheme.get_by_label("Credential (set)")).to_have_value("")
    await shot(page, "05b-backend-auth")

    # A consumer, its key copied from the page.
    await page.get_by_role("link", name="Consumers").click()
    await expect(page.get_by_role("heading", name="Consumers", exact=True)).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("alice")
    await page.get_by_role("button", name="Create consumer").click()
    key = (await page.locator("#new-key").text_content() or "").strip()
    assert len(key) >= 20
    await page.get_by_role("button", name="Copy key").click()
    assert await page.evaluate("navigator.clipboard.readText()") == key
    await shot(page, "06-consumer-created")

    # Authorize it on getPetById only.
    await page.get_by_role("link", name="alice").click()
    await page.get_by_label("MCP service").select_option(label="pets")
    await page.get_by_label("All its tools").uncheck()
    await page.get_by_label("getPetById").check()
    await page.get_by_role("button", name="Grant").click()
    await expect(page.get_by_role("cell", name="getPetById")).to_be_visible()
    await shot(page, "07-grants")

    # Consumer authentication on.
    await page.goto(server_url)
    await page.get_by_role("link", name="Edit").click()
    await page.get_by_label("Consumer authentication").check()
    await page.get_by_role("button", name="Save and publish").click()
    await expect(page.get_by_text("Saved pets.")).to_be_visible()

    # A draft beside what is served, then published.
    await page.get_by_role("link", name="Edit").click()
    await page.get_by_label("Description").fill("Pets, reviewed")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_text(re.compile("Unpublished changes"))).to_be_visible()
    await shot(page, "07b-draft")
    await page.get_by_role("button", name="Publish draft").click()
    await expect(page.get_by_text("The draft of pets is published.")).to_be_visible()
    await expect(page.get_by_text(re.compile("Unpublished changes"))).to_have_count(0)

    # Debug: the granted tool answers from the backend; another is refused.
    await page.get_by_role("link", name="Debug").click()
    await page.get_by_role("button", name="List tools").click()
    await expect(page.get_by_role("alert").filter(has_text="HTTP 401")).to_be_visible()
    await page.get_by_label(re.compile("Consumer key")).fill(key)
    await page.get_by_role("button", name="List tools").click()
    await expect(page.get_by_role("heading", name="1 tool")).to_be_visible()
    await page.get_by_label("Arguments (JSON)").fill('{"petId": 7}')
    await page.get_by_role("button", name="Run").click()
    await expect(page.get_by_role("heading", name=re.compile(r"^Result in \d+ ms"))).to_be_visible()
    await expect(page.locator("pre.result")).to_contain_text("/echo/pet/7")
    assert backend.last.headers["api_key"] == "k-console"  # the credential set on the Tools page
    await shot(page, "08-debug-result")
    await page.get_by_label("Tool", exact=True).fill("findPetsByStatus")
    await page.get_by_label("Arguments (JSON)").fill("{}")
    await page.get_by_role("button", name="Run").click()
    await expect(page.get_by_role("heading", name=re.compile(r"^Refused in"))).to_be_visible()
    await shot(page, "09-debug-refused")

    await page.goto(server_url)
    # Roll back the last publish (the reviewed description): the revision before it is published again.
    revisions = page.locator("table").last.locator("tbody tr")
    earlier = (await revisions.nth(1).locator("th").text_content() or "").strip()
    page.once("dialog", lambda dialog: dialog.accept())
    await revisions.nth(1).get_by_role("button", name="Roll back").click()
    await expect(page.get_by_text(re.compile(rf"Rolled back: revision {earlier} is published"))).to_be_visible()
    assert await page.get_by_text("Pets, reviewed").count() == 0
    await revisions.first.get_by_role("button", name="Diff").click()
    await expect(revisions.first.locator("td.diff")).to_contain_text("Pets, reviewed")
    await shot(page, "10-revisions")
    # Undeploy (the edge answers 404 for it) and deploy again.
    endpoint = (await page.locator("code.endpoint").first.text_content() or "").strip()
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    await page.get_by_role("button", name="Undeploy", exact=True).click()
    await expect(page.get_by_text("pets is no longer served.")).to_be_visible()
    assert (await page.request.post(endpoint, data=init, headers=headers)).status == 404
    await page.get_by_role("button", name="Deploy", exact=True).click()
    await expect(page.get_by_text("pets is deployed.")).to_be_visible()
    assert (await page.request.post(endpoint, data=init, headers=headers)).status == 200

    # Statistics: the calls made from the Debug page, the granted one (counted by toolexec) and the
    # refused one (a protocol error, counted by the edge); each flushes within a second.
    stats_url = server_url + "/stats"
    calls = page.locator('[data-metric="calls"]')
    for _ in range(30):
        await page.goto(stats_url)
        await expect(calls).to_be_visible()
        if int(await calls.text_content() or "0") >= 2:
            break
        await page.wait_for_timeout(500)  # the statistics flush runs every second; poll the page
    assert int(await calls.text_content() or "0") == 2
    await expect(page.locator('[data-metric="protocolErrors"]')).to_have_text("1")
    await expect(page.get_by_role("rowheader", name="getPetById")).to_be_visible()
    await shot(page, "11-statistics")

    # The services list: type, deploy status, tools and today's calls per service.
    await page.get_by_role("link", name="MCP services").click()
    row = page.get_by_role("row", name=re.compile(r"^pets "))
    await expect(row).to_contain_text("REST-converted")
    await expect(row.get_by_role("cell").nth(4)).to_have_text("18")  # petstore-v3's 19 operations, 1 left out
    await shot(page, "12-services")

    # What services draw on: a domain and a backend service, added and listed.
    await page.get_by_role("link", name="Domains").click()
    await expect(page.get_by_role("heading", name="Domains", exact=True)).to_be_visible()
    await page.get_by_label("Host name").fill("mcp.example.com")
    await page.get_by_role("button", name="Add").click()
    await expect(page.get_by_role("rowheader", name="mcp.example.com")).to_be_visible()
    await shot(page, "13-domains")
    await page.get_by_role("link", name="Backend services").click()
    await expect(page.get_by_role("heading", name="Backend services", exact=True)).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("api")
    await page.get_by_label("Addresses (host:port, comma-separated)").fill("api.internal:443")
    await page.get_by_label("Protocol").select_option("HTTPS")
    await page.get_by_role("button", name="Add").click()
    await expect(page.get_by_role("row", name=re.compile(r"^api DNS api\.internal:443 HTTPS"))).to_be_visible()
    await shot(page, "14-backend-services")
