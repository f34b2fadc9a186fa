"""The console in Firefox (issue 14: "current Chromium and Firefox"): Debian's firefox-esr driven over
WebDriver BiDi by puppeteer-core (tests/console/firefox_flow.mjs) through a short real flow: log in,
create a server and see its endpoints, import an OpenAPI document through the Tools page, and run
one of its tools from Debug against a real backend, with no error thrown by the page.

Playwright drives only its own patched Firefox build, which cannot be downloaded here; a stock
Firefox speaks WebDriver BiDi itself, and puppeteer-core (no browser download) talks it. Its npm
package is installed on first use into `.run/node/` (tests/node.py), then used offline.
Screenshots land in `.artifacts/console/firefox-*.png`.

Over BiDi, Firefox reports a script error and a Content-Security-Policy refusal (an inline script or
style) alike as a page error, and the flow fails on any.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.backends import Backend
from tests.cluster import ADMIN_TOKEN
from tests.console.browser import SHOTS, UNLABELED
from tests.node import node_env, node_program, npm_package
from tests.util import run_to_end

FIREFOX = shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
HAVE_FIREFOX = os.path.exists(FIREFOX)
PUPPETEER_VERSION = "25.19.0"
FLOW = Path(__file__).with_name("firefox_flow.mjs")
TIMEOUT = 90.0  # s: the flow's own deadline is 60 s, so it closes Firefox before this kills it

SPEC = """\
openapi: 3.0.3
info: {title: Things, version: "1"}
paths:
  /things/{thingId}:
    get:
      operationId: getThing
      summary: One thing by its id
      parameters:
        - {name: thingId, in: path, required: true, schema: {type: integer}}
      responses: {"200": {description: the thing}}
  /things:
    get:
      operationId: listThings
      summary: Every thing
      responses: {"200": {description: the things}}
"""


@pytest.fixture
async def puppeteer() -> Path:
    """puppeteer-core, installed on first use; the test skips first where Firefox is not installed."""
    if not HAVE_FIREFOX:
        pytest.skip("Debian's firefox-esr is not installed (make bootstrap installs it when run as root)")
    return await npm_package("puppeteer-core", PUPPETEER_VERSION)


async def test_the_console_flow_in_firefox(puppeteer: Path, console: str, backend: Backend, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("firefox-*.png"):
        old.unlink()  # what is there afterwards is this run's
    spec = tmp_path / "things.openapi.yaml"
    spec.write_text(SPEC)
    config = tmp_path / "flow.json"
    config.write_text(json.dumps({
        "puppeteer": str(puppeteer), "firefox": FIREFOX, "console": console, "token": ADMIN_TOKEN,
        "server": "things", "spec": str(spec), "baseUrl": f"{backend.url}/echo", "shots": str(SHOTS),
        "unlabeled": UNLABELED}))
    code, out, err = await run_to_end([node_program(), str(FLOW), str(config)], TIMEOUT, env=node_env(tmp_path))
    assert code == 0, f"exit {code}\n{out}\n{err}"
    *steps, last = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert last["ok"] is True, out
    assert last["consoleErrors"] == [], out  # what the console itself logs as an error
    assert [s["step"] for s in steps][1:] == ["01-login-refused", "02-services", "03-server", "04-import-preview",
                                              "05-imported", "06-debug-result"], out
    assert sorted(p.name for p in SHOTS.glob("firefox-*.png")) == [f"firefox-{s['step']}.png" for s in steps[1:]]
    # The Debug page's call reached the backend, as the tool's template says.
    assert backend.last.method == "GET" and backend.last.path == "/echo/things/7"
