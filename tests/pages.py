"""Pages opened in a real headless Chromium (Debian's, driven by Playwright): what every page
of pmsync must do in a browser, at desktop and phone widths."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1920, "height": 1080}


def browser_session() -> Iterator[Browser]:
    """A headless Chromium for a test module's fixture; skipped where none is installed,
    except in CI, where .ci/run installs it."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip("Chromium is not installed here (apt-get install chromium)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


class Opened:
    """A page loaded from a file, with what went wrong while it loaded and ran."""

    def __init__(self, browser: Browser, path: Path, viewport: dict[str, int]) -> None:
        self.page: Page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if _is_error(m) else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("request", lambda r: None if _is_local(r) else self.outside.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def overflow(self) -> list[str]:
        """Elements wider than the window, and by how much the page scrolls sideways."""
        found: list[str] = self.page.evaluate(
            """() => {
              const width = document.documentElement.clientWidth;
              const wide = [];
              if (document.documentElement.scrollWidth > width) {
                wide.push("page scrolls sideways: " + document.documentElement.scrollWidth);
              }
              for (const el of document.body.querySelectorAll("*")) {
                if (el.closest("svg") && el.tagName !== "svg") { continue; }  // clipped
                const box = el.getBoundingClientRect();
                if (box.width > 0 && (box.right > width + 0.5 || box.left < -0.5)) {
                  wide.push(el.tagName + (el.id ? "#" + el.id : "") + " " + Math.round(box.right));
                }
              }
              return wide.slice(0, 10);
            }"""
        )
        return found

    def broken_words(self) -> list[str]:
        """Words (and dates) the layout split across two lines. A compound breaks at its
        hyphen as text does; a date never does."""
        found: list[str] = self.page.evaluate(
            r"""() => {
              const broken = [];
              const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
              const range = document.createRange();
              for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                if (node.parentElement.closest("svg,script,style,option")) { continue; }
                const words = /\d{4}-\d{2}-\d{2}|[^\s\-–—]+/g;
                for (let m = words.exec(node.textContent); m; m = words.exec(node.textContent)) {
                  range.setStart(node, m.index);
                  range.setEnd(node, m.index + m[0].length);
                  const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
                  if (new Set(rects.map(r => Math.round(r.bottom))).size > 1) {
                    broken.push(m[0]);
                  }
                }
              }
              return broken.slice(0, 10);
            }"""
        )
        return found

    def data(self, selector: str, *names: str) -> list[list[Any]]:
        """Each matching element's `data-*` values, numbers as numbers."""
        script = (
            "(els, names) => els.map(e => names.map(n => {"
            " const v = e.dataset[n]; return v !== '' && !isNaN(+v) ? +v : v; }))"
        )
        found: list[list[Any]] = self.page.eval_on_selector_all(selector, script, list(names))
        return found

    def close(self) -> None:
        self.page.close()


def _is_error(message: ConsoleMessage) -> bool:
    return message.type == "error"


def _is_local(request: Request) -> bool:
    return request.url.startswith(("file:", "data:", "about:"))


def assert_reads_well(browser: Browser, path: Path) -> None:
    """No console error, no outside request, nothing wider than a phone, a laptop or a wide
    screen, and no word or date broken across two lines at any of them."""
    for viewport in (PHONE, DESKTOP, WIDE):
        opened = Opened(browser, path, viewport)
        try:
            assert opened.errors == [], f"{viewport}: {opened.errors}"
            assert opened.outside == [], f"{viewport}: {opened.outside}"
            wide = opened.overflow()
            assert wide == [], f"{viewport['width']} px wide: {wide}"
            broken = opened.broken_words()
            assert broken == [], f"{viewport['width']} px wide, words broken: {broken}"
        finally:
            opened.close()
