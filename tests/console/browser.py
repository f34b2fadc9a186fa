"""What every console browser test does with a page: screenshots kept in `.artifacts/console/` (not
committed), each with the check that every form control on the page has a name."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

SHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "console"

# Form controls a screen reader could not name: no <label>, aria-label or aria-labelledby.
UNLABELED = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden" && el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length))
  .filter((el) => !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
  .map((el) => el.outerHTML.slice(0, 120))"""


async def shot(page: Page, name: str) -> None:
    """A screenshot of the page, and the check that every control on it has a name."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert await page.evaluate(UNLABELED) == [], f"{name}: form controls without a label"


