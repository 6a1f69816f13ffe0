"""Follow-up end to end: six weeks of a post-mortem's life, checked day by day (`--now`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.trackers.local import LocalTracker
from syncer.check import CheckRun, check
from syncer.cli import main
from syncer.digest import digest
from syncer.model import TrackerRef
from syncer.pipeline import sync
from syncer.review import is_review
from syncer.settings import Settings, load_settings

T0 = datetime(2026, 3, 4, 9, tzinfo=UTC)
DOC = """---
id: PM-7
title: Checkout latency
date: 2026-03-04
facilitator: Lee Park
---
# Checkout latency

## Action items

| Action | Owner | Due |
|---|---|---|
| Alert when the pool is above 90% for 5 minutes | Dana Kim | 2026-03-14 |
| Version the settings file and deploy it through the pipeline | Sam Rivera | 2026-04-13 |
| Add a rollback step to the runbook, with the exact command | Priya N | 2026-05-03 |
"""
PEOPLE = """
[[people]]
name = "Dana Kim"
manager = "Lee Park"

[[people]]
name = "Sam Rivera"
manager = "Lee Park"

[[people]]
name = "Priya N"
manager = "Lee Park"

[[people]]
name = "Lee Park"
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC)
    (tmp_path / "people.toml").write_text(PEOPLE)
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[trackers.local]\nkind = "local"\n[routing]\ndefault = "local"\n'
        "[followup]\nstale_after_days = 7\nnudge_every_days = 7\nescalate_after = 2\n"
    )
    return load_settings(tmp_path / "config.toml")


def _store(settings: Settings) -> Path:
    return settings.path(settings.state_dir) / "local-tracker.sqlite3"


def _as(settings: Settings, user: str, when: datetime) -> LocalTracker:
    return LocalTracker("local", _store(settings), user=user, clock=lambda: when)


def _ref(number: int) -> TrackerRef:
    return TrackerRef("local", f"#{number}", "")


def _by_issue(run: CheckRun) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for outcome in run.outcomes:
        assert outcome.ok, outcome.error
        ref = outcome.ref or outcome.action.ref
        assert ref is not None
        found.setdefault(ref.key, []).append(
            f"{outcome.action.op}:{','.join(outcome.action.labels)}"
        )
    return found


def test_six_weeks_of_follow_up(settings: Settings) -> None:
    sync(settings, dry_run=False, trackers={"local": _as(settings, "pmsync", T0)})
    days: dict[int, dict[str, list[str]]] = {}
    comments: dict[int, str] = {}
    for day in range(1, 43):
        now = T0 + timedelta(days=day)
        if day % 7 == 5:  # Sam reports progress every week
            _as(settings, "Sam Rivera", now).comment(_ref(2), "Making progress.")
        if day == 20:  # Priya finishes her item and closes the issue
            _as(settings, "Priya N", now).close(_ref(3), "completed")
        run = check(settings, now=now, dry_run=False)
        assert check(settings, now=now + timedelta(hours=1), dry_run=False).outcomes == []
        days[day] = _by_issue(run)
        for comment in _as(settings, "pmsync", now).comments(_ref(1))[len(comments) :]:
            comments[day] = comment[1]

    nudged = {
        day: [ref for ref, ops in acts.items() if any(o.startswith("nudge") for o in ops)]
        for day, acts in days.items()
    }
    assert [day for day, refs in nudged.items() if "#1" in refs] == [7, 14, 21, 28, 35, 42]
    assert [day for day, refs in nudged.items() if "#3" in refs] == [7, 14]
    # Sam reports weekly, so his item never stalls; it is nudged once it is overdue (day 40 + 1).
    assert [day for day, refs in nudged.items() if "#2" in refs] == [42]
    assert days[7]["#1"] == ["label:stalled", "nudge:"]
    assert days[12]["#1"] == ["label:overdue"]
    assert days[21]["#1"] == ["nudge:escalated"]
    assert days[20]["#3"] == ["unlabel:stalled"]
    assert "@Dana Kim" in comments[7]
    assert "@Lee Park" not in comments[7]
    assert "cc @Lee Park: reminder 3" in comments[21]
    (snap,) = [s for s in _as(settings, "pmsync", T0).snapshot() if s.ref.key == "#1"]
    assert {"stalled", "overdue", "escalated"} <= set(snap.labels)

    # The follow-up review opens four weeks after the incident, once, and stays current.
    opened = [
        day
        for day, acts in days.items()
        if any("review-open" in a for ops in acts.values() for a in ops)
    ]
    assert opened == [28]
    (review,) = [
        s for s in _as(settings, "pmsync", T0).snapshot() if s.title.startswith("Follow-up review")
    ]
    assert review.title == "Follow-up review: Checkout latency"
    assert review.assignees == ("Lee Park",)
    assert review.due == (T0 + timedelta(weeks=4)).date()
    table = [
        line for line in review.body.splitlines() if line.startswith("| ") and "Owner" not in line
    ]
    assert [row.split(" | ")[3] for row in table] == [
        "open (overdue, stalled, escalated)",
        "open (overdue)",  # Sam's item became overdue on day 42
        "done",
    ]
    assert any(
        "Follow-up review of this item" in c[1]
        for c in _as(settings, "pmsync", T0).comments(_ref(2))
    )
    ics = (settings.path(settings.state_dir) / "reviews").glob("*.ics")
    (invitation,) = list(ics)
    assert "DTSTART;VALUE=DATE:20260401" in invitation.read_text()
    assert "SUMMARY:Follow-up review: Checkout latency" in invitation.read_text()


def test_a_reply_clears_the_flag_and_restarts_the_count(settings: Settings) -> None:
    sync(settings, dry_run=False, trackers={"local": _as(settings, "pmsync", T0)})
    for day in (7, 14):
        check(settings, now=T0 + timedelta(days=day), dry_run=False)
    _as(settings, "Dana Kim", T0 + timedelta(days=15)).comment(_ref(1), "On it.")
    run = check(settings, now=T0 + timedelta(days=16), dry_run=False)
    assert _by_issue(run)["#1"] == ["unlabel:stalled"]  # still overdue, no longer stalled
    later = check(settings, now=T0 + timedelta(days=23), dry_run=False)
    nudge = next(
        o.action for o in later.outcomes if o.action.ref.key == "#1" and o.action.op == "nudge"
    )
    assert (nudge.reason, nudge.escalated) == ("nudge 1", False)


def test_check_on_the_command_line(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    sync(settings, dry_run=False, trackers={"local": _as(settings, "pmsync", T0)})
    config = settings.origin
    code = main(
        ["--config", config, "check", "--now", "2026-03-11T09:00", "--dry-run", "--format", "json"]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (payload["flagged"], payload["nudged"], payload["dry_run"]) == (3, 3, True)
    assert {f["code"] for f in payload["findings"]} >= {"PM503"}
    code = main(["--config", config, "check", "--now", "2026-03-11T10:00:00+00:00"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.rstrip().endswith(
        "flagged 3, nudged 3, escalated 0, cleared 0, review opened 0, review updated 0, "
        "failed 0, not checked 0"
    )
    assert main(["--config", config, "check", "--now", "next tuesday"]) == 2


def test_a_snoozed_item_is_not_followed_up_before_its_day(settings: Settings) -> None:
    doc = settings.path(Path("docs/pm-7.md"))
    doc.write_text(doc.read_text().replace("5 minutes |", "5 minutes (snooze: 2026-04-10) |"))
    sync(settings, dry_run=False, trackers={"local": _as(settings, "pmsync", T0)})
    early = check(settings, now=T0 + timedelta(days=20), dry_run=False)
    assert "#1" not in _by_issue(early)
    late = check(settings, now=datetime(2026, 4, 11, 9, tzinfo=UTC), dry_run=False)
    assert _by_issue(late)["#1"][0] == "label:overdue,stalled"


@pytest.mark.parametrize("items", [5, 50])
def test_an_idle_check_reads_the_store_a_fixed_number_of_times_whatever_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, items: int
) -> None:
    rows = "".join(
        f"| Add alert {n} on the queue depth | Dana Kim | 2026-03-14 |\n" for n in range(items)
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm.md").write_text(DOC.split("| Alert when")[0] + rows)
    (tmp_path / "people.toml").write_text(PEOPLE)
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
    )
    settings = load_settings(tmp_path / "config.toml")
    sync(settings, dry_run=False, now=T0)
    check(settings, now=T0 + timedelta(days=30), dry_run=False)  # flags and nudges every item
    statements: list[str] = []
    opened = LocalTracker._db

    def traced(self: LocalTracker) -> Iterator[sqlite3.Connection]:
        with opened(self) as db:
            db.set_trace_callback(statements.append)
            yield db

    monkeypatch.setattr(LocalTracker, "_db", contextmanager(traced))
    run = check(settings, now=T0 + timedelta(days=30, hours=1), dry_run=False)
    assert run.counts()["failed"] == 0
    assert not [o for o in run.outcomes if o.action.op != "skip"]  # nothing new to do
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 4  # issues, nudge counts, then the activity of all issues at once


@pytest.mark.parametrize(
    ("front", "who"),
    [
        ("incident_lead: Sam Rivera\n", "Sam Rivera"),
        ("author: Priya N\n", "Priya N"),
        ("team: payments\n", "Dana Kim"),  # nobody named: the team's triage person
    ],
    ids=["incident-lead", "author", "team-triage"],
)
def test_a_review_issue_is_assigned_to_who_runs_the_review(
    settings: Settings, front: str, who: str
) -> None:
    doc = settings.path(Path("docs")) / "pm-7.md"
    doc.write_text(DOC.replace("facilitator: Lee Park\n", front))
    config = settings.path(Path("config.toml"))
    config.write_text(config.read_text() + '[teams.payments]\ntriage = "Dana Kim"\n')
    settings = load_settings(config)
    sync(settings, dry_run=False, trackers={"local": _as(settings, "pmsync", T0)}, now=T0)
    later = T0 + timedelta(weeks=4, hours=1)
    check(settings, now=later, dry_run=False, trackers={"local": _as(settings, "pmsync", later)})
    (review,) = [s for s in _as(settings, "pmsync", later).snapshot() if is_review(s.item_key)]
    assert review.assignees == (who,)


def test_every_nudge_reaches_a_person_and_only_a_named_manager_counts_as_escalated(
    tmp_path: Path,
) -> None:
    """Three weeks of checks of items nobody owns and of one whose owner has no manager: an
    unowned item's nudge goes to its team's triage person; with none, no comment is written and
    the digest lists the item as having no owner; `escalated` counts only comments that copy a
    manager."""
    (tmp_path / "docs").mkdir()
    head = "---\nid: {id}\ntitle: {id} outage\ndate: 2026-03-04\nteam: {team}\n---\n# Outage\n\n"
    table = "## Action items\n\n| Action | Owner | Due |\n|---|---|---|\n"
    (tmp_path / "docs" / "pm-1.md").write_text(
        head.format(id="PM-1", team="payments")
        + table
        + "| Alert when the pool is above 90% for 5 minutes | | 2026-03-14 |\n"
        + "| Write the failover runbook for the pool | Lee Park | 2026-03-14 |\n"
    )
    (tmp_path / "docs" / "pm-2.md").write_text(
        head.format(id="PM-2", team="search")
        + table
        + "| Rebuild the index nightly from the primary | | 2026-03-14 |\n"
    )
    (tmp_path / "people.toml").write_text(PEOPLE)
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[trackers.local]\nkind = "local"\n[routing]\ndefault = "local"\n'
        "[followup]\nstale_after_days = 7\nnudge_every_days = 7\nescalate_after = 1\n"
        '[policy]\npreset = "off"\n[teams.payments]\ntriage = "Sam Rivera"\n'
        '[digest.lists.ops]\nchannels = ["json://127.0.0.1:9/"]\n'
    )
    settings = load_settings(tmp_path / "config.toml")
    sync(settings, dry_run=False, trackers={"local": _as(settings, "pmsync", T0)}, now=T0)
    escalated = 0
    for day in (14, 21, 28, 35):
        now = T0 + timedelta(days=day)
        run = check(
            settings, now=now, dry_run=False, trackers={"local": _as(settings, "pmsync", now)}
        )
        escalated += run.counts()["escalated"]
    said = {  # the nudges on each issue
        snap.title: [
            body
            for _, body in _as(settings, "pmsync", T0).comments(snap.ref)
            if "pmsync:nudge" in body
        ]
        for snap in _as(settings, "pmsync", T0).snapshot()
    }
    alert = said["Alert when the pool is above 90% for 5 minutes"]
    assert len(alert) == 4
    assert all(body.startswith("@Sam Rivera, this action item") for body in alert)
    assert "Nobody owns it" in alert[0]
    assert said["Rebuild the index nightly from the primary"] == []  # nobody to address
    runbook = said["Write the failover runbook for the pool"]
    assert all(body.startswith("@Lee Park, this action item") for body in runbook)
    copied = sum("cc @" in body for bodies in said.values() for body in bodies)
    assert escalated == copied == 0  # Lee Park has no manager, the triage person is no owner
    (built,) = digest(settings, now=T0 + timedelta(days=35), dry_run=True).digests
    assert "Rebuild the index nightly from the primary" in [
        e.snapshot.title for e in built.sections["unowned"]
    ]


def test_an_issue_s_history_is_read_once_and_again_only_for_what_is_still_unknown(
    tmp_path: Path,
) -> None:
    """Assigned: read once, whatever it found. Unassigned and open: not read for it; once
    assigned, read. Closed: its linked changes read once."""
    from syncer.history import IssueHistory
    from syncer.model import Activity, IssueSnapshot, TrackerRef

    def snap(key: str, assignees: tuple[str, ...], state: str = "open") -> IssueSnapshot:
        return IssueSnapshot(
            ref=TrackerRef("t", key, ""),
            item_key=f"{key[1:]:0>12}",
            state=state,  # type: ignore[arg-type]
            title="x",
            body="",
            assignees=assignees,
        )

    history = IssueHistory.load(tmp_path)
    nobody, dana, done = snap("#1", ()), snap("#2", ("dana",)), snap("#3", (), "closed")
    assert history.wanted([nobody, dana, done]) == [dana, done]
    history.learn(dana, Activity())  # the tracker records no assignment
    history.learn(done, Activity(changes=("commit 1a2b",)))
    history.save()
    again = IssueHistory.load(tmp_path)
    assert again.wanted([nobody, dana, done]) == []
    assigned_later = snap("#1", ("sam",))
    assert again.wanted([assigned_later]) == [assigned_later]
    assert again.of(done).changes == ("commit 1a2b",)
