"""`pmsync report`: the page opened in a real headless Chromium (Debian's, driven by Playwright):
it renders without console errors or outside requests, its numbers and charts match the data,
and its filters work."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request, sync_playwright

from connectors.extract import extract_file
from connectors.trackers.local import LocalTracker
from syncer.cli import main
from syncer.digest import digest
from syncer.pipeline import sync
from syncer.report import collect, figures
from syncer.review import review_draft
from syncer.settings import Settings, load_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
T0 = datetime(2026, 3, 4, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=40)
DOCS = {
    "pm-7.md": """---
id: PM-7
title: Checkout latency
date: 2026-03-04
team: payments
---
# Checkout latency

## Action items

| Action | Owner | Due |
|---|---|---|
| Alert when the pool is above 90% for 5 minutes | Dana Kim | 2026-03-14 |
| Version the settings file and deploy it through the pipeline | Sam Rivera | 2026-06-13 |
| Load-test checkout at twice last year's peak | Dana Kim | 2026-03-20 |
""",
    "pm-8.md": """---
id: PM-8
title: DNS failures
date: 2026-03-25
team: platform
---
# DNS failures

## Action items

- [ ] Add a PodDisruptionBudget for CoreDNS keeping 2 of 3 replicas up (Owner: Sam Rivera, Due: 2026-04-01)
- [ ] Add a synthetic probe that resolves five internal names every 30 s (Owner: Dana Kim, Due: 2026-05-30)
""",
}
PEOPLE = '[[people]]\nname = "Dana Kim"\n\n[[people]]\nname = "Sam Rivera"\n'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "docs").mkdir()
    for name, text in DOCS.items():
        (tmp_path / "docs" / name).write_text(text)
    (tmp_path / "people.toml").write_text(PEOPLE)
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[trackers.local]\nkind = "local"\n[routing]\ndefault = "local"\n'
    )
    return load_settings(tmp_path / "config.toml")


def _tracker(settings: Settings, when: datetime, user: str = "pmsync") -> LocalTracker:
    store = settings.path(settings.state_dir) / "local-tracker.sqlite3"
    return LocalTracker("local", store, user=user, clock=lambda: when)


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    """PM-7 filed at T0, its load test done on day 10; PM-8 filed three weeks later."""
    docs = settings.path(Path("docs"))
    held = docs / "pm-8.md"
    aside = docs.parent / "pm-8.md"
    held.rename(aside)
    sync(settings, dry_run=False, trackers={"local": _tracker(settings, T0)})
    aside.rename(held)
    sync(settings, dry_run=False, trackers={"local": _tracker(settings, T0 + timedelta(days=21))})
    done = next(s for s in _tracker(settings, T0).snapshot() if s.title.startswith("Load-test"))
    _tracker(settings, T0 + timedelta(days=10), "Dana Kim").close(done.ref, "completed")
    return settings


def test_the_figures(seeded: Settings) -> None:
    numbers = figures(collect(seeded, now=NOW))
    assert numbers["postmortems"] == 2
    assert numbers["items"] == 5
    assert (numbers["open"], numbers["done"], numbers["not_synced"]) == (4, 1, 0)
    assert numbers["overdue"] == 2  # the alert (due 03-14) and the PDB (due 04-01)
    assert numbers["overdue_by_team"] == {"payments": 1, "platform": 1}
    assert numbers["age"] == {"0–7 days": 0, "8–30 days": 2, "31–90 days": 2, "over 90 days": 0}
    weeks = numbers["over_time"]
    assert weeks[0] == {"week": "2026-03-08", "open": 3, "closed": 0}
    assert weeks[1] == {"week": "2026-03-15", "open": 2, "closed": 1}
    assert weeks[-1] == {"week": "2026-04-13", "open": 4, "closed": 1}


@pytest.fixture
def browser() -> Iterator[Browser]:
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


def test_the_page_in_chromium(
    seeded: Settings, tmp_path: Path, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    argv = ["--config", str(tmp_path / "config.toml"), "report", "--out", str(out)]
    assert main([*argv, "--now", NOW.isoformat()]) == 0
    assert "2 post-mortems, 5 items, 4 open, 1 done, 2 overdue" in capsys.readouterr().out
    numbers = figures(collect(seeded, now=NOW))

    page = browser.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: None if _is_local(r) else outside.append(r.url))
    page.goto(out.as_uri())
    page.wait_for_load_state("load")

    for key in ("postmortems", "items", "open", "done", "overdue", "not_synced"):
        assert page.inner_text(f'[data-figure="{key}"] b') == str(numbers[key]), key
    bars = page.eval_on_selector_all(
        '[data-chart="age"] .bar', "els => els.map(e => [e.dataset.label, +e.dataset.value])"
    )
    assert dict(bars) == numbers["age"]
    widths = page.eval_on_selector_all(
        '[data-chart="age"] rect', "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert widths[1] == pytest.approx(widths[2])
    assert widths[1] > 0
    assert widths[0] == 0
    bars = page.eval_on_selector_all(
        '[data-chart="overdue-by-team"] .bar',
        "els => els.map(e => [e.dataset.label, +e.dataset.value])",
    )
    assert dict(bars) == numbers["overdue_by_team"]
    points = page.eval_on_selector_all(
        '[data-chart="over-time"] circle[data-series="open"]',
        "els => els.map(e => [e.dataset.week, +e.dataset.value])",
    )
    assert points == [[w["week"], w["open"]] for w in numbers["over_time"]]
    assert page.locator("[data-chart] svg").count() == 3

    def shown() -> int:
        return int(page.inner_text("#shown"))

    assert shown() == 5
    assert page.locator("#items tbody tr:visible").count() == 5
    page.select_option('select[name="team"]', "platform")
    assert shown() == 2
    assert page.locator("#items tbody tr:visible").count() == 2
    page.select_option('select[name="team"]', "")
    page.select_option('select[name="status"]', "done")
    assert shown() == 1
    assert "Load-test" in page.inner_text("#items tbody tr:visible")
    page.select_option('select[name="status"]', "")
    page.select_option('select[name="owner"]', "Sam Rivera")
    assert shown() == 2

    assert errors == []
    assert outside == []


def _is_error(message: ConsoleMessage) -> bool:
    return message.type == "error"


def _is_local(request: Request) -> bool:
    return request.url.startswith(("file:", "data:", "about:"))


def test_items_done_in_the_post_mortem_count_as_done_everywhere(tmp_path: Path) -> None:
    """One item done before it was ever filed, one done in the document after filing: both are
    done in the report, the digest's completion rate and the review issue's table."""
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "pm-9.md"
    doc.write_text(
        "---\nid: PM-9\ntitle: Queue outage\ndate: 2026-03-04\nteam: payments\n---\n"
        "# Queue outage\n\n## Action items\n\n"
        "- [x] Raise the queue limit to 10k (Owner: Dana Kim)\n"
        "- [ ] Alert on queue depth (Owner: Dana Kim, Due: 2026-03-20)\n"
        "- [ ] Write the failover runbook (Owner: Sam Rivera, Due: 2026-05-20)\n"
    )
    (tmp_path / "people.toml").write_text(PEOPLE)
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[digest.lists.ops]\nchannels = ["json://127.0.0.1:9/"]\n'
    )
    settings = load_settings(tmp_path / "config.toml")
    sync(settings, dry_run=False, trackers={"local": _tracker(settings, T0)})
    doc.write_text(doc.read_text().replace("- [ ] Alert", "- [x] Alert"))  # not synced since
    numbers = figures(collect(settings, now=NOW))
    assert (numbers["items"], numbers["open"], numbers["done"]) == (3, 1, 2)
    assert numbers["overdue"] == 0  # the alert is done, though its issue is still open
    (built,) = digest(settings, now=NOW, dry_run=True).digests
    assert built.figures.completion_rate == pytest.approx(2 / 3)
    assert built.figures.open == 1
    snapshots = {s.item_key: s for s in _tracker(settings, NOW).snapshot()}
    review = review_draft(extract_file(doc), snapshots, None, None, date(2026, 4, 1)).body
    assert "| Raise the queue limit to 10k | Dana Kim | none | done | - |" in review
    assert "| Alert on queue depth | Dana Kim | 2026-03-20 | done |" in review
