"""The report's figures counted from issues: days to close, completion by the due date, the weekly
backlog and percentiles, each on the day of the reader's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from syncer.model import IssueSnapshot, TrackerRef
from syncer.progress import (
    Entry,
    closed_at,
    everyone,
    on_target,
    open_age,
    percentile,
    time_to_close,
    web_link,
    weekly,
)

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
    ]
    [row] = time_to_close(entries, everyone)
    assert (row["closed"], row["median_days"], row["p90_days"]) == (3, 2.0, 3.6)


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
        _closed(1, late_evening, due=due),
        _closed(2, late_evening + timedelta(days=1), due=due),  # a day late
        _entry(3, due=date(2026, 4, 20)),  # open, due today: no outcome yet
        _entry(4, due=date(2026, 4, 19)),  # open, past due: missed
        _closed(5, late_evening, due=due, state_reason="not_planned"),  # dropped
        _entry(6),  # no due date
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
