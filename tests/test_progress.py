"""The report's figures counted from issues: days to close, completion by the due date, the weekly
backlog and percentiles, each on the day of the reader's time zone."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors.extract import extract
from connectors.trackers.local import LocalTracker
from rules.followup import FollowupContext
from syncer.model import Document, DocumentRef, IssueDraft, IssueSnapshot, Postmortem, TrackerRef
from syncer.people import Directory
from syncer.progress import (
    Entry,
    Progress,
    all_done,
    by_team,
    closed_at,
    everyone,
    on_target,
    open_age,
    percentile,
    progress,
    status_of,
    tally,
    time_to_assignment,
    time_to_close,
    tracked_entries,
    unverified,
    web_link,
    weekly,
)
from syncer.review import review_key
from syncer.settings import PersonSettings

HONOLULU = timezone(timedelta(hours=-10))


def _entry(n: int, **fields: Any) -> Entry:
    values: dict[str, Any] = {
        "ref": TrackerRef("t", f"#{n}", f"https://tracker.test/{n}"),
        "item_key": f"item{n:08d}",
        "state": "open",
        "title": f"Item {n}",
        "body": "",
        "created_at": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    }
    values.update(fields)
    return Entry("t", IssueSnapshot(**values), "payments", "pm-1", "Outage", ())


def _closed(n: int, at: datetime, **fields: Any) -> Entry:
    return _entry(n, **{"state": "closed", "state_reason": "completed", "closed_at": at, **fields})


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile([7.0], 0.9) == 7.0


def test_days_to_close_are_exact_and_dropped_or_unfiled_issues_are_not_counted() -> None:
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    entries = [
        _closed(1, opened + timedelta(days=2)),
        _closed(2, opened + timedelta(days=4)),
        _closed(3, opened + timedelta(days=30), state_reason="not_planned"),  # dropped
        _entry(4),  # open
        _closed(5, opened - timedelta(hours=1)),  # a clock behind: no negative days
        _closed(6, opened + timedelta(hours=12)),  # half a day
    ]
    [row] = time_to_close(entries, everyone)
    assert (row["closed"], row["median_days"], row["p90_days"]) == (4, 1.2, 3.4)


def test_a_closed_issue_without_a_closing_time_counts_from_its_last_update() -> None:
    updated = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    snap = _entry(1, state="closed", updated_at=updated).snapshot
    assert closed_at(snap) == updated
    assert closed_at(_entry(2, updated_at=updated).snapshot) is None  # open


def test_an_issue_closed_on_its_due_day_in_the_readers_zone_is_on_target() -> None:
    """Closed at 23:30 on the due day in Honolulu, which is already the next day in UTC."""
    due = date(2026, 4, 1)
    late_evening = datetime(2026, 4, 1, 23, 30, tzinfo=HONOLULU).astimezone(UTC)
    entries = [
        _entry(6),  # no due date
        _closed(1, late_evening, due=due),
        _closed(2, late_evening + timedelta(days=1), due=due),  # a day late
        _entry(3, due=date(2026, 4, 20)),  # open, due today: no outcome yet
        _entry(4, due=date(2026, 4, 19)),  # open, past due: missed
        _closed(5, late_evening, due=due, state_reason="not_planned"),  # dropped
    ]
    now = datetime(2026, 4, 20, 8, 0, tzinfo=HONOLULU)
    rows = on_target(entries, now, everyone)
    assert [(r["quarter"], r["due"], r["on_time"], r["share"]) for r in rows] == [
        ("2026-Q2", 3, 1, 0.3333)
    ]


def test_the_weekly_backlog_goes_by_the_readers_days_from_monday_to_sunday() -> None:
    """Opened late on Sunday in Honolulu (Monday in UTC) belongs to the week that Sunday ends."""
    sunday_night = datetime(2026, 3, 8, 22, 0, tzinfo=HONOLULU).astimezone(UTC)
    entries = [
        _entry(1, created_at=sunday_night),
        _closed(2, sunday_night, created_at=datetime(2026, 3, 2, 9, 0, tzinfo=HONOLULU)),
        _entry(3, created_at=datetime(2026, 3, 9, 20, 0, tzinfo=HONOLULU)),
    ]
    now = datetime(2026, 3, 10, 8, 0, tzinfo=HONOLULU)
    assert weekly(entries, now) == [
        {"week": "2026-03-02", "opened": 2, "closed": 1, "open": 1},
        {"week": "2026-03-09", "opened": 1, "closed": 0, "open": 2},
    ]


def test_open_age_counts_whole_days_since_filing() -> None:
    now = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    entries = [_entry(1), _entry(2, created_at=now + timedelta(hours=2)), _closed(3, now)]
    [row] = open_age(entries, now, everyone)
    assert (row["open"], row["median_days"], row["p90_days"]) == (2, 5.0, 9.0)


def test_only_web_addresses_are_links() -> None:
    assert web_link(TrackerRef("gh", "#1", "https://github.test/a/b/issues/1")) is not None
    assert web_link(TrackerRef("lab", "#1", "http://gitlab.internal/a/b/-/issues/1")) is not None
    assert web_link(TrackerRef("local", "#1", "local:#1")) is None
    assert web_link(TrackerRef("local", "#1", "/var/lib/pmsync/local.sqlite3#1")) is None


def test_days_to_first_assignment_count_only_issues_whose_assignment_is_known() -> None:
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    entries = [_entry(3), _entry(1), _entry(2), _entry(4, ref=TrackerRef("t", "", ""))]
    assigned = {
        "item00000001": opened + timedelta(days=1, hours=12),
        "item00000002": opened + timedelta(days=3),
        "item00000004": opened,  # never filed: not counted
    }
    [row] = time_to_assignment(entries, assigned, everyone)
    assert (row["assigned"], row["median_days"], row["p90_days"]) == (2, 2.2, 2.9)


def test_done_issues_with_no_linked_change_are_unverified_and_unread_ones_unknown() -> None:
    at = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    entries = [
        _closed(1, at),
        _closed(2, at),
        _closed(3, at),
        _closed(4, at),
        _closed(5, at, state_reason="not_planned"),  # dropped: not done
        _entry(6),  # open
        _closed(7, at),
        dataclasses.replace(_entry(8), done_in_document=True),  # done by the document's word
    ]
    changes = {
        "item00000001": ("https://github.test/a/b/pull/7",),
        "item00000002": (),
        "item00000003": (),
        "item00000005": (),
    }
    [row] = unverified(entries, changes, everyone)
    assert row == {"group": "all", "closed": 3, "unverified": 2, "share": 0.6667, "unknown": 2}


def _progress(items: int, done: int, dropped: int) -> Progress:
    return Progress(Postmortem("pm", DocumentRef("s", "pm", "pm.md"), "Outage"), items, done,
                    items - done - dropped, 0, dropped, None, None)  # fmt: skip


def test_a_post_mortem_is_all_done_when_every_item_not_dropped_is_done() -> None:
    postmortems = [
        _progress(3, 3, 0),
        _progress(3, 2, 1),  # the dropped one aside: all done
        _progress(3, 1, 1),
        _progress(1, 1, 0),
        _progress(2, 0, 2),  # all dropped: not counted
        _progress(0, 0, 0),  # no items: not counted
    ]
    assert all_done(postmortems) == {"postmortems": 4, "all_done": 3, "share": 0.75}


def test_items_done_in_the_post_mortem_before_any_issue_count_as_done_with_their_groups(
    tmp_path: Path,
) -> None:
    text = textwrap.dedent(
        """
        ---
        date: 2026-03-04
        severity: SEV2
        ---
        # Checkout outage

        ## Action items
        | Action | Owner | Priority | Status |
        |---|---|---|---|
        | Add a canary stage | Dana Kim | | Open |
        | Raise the pool limit to 200 | Dana Kim | P1 | Done |
        | Add a pool alert at 90% | Lee Park | | Done |
        | Filed before it was done | Dana Kim | P2 | Done |
        | Add a dashboard for the pool | Lee Park | | Open |
        """
    ).lstrip()
    document = Document(DocumentRef("docs", "pm-1.md", "docs/pm-1.md"), "pm-1", text)
    pm = dataclasses.replace(extract(document), route="local")
    template = dataclasses.replace(pm, id="template", template=True)  # its items are no one's
    tracker = LocalTracker("local", tmp_path / "local.sqlite3")
    other = LocalTracker("other", tmp_path / "other.sqlite3")
    filed = next(i for i in pm.items if i.title.startswith("Filed before"))
    review = tracker.create(
        IssueDraft(review_key(pm.id), pm.id, "Review", "", (), None, ("pmsync",))
    )
    tracker.create(
        IssueDraft(filed.key, pm.id, filed.title, "", ("dkim", "sam"), None, ("pmsync",))
    )
    canary = pm.items[0]
    other.create(IssueDraft(canary.key, pm.id, canary.title, "", (), None, ("pmsync",)))
    directory = Directory.from_entries(
        [
            PersonSettings(name="Dana Kim", aliases=["dkim"], team="payments"),
            PersonSettings(name="Lee Park", team="storage"),
        ]
    )
    problems: list[Any] = []
    reviews: dict[str, IssueSnapshot] = {}
    trackers = {"local": tracker, "other": other}
    entries, _ = tracked_entries(trackers, [template, pm], directory, problems, reviews)
    assert problems == []
    assert [(e.tracker, e.key) for e in entries if e.filed] == [
        ("local", filed.key),
        ("other", canary.key),
    ]  # the review issue is no item's
    assert [(pm_id, snap.ref.key) for pm_id, snap in reviews.items()] == [(pm.id, review.key)]
    unfiled = {e.snapshot.title: e for e in entries if not e.filed}
    assert set(unfiled) == {"Raise the pool limit to 200", "Add a pool alert at 90%"}
    raised = unfiled["Raise the pool limit to 200"]
    assert (raised.tracker, raised.team, raised.owners) == ("local", "payments", ("Dana Kim",))
    assert (raised.priority, raised.severity, raised.incident) == ("P1", "SEV2", date(2026, 3, 4))
    assert raised.postmortem_id == raised.snapshot.postmortem_id == pm.id
    assert raised.done
    assert not raised.dropped
    assert unfiled["Add a pool alert at 90%"].team == "storage"
    assert unfiled["Add a pool alert at 90%"].priority == "(none)"
    # The filed one: its owners as the directory names them (else their handles), the team of
    # the first owner who has one, and what the post-mortem says of it.
    issue = next(e for e in entries if e.key == filed.key)
    assert (issue.owners, issue.team) == (("Dana Kim", "sam"), "payments")
    assert (issue.postmortem_id, issue.postmortem_title) == (pm.id, "Checkout outage")
    assert (issue.severity, issue.priority, issue.incident) == ("SEV2", "P2", date(2026, 3, 4))
    assert issue.done_in_document


def test_an_items_status_on_a_given_day_and_the_tally_of_a_backlog() -> None:
    """Overdue from the day after the due date (the check's grace days do not delay it here);
    due soon within the due-soon days and never when overdue; escalated and stalled as the
    check labelled them; done and dropped items meet no condition."""
    context = FollowupContext(now=datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    fresh = {"updated_at": datetime(2026, 4, 9, 9, 0, tzinfo=UTC), "assignees": ("dk",)}
    entries = [
        _entry(1, due=date(2026, 4, 9), labels=("escalated",), **fresh),  # a day late
        _entry(2, due=date(2026, 4, 10), **fresh),  # due today: soon, not late
        _entry(3, due=date(2026, 4, 30), labels=("stalled",), **fresh),
        _entry(4, **{**fresh, "assignees": ()}),  # no owner, no due date
        _closed(5, datetime(2026, 4, 1, tzinfo=UTC), labels=("escalated",)),  # no due date
        _closed(6, datetime(2026, 4, 1, tzinfo=UTC), state_reason="not_planned"),
    ]
    statuses = [status_of(e, context) for e in entries]
    assert [s.conditions for s in statuses] == [
        ("escalated", "overdue"),  # most urgent first
        ("due_soon",),
        ("stalled",),
        ("unowned",),
        (),
        (),
    ]
    assert not any(s.done for s in statuses[:4])
    assert statuses[0].days_overdue == 1
    assert (statuses[4].done, statuses[5].done, statuses[5].dropped) == (True, False, True)
    counted = tally(entries, context)
    assert counted.as_dict() == {
        "items": 6, "open": 4, "done": 1, "dropped": 1, "overdue": 1, "stalled": 1,
        "unowned": 1, "escalated": 1, "due_soon": 1, "no_due_date": 1,
    }  # fmt: skip


def test_teams_most_overdue_come_first_each_with_its_longest_overdue_item() -> None:
    context = FollowupContext(now=datetime(2026, 4, 10, 9, 0, tzinfo=UTC))

    def item(n: int, team: str, due: date | None) -> Entry:
        return dataclasses.replace(_entry(n, due=due, assignees=("dk",)), team=team)

    entries = [
        item(1, "search", date(2026, 4, 8)),
        item(2, "payments", date(2026, 4, 1)),
        item(3, "payments", date(2026, 4, 9)),
        item(4, "storage", date(2026, 3, 1)),
        item(5, "billing", date(2026, 3, 30)),
        item(6, "web", None),
    ]
    rows = by_team(entries, context)
    assert [(r.team, r.tally.overdue, r.oldest_overdue_days) for r in rows] == [
        ("payments", 2, 9),
        ("storage", 1, 40),  # one overdue item, but the oldest of those with one
        ("billing", 1, 11),
        ("search", 1, 2),
        ("web", 0, None),
    ]
    assert rows[0].oldest_overdue is entries[1]
    assert rows[-1].oldest_overdue is None


def test_each_post_mortem_with_items_is_counted_oldest_incident_first_with_its_review() -> None:
    """Templates and post-mortems with no issues are left out; one with no incident date
    comes last; each carries its review issue, when one was opened, and its review day."""
    context = FollowupContext(now=datetime(2026, 4, 10, 9, 0, tzinfo=UTC))

    def pm(pm_id: str, day: date | None, template: bool = False) -> Postmortem:
        ref = DocumentRef("docs", f"{pm_id}.md", f"docs/{pm_id}.md")
        return Postmortem(pm_id, ref, pm_id.title(), incident_date=day, template=template)

    postmortems = [
        pm("template", date(2026, 1, 1), template=True),
        pm("quiet", date(2026, 1, 2)),  # no issues
        pm("undated", None),
        pm("later", date(2026, 3, 4)),
        pm("earlier", date(2026, 2, 1)),
    ]
    entries = [
        dataclasses.replace(_entry(n, due=due), postmortem_id=pm_id)
        for n, (pm_id, due) in enumerate(
            [
                ("template", None),
                ("undated", None),
                ("later", date(2026, 4, 1)),
                ("later", None),
                ("earlier", None),
            ]
        )
    ] + [dataclasses.replace(_closed(9, datetime(2026, 3, 9, tzinfo=UTC)), postmortem_id="later")]
    reviews = {"later": _entry(10).snapshot}
    found = progress(entries, postmortems, reviews, context, review_after_weeks=4)
    assert [(p.postmortem.id, p.items, p.done, p.open, p.overdue) for p in found] == [
        ("earlier", 1, 0, 1, 0),
        ("later", 3, 1, 2, 1),
        ("undated", 1, 0, 1, 0),
    ]
    assert [p.review for p in found] == [None, reviews["later"], None]
    assert [p.review_day for p in found] == [date(2026, 3, 1), date(2026, 4, 1), None]
    assert [p.review_state for p in found] == ["not opened", "open", "no incident date"]
