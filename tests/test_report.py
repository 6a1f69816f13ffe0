"""`pmsync report`: the page opened in a real headless Chromium (Debian's, driven by Playwright):
it renders without console errors or outside requests, its numbers and charts match the data,
and its filters work."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from connectors.extract import extract_file
from connectors.trackers.local import LocalTracker
from syncer.cli import main
from syncer.digest import digest, render_text
from syncer.pipeline import sync
from syncer.report import collect, figures, render_json
from syncer.review import review_draft
from syncer.settings import Settings, load_settings
from tests.pages import DESKTOP, Opened, assert_reads_well, browser_session

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
    totals = numbers["totals"]
    assert (totals["postmortems"], totals["items"]) == (2, 5)
    assert (totals["open"], totals["done"], totals["not_synced"]) == (4, 1, 0)
    assert totals["overdue"] == 2  # the alert (due 03-14) and the PDB (due 04-01)
    assert {t["team"]: t["overdue"] for t in numbers["teams"]} == {"payments": 1, "platform": 1}
    assert numbers["teams"][0]["oldest_overdue_days"] == 30  # the alert, first: longest late
    # The backlog week by week (weeks from Monday) from created and closed times.
    weeks = numbers["weeks"]
    assert weeks[0] == {"week": "2026-03-02", "opened": 3, "closed": 0, "open": 3}
    assert weeks[1] == {"week": "2026-03-09", "opened": 0, "closed": 1, "open": 2}
    assert weeks[3] == {"week": "2026-03-23", "opened": 2, "closed": 0, "open": 4}
    assert weeks[-1] == {"week": "2026-04-13", "opened": 0, "closed": 0, "open": 4}
    # Due in Q1: the alert (late) and the load test (closed 03-14, due 03-20); in Q2 only the
    # PDB has an outcome yet (late); the others are open and not due.
    assert [(r["quarter"], r["due"], r["on_time"]) for r in numbers["on_target"]["priority"]] == [
        ("2026-Q1", 2, 1),
        ("2026-Q2", 1, 0),
    ]
    assert numbers["time_to_close"] == [
        {"group": "(none)", "closed": 1, "median_days": 10.0, "p90_days": 10.0}
    ]
    assert [(p["id"], p["done"], p["items"]) for p in numbers["postmortems"]] == [
        ("PM-7", 1, 3),
        ("PM-8", 0, 2),
    ]
    # PM-7's review was due four weeks after 2026-03-04 and no review issue is open.
    assert [p["review_overdue"] for p in numbers["postmortems"]] == [True, False]
    assert numbers["all_done"] == {"postmortems": 2, "all_done": 0, "share": 0.0}


def test_the_comparable_measures_equal_those_computed_from_the_tracker(seeded: Settings) -> None:
    """The age of open items, and on-time completion by team, recomputed here from the
    tracker's issues alone."""
    numbers = figures(collect(seeded, now=NOW))
    issues = _tracker(seeded, NOW).snapshot()
    ages = sorted((NOW - s.created_at).total_seconds() / 86400 for s in issues if s.state == "open")
    assert ages == [19.0, 19.0, 40.0, 40.0]
    overall = numbers["open_age"][0]
    assert overall == {"group": "all", "open": 4, "median_days": 29.5, "p90_days": 40.0}
    assert [(a["group"], a["open"], a["median_days"]) for a in numbers["open_age"][1:]] == [
        ("payments", 2, 40.0),
        ("platform", 2, 19.0),
    ]
    assert [
        (r["quarter"], r["group"], r["due"], r["on_time"]) for r in numbers["on_target"]["team"]
    ] == [
        ("2026-Q1", "payments", 2, 1),
        ("2026-Q2", "platform", 1, 0),
    ]
    assert numbers["unverified"][0]["unknown"] == 1  # closed, its history not read yet
    from syncer.check import check

    check(seeded, now=NOW, dry_run=False, trackers={"local": _tracker(seeded, NOW)})
    numbers = figures(collect(seeded, now=NOW))
    assert numbers["time_to_assignment"][0] == {
        "group": "all",
        "assigned": 5,  # every issue was filed with its owner assigned
        "median_days": 0.0,
        "p90_days": 0.0,
    }
    assert numbers["unverified"][0] == {
        "group": "all",
        "closed": 1,
        "unverified": 1,  # the load test was closed with no change linked
        "share": 1.0,
        "unknown": 0,
    }
    # The rows carry the same: one closed with no linked change, five assigned when filed.
    rows = json.loads(render_json(collect(seeded, now=NOW)))["rows"]
    assert [r["linked_change"] for r in rows].count("no") == 1
    assert [r["assigned_days"] for r in rows] == [0.0] * 5


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from browser_session()


def check_page(browser: Browser, path: Path, numbers: dict[str, Any]) -> Opened:
    """The page shows `numbers`: its cards, every chart (none empty), the team and post-mortem
    tables; and it reads well at desktop and phone widths. Returns the page, open."""
    assert_reads_well(browser, path)
    opened = Opened(browser, path, DESKTOP)
    page = opened.page
    for key, value in numbers["totals"].items():
        if page.locator(f'[data-figure="{key}"]').count():
            assert page.inner_text(f'[data-figure="{key}"] b') == str(value), key
    charts = page.eval_on_selector_all(
        "[data-chart]",
        "els => els.map(e => [e.dataset.chart, e.querySelectorAll('.bar,.point,.week').length])",
    )
    assert [name for name, marks in charts if not marks] == [], "empty charts"
    weeks = numbers["weeks"]
    assert opened.data('[data-chart="backlog"] .point', "week", "value") == [
        [w["week"], w["open"]] for w in weeks
    ]
    assert opened.data('[data-chart="opened-closed"] .week', "week", "opened", "closed") == [
        [w["week"], w["opened"], w["closed"]] for w in weeks
    ]
    for kind in ("priority", "severity"):
        assert opened.data(f'[data-chart="on-target-{kind}"] .bar', "label", "value") == [
            [f"{r['quarter']} {r['group']}", round(100 * r["share"], 1)]
            for r in numbers["on_target"][kind]
        ]
    assert opened.data('[data-chart="time-to-close"] .bar', "label", "median", "p90") == [
        [r["group"], r["median_days"], r["p90_days"]] for r in numbers["time_to_close"]
    ]
    teams = page.eval_on_selector_all(
        "#teams tbody tr", "rows => rows.map(r => Array.from(r.cells, c => c.innerText))"
    )
    assert [[t[0], *map(int, t[1:5])] for t in teams] == [
        [t["team"], t["open"], t["overdue"], t["stalled"], t["unowned"]] for t in numbers["teams"]
    ]
    bars = opened.data('[data-chart="overdue-by-team"] .bar', "label", "value")
    assert bars == [[t["team"], t["overdue"]] for t in numbers["teams"] if t["overdue"]]
    progress = page.eval_on_selector_all(
        "#postmortems progress", "els => els.map(e => [+e.value, +e.max])"
    )
    assert progress == [[p["done"], p["items"]] for p in numbers["postmortems"]]
    return opened


def test_the_page_in_chromium(
    seeded: Settings, tmp_path: Path, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    # The issues' history as `check` keeps it (without the review issues check would open).
    from syncer.history import IssueHistory

    history = IssueHistory.load(seeded.path(seeded.state_dir))
    tracker = _tracker(seeded, NOW)
    issues = tracker.snapshot()
    read = tracker.activities([issue.ref for issue in issues])
    for issue in issues:
        history.learn(issue, read[issue.ref])
    history.save()
    out = tmp_path / "report.html"
    argv = ["--config", str(tmp_path / "config.toml"), "report", "--out", str(out)]
    assert main([*argv, "--now", NOW.isoformat()]) == 0
    assert "2 post-mortems, 5 items, 4 open, 1 done, 2 overdue" in capsys.readouterr().out
    numbers = figures(collect(seeded, now=NOW))
    opened = check_page(browser, out, numbers)
    page = opened.page

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
    page.select_option('select[name="flag"]', "overdue")
    assert shown() == numbers["totals"]["overdue"] == 2
    assert "30 days overdue" in page.inner_text("#items")
    page.select_option('select[name="flag"]', "stalled")
    assert shown() == numbers["totals"]["stalled"]
    page.select_option('select[name="flag"]', "")
    page.select_option('select[name="owner"]', "Sam Rivera")
    assert shown() == 2
    page.select_option('select[name="owner"]', "")

    def column(name: str) -> list[str]:
        index = ["Item", "Post-mortem", "Team", "Owner", "Priority", "Due", "Issue", "Status"]
        found: list[str] = page.eval_on_selector_all(
            "#items tbody tr", f"rows => rows.map(r => r.cells[{index.index(name)}].innerText)"
        )
        return found

    # Most urgent first: the overdue, longest overdue first; then by due date; done last.
    assert all(status.startswith("open") for status in column("Status")[:2])
    assert "30 days overdue" in column("Status")[0]
    assert "12 days overdue" in column("Status")[1]
    assert column("Status")[-1].startswith("done")
    page.click('#items th:has-text("Due")')
    assert column("Due") == sorted(column("Due"))
    page.click('#items th:has-text("Due")')
    assert column("Due") == sorted(column("Due"), reverse=True)
    assert "review overdue" in page.inner_text('#postmortems tr[data-postmortem="PM-7"]')
    assert "review overdue" not in page.inner_text('#postmortems tr[data-postmortem="PM-8"]')
    assert page.inner_text('[data-figure="all_done"] b') == "0%"
    assert page.inner_text('[data-figure="open_age"] b') == "29.5 d"
    assert page.inner_text('[data-figure="time_to_assignment"] b') == "0 d"
    assert page.inner_text('[data-figure="unverified"] b') == "1"
    assert "of 1 closed" in page.inner_text('[data-figure="unverified"]')
    assert opened.errors == []
    assert opened.outside == []


def test_csv_and_json_carry_the_page_s_figures(
    seeded: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", str(tmp_path / "config.toml"), "report", "--now", NOW.isoformat()]
    assert main([*argv, "--format", "csv", "--out", str(tmp_path / "items.csv")]) == 0
    assert "items.csv: 2 post-mortems, 5 items" in capsys.readouterr().out
    assert main([*argv, "--format", "json", "--out", "-"]) == 0
    shown = capsys.readouterr()
    exported = json.loads(shown.out)  # the summary goes to standard error
    assert "-: 2 post-mortems, 5 items" in shown.err
    numbers = figures(collect(seeded, now=NOW))
    raw = (tmp_path / "items.csv").read_bytes()
    assert raw.count(b"\r\n") == 6  # RFC 4180: a header and five rows, CRLF line ends
    assert b"\n" not in raw.replace(b"\r\n", b"")
    rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    totals = numbers["totals"]
    assert len(rows) == len(exported["rows"]) == totals["items"]
    assert sum(r["status"] == "open" for r in rows) == totals["open"]
    assert sum(r["status"] == "done" for r in rows) == totals["done"]
    for flag in ("overdue", "stalled", "unowned", "no_due_date"):
        assert sum(r[flag] == "yes" for r in rows) == totals[flag], flag
    assert {r["days_overdue"] for r in rows if r["overdue"] == "yes"} == {"30", "12"}
    assert exported["totals"] == totals
    assert exported["weeks"] == numbers["weeks"]
    for key in ("on_target", "time_to_close", "open_age", "all_done", "postmortems"):
        assert exported[key] == numbers[key], key
    assert {r["assigned_days"] for r in rows} == {""}  # no history read yet
    # The open items' ages, from the CSV's rows alone, are the page's measure.
    ages = sorted(float(r["age_days"]) for r in rows if r["status"] == "open")
    assert ages == [19.0, 19.0, 40.0, 40.0]
    assert numbers["open_age"][0]["median_days"] == (ages[1] + ages[2]) / 2


def _queue_outage(tmp_path: Path, items: str) -> tuple[Path, Settings]:
    """The post-mortem PM-9 with `items` in its action section, and a digest list."""
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "pm-9.md"
    doc.write_text(
        "---\nid: PM-9\ntitle: Queue outage\ndate: 2026-03-04\nteam: payments\n---\n"
        "# Queue outage\n\n## Action items\n\n" + items
    )
    (tmp_path / "people.toml").write_text(PEOPLE)
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[digest.lists.ops]\nchannels = ["json://127.0.0.1:9/"]\n'
    )
    return doc, load_settings(tmp_path / "config.toml")


def test_items_done_in_the_post_mortem_count_as_done_everywhere(tmp_path: Path) -> None:
    """One item done before it was ever filed, one done in the document after filing: both are
    done in the report, the digest's completion rate and the review issue's table."""
    doc, settings = _queue_outage(
        tmp_path,
        "- [x] Raise the queue limit to 10k (Owner: Dana Kim)\n"
        "- [ ] Alert on queue depth (Owner: Dana Kim, Due: 2026-03-20)\n"
        "- [ ] Write the failover runbook (Owner: Sam Rivera, Due: 2026-05-20)\n",
    )
    sync(settings, dry_run=False, trackers={"local": _tracker(settings, T0)})
    doc.write_text(doc.read_text().replace("- [ ] Alert", "- [x] Alert"))  # not synced since
    numbers = figures(collect(settings, now=NOW))["totals"]
    assert (numbers["items"], numbers["open"], numbers["done"]) == (3, 1, 2)
    assert numbers["overdue"] == 0  # the alert is done, though its issue is still open
    (built,) = digest(settings, now=NOW, dry_run=True).digests
    assert built.figures.completion_rate == pytest.approx(2 / 3)
    assert built.figures.open == 1
    snapshots = {s.item_key: s for s in _tracker(settings, NOW).snapshot()}
    review = review_draft(extract_file(doc), snapshots, None, None, date(2026, 4, 1)).body
    assert "| Raise the queue limit to 10k | Dana Kim | none | done | - |" in review
    assert "| Alert on queue depth | Dana Kim | 2026-03-20 | done |" in review


def test_an_item_removed_from_the_post_mortem_is_dropped_never_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Removed from its post-mortem, an item's issue is closed as not planned: the report, its
    CSV, the digest and the review table call it dropped, and the completion rate leaves it
    out; one closed as completed is done."""
    alert = "- [ ] Alert on queue depth (Owner: Dana Kim, Due: 2026-06-20)\n"
    doc, settings = _queue_outage(
        tmp_path,
        "- [ ] Raise the queue limit to 10k (Owner: Dana Kim, Due: 2026-06-20)\n"
        + alert
        + "- [ ] Write the failover runbook (Owner: Sam Rivera, Due: 2026-06-20)\n",
    )
    sync(settings, dry_run=False, trackers={"local": _tracker(settings, T0)})
    doc.write_text(doc.read_text().replace(alert, ""))
    later = NOW - timedelta(hours=1)
    run = sync(settings, dry_run=False, trackers={"local": _tracker(settings, later)})
    assert [o.action.close_reason for o in run.outcomes if o.action.op == "close"] == [
        "not_planned"
    ]
    tracker = _tracker(settings, later)
    runbook = next(s for s in tracker.snapshot() if s.title.startswith("Write"))
    tracker.close(runbook.ref, "completed")

    numbers = figures(collect(settings, now=NOW))["totals"]
    assert (numbers["items"], numbers["open"], numbers["done"], numbers["dropped"]) == (3, 1, 1, 1)
    argv = ["--config", str(tmp_path / "config.toml"), "report", "--now", NOW.isoformat()]
    assert main([*argv, "--format", "csv", "--out", str(tmp_path / "items.csv")]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "items.csv").read_text(), newline="")))
    assert {r["item"]: r["status"] for r in rows} == {
        "Raise the queue limit to 10k": "open",
        "Alert on queue depth": "dropped",
        "Write the failover runbook": "done",
    }
    (built,) = digest(settings, now=NOW, dry_run=True).digests
    assert built.figures.completion_rate == pytest.approx(1 / 2)
    assert [e.snapshot.title for e in built.sections["dropped"]] == ["Alert on queue depth"]
    assert [e.snapshot.title for e in built.sections["completed"]] == ["Write the failover runbook"]
    text = render_text(built)
    assert "DROPPED SINCE THE LAST DIGEST (1)\n  - Alert on queue depth" in text
    assert "0 opened, 1 closed, 1 dropped, 0 newly overdue" in text
    raised = next(s for s in tracker.snapshot() if s.title.startswith("Raise"))
    tracker.close(raised.ref, "not_planned")  # abandoned in the tracker
    snapshots = {s.item_key: s for s in tracker.snapshot()}
    review = review_draft(extract_file(doc), snapshots, None, None, date(2026, 4, 1)).body
    assert "| Write the failover runbook | Sam Rivera | 2026-06-20 | done |" in review
    assert "| Raise the queue limit to 10k | Dana Kim | 2026-06-20 | dropped |" in review


def test_the_width_check_catches_a_page_wider_than_a_phone(
    tmp_path: Path, browser: Browser
) -> None:
    page = tmp_path / "wide.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width">'
        '</head><body><table><tr><td style="white-space:nowrap">' + "wide " * 60 + "</td></tr>"
        "</table></body></html>"
    )
    with pytest.raises(AssertionError, match="scrolls sideways"):
        assert_reads_well(browser, page)


def test_the_word_check_catches_a_word_broken_across_lines(
    tmp_path: Path, browser: Browser
) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width">'
        '</head><body><table><tr><td style="overflow-wrap:anywhere;width:30px">Priority '
        "2026-12-01</td><td>" + "word " * 80 + "</td></tr></table></body></html>"
    )
    with pytest.raises(AssertionError, match="words broken: \\['Priority', '2026-12-01'"):
        assert_reads_well(browser, page)


def test_with_less_than_four_weeks_of_history_the_page_says_so_instead_of_drawing(
    seeded: Settings,
) -> None:
    from syncer.report import render

    early = render(collect(seeded, now=T0 + timedelta(days=10)))
    assert "Trends need 4 weeks of history; there are 2 weeks so far." in early
    assert 'data-chart="backlog"' not in early
    assert 'data-chart="backlog"' in render(collect(seeded, now=NOW))
