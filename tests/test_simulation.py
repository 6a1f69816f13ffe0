"""Six months of post-mortems on the fake GitHub and Jira servers, their clocks moved week by
week: payments files to GitHub and falls behind (items closed late, then not at all), platform
files to Jira and closes on time. Then the program manager's view is held against figures
computed here, independently, from the fake servers' own data: the report (page, JSON, CSV),
the digest and the metrics all agree."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser
from prometheus_client import REGISTRY

from syncer import logs
from syncer.check import check
from syncer.cli import main
from syncer.digest import digest, render_text
from syncer.errors import STOPPING
from syncer.identity import parse_marker
from syncer.pipeline import sync
from syncer.report import collect, figures
from syncer.settings import Settings, load_settings
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import FakeJira
from tests.pages import browser_session
from tests.test_report import check_page

START = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday
WEEKS = 26
END = START + timedelta(weeks=WEEKS, hours=1)
PEOPLE = (
    "".join(
        f'[[people]]\nname = "{name}"\ngithub = "{handle}"\njira = "acc-{handle}"\n'
        f'team = "{team}"\nmanager = "Lee Park"\n\n'
        for name, handle, team in (
            ("Dana Kim", "dana", "payments"),
            ("Sam Rivera", "sam", "payments"),
            ("Priya N", "priya", "platform"),
            ("Alex Moreau", "alex", "platform"),
        )
    )
    + '[[people]]\nname = "Lee Park"\ngithub = "lee"\njira = "acc-lee"\nemail = "lee@acme.test"\n'
)
OWNERS = {"payments": ("Dana Kim", "Sam Rivera"), "platform": ("Priya N", "Alex Moreau")}
WEEKS_TO_DUE = {"P1": 4, "P2": 8}


@dataclass
class Item:
    title: str
    team: str
    priority: str
    severity: str
    due: date
    close_on: date | None  # when its owner closes it, if ever


def _plan() -> tuple[list[tuple[int, str, str, list[Item]]], dict[str, Item]]:
    """A post-mortem every fortnight, teams taking turns, three items each. Platform closes
    each item three days before its due date; payments ten days after it until the end of
    March, then nothing more."""
    documents = []
    items: dict[str, Item] = {}
    for n in range(12):
        week = 2 * n
        team = ("payments", "platform")[n % 2]
        day = (START + timedelta(weeks=week)).date()
        severity = ("SEV1", "SEV2", "SEV2")[n % 3]
        mine = []
        for i, priority in enumerate(("P1", "P2", "P1")):
            due = day + timedelta(weeks=WEEKS_TO_DUE[priority], days=i)
            if team == "platform":
                close_on: date | None = due - timedelta(days=3)
            else:
                late = due + timedelta(days=10)
                close_on = late if late <= date(2026, 3, 31) else None
            item = Item(
                f"Fix {i + 1} after incident {n + 1} ({team})",
                team,
                priority,
                severity,
                due,
                close_on,
            )
            mine.append(item)
            items[item.title] = item
        documents.append((week, team, severity, mine))
    return documents, items


def _document(n: int, day: date, team: str, severity: str, items: list[Item]) -> str:
    rows = "".join(
        f"| {item.title} | {OWNERS[team][i % 2]} | {item.due.isoformat()} | {item.priority} |\n"
        for i, item in enumerate(items)
    )
    return (
        f"---\nid: INC-{n}\ntitle: Incident {n}\ndate: {day.isoformat()}\nteam: {team}\n"
        f"severity: {severity}\n---\n# Incident {n}\n\n## Action items\n\n"
        "| Action | Owner | Due | Priority |\n|---|---|---|---|\n" + rows
    )


@dataclass
class Simulation:
    settings: Settings
    github: FakeGitHub
    jira: FakeJira
    items: dict[str, Item]
    folder: Path


@pytest.fixture(scope="module")
def simulation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Simulation]:
    # Set up before the per-test fixtures of conftest: do what they do, for this module.
    logs.configure("warning", json=True)
    STOPPING.clear()
    at = request.config.getoption("--at")
    with contextlib.ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        for name in [n for n in os.environ if n.startswith("PMSYNC_")]:
            patch.delenv(name)
        if at:
            stack.enter_context(time_machine.travel(datetime.fromisoformat(at), tick=True))
        yield stack.enter_context(simulated(tmp_path_factory.mktemp("simulation")))


@contextlib.contextmanager
def simulated(folder: Path) -> Iterator[Simulation]:
    """The six months, run in `folder`; the servers keep running until the block ends."""
    github = FakeGitHub(collaborators={"dana", "sam", "priya", "alex", "lee"})
    jira = FakeJira(deployment="cloud")
    # Alex has no Jira account: his items are filed with nobody assigned.
    jira.users.append({"accountId": "acc-priya", "name": "priya", "emailAddress": "p@acme.test"})
    documents, items = _plan()
    with github.running(), jira.running(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        (folder / "docs").mkdir()
        (folder / "people.toml").write_text(PEOPLE)
        (folder / "config.toml").write_text(
            'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
            f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{github.url}"\n'
            "write_interval_seconds = 0\n"
            f'[trackers.jira]\nkind = "jira"\nurl = "{jira.url}"\ndeployment = "cloud"\n'
            'project = "OPS"\nemail = "bot@acme.test"\napi_token = "t"\n'
            "retry_backoff_seconds = 0.01\n"
            '[routing]\ndefault = "gh"\n[[routing.rules]]\nteam = "platform"\ntracker = "jira"\n'
            "[followup]\nstale_after_days = 14\n"
            '[digest.lists.programme]\ntitle = "Programme managers"\nchannels = ["file://out"]\n'
        )
        settings = load_settings(folder / "config.toml")
        for week in range(WEEKS + 1):
            now = START + timedelta(weeks=week)
            github.clock = jira.clock = lambda moment=now: moment
            for n, (when, team, severity, mine) in enumerate(documents, start=1):
                if when == week:
                    text = _document(n, now.date(), team, severity, mine)
                    (folder / "docs" / f"inc-{n}.md").write_text(text)
            # Owners close their items on the days they planned, during the week.
            for offset in range(7):
                day = now + timedelta(days=offset - 6)
                github.clock = jira.clock = lambda moment=day: moment
                for item in items.values():
                    if item.close_on == day.date():
                        _close(github, jira, item.title)
            github.clock = jira.clock = lambda moment=now: moment
            assert sync(settings, dry_run=False, now=now).failed == 0
            assert all(o.ok for o in check(settings, now=now, dry_run=False).outcomes)
        github.clock = jira.clock = lambda: END
        yield Simulation(settings, github, jira, items, folder)


def _close(github: FakeGitHub, jira: FakeJira, title: str) -> None:
    for issue in github.issues.values():
        if issue["title"] == title and issue["state"] == "open":
            stamp = github.stamp()
            issue.update(state="closed", state_reason="completed", updated_at=stamp)
            issue["closed_at"] = stamp
    for issue in jira.issues.values():
        fields = issue["fields"]
        if fields["summary"] == title and fields["status"]["statusCategory"]["key"] != "done":
            fields["status"] = {"name": "Done", "statusCategory": {"key": "done"}}
            fields["updated"] = fields["resolutiondate"] = jira.stamp()


# --- the truth, from the fake servers' own data -------------------------------------------------


@dataclass
class Issue:
    title: str
    created: datetime
    closed: datetime | None
    due: date


def _issues(sim: Simulation) -> list[Issue]:
    """Every action-item issue on both servers, read from their stored data."""
    found = []
    for data in sim.github.issues.values():
        marker = parse_marker(data["body"])
        if marker is None or marker.item_key.startswith("review-"):
            continue
        found.append(
            Issue(
                data["title"],
                _parse(data["created_at"]),
                _parse(data["closed_at"]) if data["state"] == "closed" else None,
                sim.items[data["title"]].due,
            )
        )
    for data in sim.jira.issues.values():
        fields = data["fields"]
        if "pmsync-review" in fields["labels"]:
            continue
        done = fields["status"]["statusCategory"]["key"] == "done"
        found.append(
            Issue(
                fields["summary"],
                _parse(fields["created"]),
                _parse(fields["resolutiondate"]) if done else None,
                date.fromisoformat(fields["duedate"]),
            )
        )
    return found


def _parse(stamp: str) -> datetime:
    """GitHub's `...Z` and Jira's `...000+0000`."""
    text = stamp.replace("Z", "+00:00")
    if text[-5] in "+-":
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text).astimezone(UTC)


def _truth(sim: Simulation) -> dict[str, Any]:
    issues = _issues(sim)
    assert len(issues) == len(sim.items) == 36
    today = END.date()
    weeks = []
    monday = START.date()
    while monday <= today:
        sunday = min(monday + timedelta(days=6), today)
        weeks.append(
            {
                "week": monday.isoformat(),
                "opened": sum(monday <= i.created.date() <= sunday for i in issues),
                "closed": sum(
                    bool(i.closed and monday <= i.closed.date() <= sunday) for i in issues
                ),
                "open": sum(
                    i.created.date() <= sunday and (i.closed is None or i.closed.date() > sunday)
                    for i in issues
                ),
            }
        )
        monday += timedelta(weeks=1)
    on_target: dict[tuple[str, str], list[int]] = {}
    by_severity: dict[tuple[str, str], list[int]] = {}
    to_close: dict[str, list[float]] = {}
    for issue in issues:
        item = sim.items[issue.title]
        if issue.closed is None and issue.due >= today:
            continue
        quarter = f"{issue.due.year}-Q{(issue.due.month + 2) // 3}"
        for found, group in ((on_target, item.priority), (by_severity, item.severity)):
            counts = found.setdefault((quarter, group), [0, 0])
            counts[0] += 1
            counts[1] += bool(issue.closed and issue.closed.date() <= issue.due)
        if issue.closed:
            days = (issue.closed - issue.created).total_seconds() / 86400
            to_close.setdefault(item.priority, []).append(days)
    overdue = {i.title: (today - i.due).days for i in issues if i.closed is None and today > i.due}
    return {
        "weeks": weeks,
        "on_target": _shares(on_target),
        "on_target_severity": _shares(by_severity),
        "time_to_close": [
            {
                "group": group,
                "closed": len(days),
                "median_days": round(statistics.median(days), 1),
                "p90_days": round(statistics.quantiles(days, n=10, method="inclusive")[-1], 1),
            }
            for group, days in sorted(to_close.items())
        ],
        "overdue": overdue,
        "open": sum(i.closed is None for i in issues),
    }


def _shares(counts: dict[tuple[str, str], list[int]]) -> list[dict[str, Any]]:
    return [
        {"quarter": q, "group": g, "due": d, "on_time": t, "share": round(t / d, 4)}
        for (q, g), (d, t) in sorted(counts.items())
    ]


# --- the checks ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from browser_session()


def test_the_report_equals_the_servers_data(
    simulation: Simulation, browser: Browser, tmp_path: Path
) -> None:
    truth = _truth(simulation)
    numbers = figures(collect(simulation.settings, now=END))
    assert numbers["weeks"] == truth["weeks"]
    assert numbers["on_target"]["priority"] == truth["on_target"]
    assert numbers["time_to_close"] == truth["time_to_close"]
    totals = numbers["totals"]
    assert (totals["items"], totals["open"]) == (36, truth["open"])
    assert totals["overdue"] == len(truth["overdue"])
    teams = {t["team"]: t for t in numbers["teams"]}
    assert teams["platform"]["overdue"] == 0
    assert teams["payments"]["overdue"] == len(truth["overdue"])
    assert teams["payments"]["oldest_overdue_days"] == max(truth["overdue"].values())
    assert numbers["on_target"]["severity"] == truth["on_target_severity"]
    # Platform closed everything on time; payments closed its early items late, then none.
    assert {r["on_time"] for r in truth["on_target"]} != {0}
    assert any(r["share"] < 1 for r in truth["on_target"])
    # The review issue of every post-mortem past its review day is shown with its state.
    reviewed = [p for p in numbers["postmortems"] if p["review_issue"]]
    assert reviewed
    assert all(p["review_state"] in ("open", "closed") for p in reviewed)

    out = tmp_path / "report.html"
    argv = ["--config", str(simulation.folder / "config.toml"), "report", "--now", END.isoformat()]
    assert main([*argv, "--out", str(out)]) == 0
    check_page(browser, out, numbers).close()
    assert main([*argv, "--format", "csv", "--out", str(tmp_path / "items.csv")]) == 0
    with (tmp_path / "items.csv").open(newline="", encoding="utf-8") as file:
        raw = file.read()
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert len(rows) == totals["items"]
    assert sum(r["status"] == "open" for r in rows) == totals["open"]
    assert {r["item"]: int(r["days_overdue"]) for r in rows if r["overdue"] == "yes"} == truth[
        "overdue"
    ]
    links = {r["issue"].split()[0]: r["issue_link"].rsplit("/", 2)[0] for r in rows}
    assert links == {
        "gh": "https://github.test/acme/incidents",
        "jira": simulation.jira.url,  # /browse/OPS-n
    }


def test_the_digest_lists_every_overdue_item_once_and_names_the_team_behind(
    simulation: Simulation,
) -> None:
    truth = _truth(simulation)
    run = digest(simulation.settings, now=END, dry_run=True)
    (built,) = run.digests
    text = render_text(built)
    headline = text.split("\n\n")[1]
    assert "Falling behind: payments" in headline
    assert "platform" not in headline
    assert text.startswith("Post-mortem actions, 2026-W28:")
    assert "For Programme managers" in text
    # Each item once among the items listed; "promised before" may name it again, apart.
    items = text.split("\nPROMISED BEFORE")[0]
    for title, days in truth["overdue"].items():
        assert items.count(title) == 1, title
        line = items[items.index(title) :].split("\n")[1]
        assert f"{days} days overdue" in line, (title, line)
    listed = [e.snapshot.title for key in built.sections for e in built.sections[key]]
    assert len(listed) == len(set(listed))


def test_report_digest_and_metrics_count_the_same(simulation: Simulation) -> None:
    totals = figures(collect(simulation.settings, now=END))["totals"]
    run = digest(simulation.settings, now=END, dry_run=True)
    (built,) = run.digests
    assert built.figures.open == totals["open"]
    assert built.figures.overdue == totals["overdue"]
    assert built.counts == {k: totals[k] for k in ("overdue", "stalled", "unowned")}
    check(simulation.settings, now=END, dry_run=True)
    for flag in ("overdue", "stalled", "unowned", "escalated"):
        gauge = sum(
            REGISTRY.get_sample_value(f"pmsync_items_{flag}", {"tracker": t}) or 0
            for t in ("gh", "jira")
        )
        assert gauge == totals[flag], flag
    exported = json.loads(
        _run(["--config", str(simulation.folder / "config.toml"), "report", "--format", "json"])
    )
    assert exported["totals"] == totals


def _run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*argv, "--now", END.isoformat(), "--out", "-"]) == 0
    return out.getvalue()
