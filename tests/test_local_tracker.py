"""What only the local tracker promises: a real store that survives restarts and errors."""

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connectors.trackers.local import LocalTracker
from syncer.errors import FatalError, SkippableError
from syncer.identity import render_nudge_marker
from syncer.model import IssueDraft, TrackerRef


def _draft() -> IssueDraft:
    return IssueDraft("0123456789ab", "pm-1", "Add alerting", "Body", ("dana",), date(2026, 4, 1))


def test_issues_survive_a_new_process(tmp_path: Path) -> None:
    ref = LocalTracker("l", tmp_path / "s.sqlite3").create(_draft())
    (snap,) = LocalTracker("l", tmp_path / "s.sqlite3").snapshot()
    assert snap.ref == ref
    assert snap.ref.url.startswith("file://")


def test_comments_are_stored_with_their_author(tmp_path: Path) -> None:
    tracker = LocalTracker("l", tmp_path / "s.sqlite3")
    ref = tracker.create(_draft())
    tracker.comment(ref, "Any news?")
    tracker.close(ref, "completed", "Closed by pmsync.")
    assert tracker.comments(ref) == [("pmsync", "Any news?"), ("pmsync", "Closed by pmsync.")]


def test_the_injected_clock_dates_issues(tmp_path: Path) -> None:
    moment = datetime(2026, 3, 5, 12, tzinfo=UTC)
    tracker = LocalTracker("l", tmp_path / "s.sqlite3", clock=lambda: moment)
    tracker.create(_draft())
    (snap,) = tracker.snapshot()
    assert snap.created_at == moment


def test_an_unknown_issue_is_a_skippable_error(tmp_path: Path) -> None:
    tracker = LocalTracker("l", tmp_path / "s.sqlite3")
    with pytest.raises(SkippableError):
        tracker.update(TrackerRef("l", "#41", ""), _draft(), {"title"})


def test_a_file_that_is_not_a_database_is_fatal_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FatalError, match=str(path)):
        LocalTracker("l", path).snapshot()


def test_the_activity_of_many_issues_is_read_at_once_and_equals_one_by_one(
    tmp_path: Path,
) -> None:
    moment = datetime(2026, 3, 5, 12, tzinfo=UTC)
    path = tmp_path / "s.sqlite3"
    tracker = LocalTracker("l", path, clock=lambda: moment)
    refs = [tracker.create(_draft()) for _ in range(5)]
    dana = LocalTracker("l", path, user="dana", clock=lambda: moment + timedelta(days=2))
    dana.comment(refs[1], "On it.")
    tracker.comment(refs[3], f"{render_nudge_marker('stale', 1, False)}\nA reminder.")
    together = tracker.activities(refs)
    assert together == {ref: tracker.activity(ref) for ref in refs}
    assert together[refs[1]].last_human == moment + timedelta(days=2)
    assert together[refs[0]].last_human is None
    assert together[refs[3]].last_nudge is not None
    assert tracker.activities([]) == {}


def test_comments_are_indexed_by_issue(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    LocalTracker("l", path).create(_draft())
    with sqlite3.connect(path) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM comments WHERE number = 1 ORDER BY id"
        ).fetchall()
    assert "USING INDEX comments_by_issue" in " ".join(str(row[-1]) for row in plan)


def test_closing_times_are_kept_and_older_stores_gain_the_column(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite3"
    opened, closed, touched = (datetime(2026, 3, day, 9, tzinfo=UTC) for day in (2, 9, 20))
    LocalTracker("l", store, clock=lambda: opened).create(_draft())
    LocalTracker("l", store, clock=lambda: closed).close(TrackerRef("l", "#1", ""), "completed")
    LocalTracker("l", store, clock=lambda: touched).comment(TrackerRef("l", "#1", ""), "Done.")
    (snap,) = LocalTracker("l", store).snapshot()
    assert (snap.created_at, snap.closed_at, snap.updated_at) == (opened, closed, touched)
    # A store from before closing times were kept: the column is added, and a closed issue's
    # last update stands in for its closing time.
    with sqlite3.connect(store) as db:
        db.execute("ALTER TABLE issues DROP COLUMN closed_at")
    (snap,) = LocalTracker("l", store).snapshot()
    assert snap.closed_at == touched
    with sqlite3.connect(store) as db:
        assert "closed_at" in {row[1] for row in db.execute("PRAGMA table_info(issues)")}


def test_the_first_assignment_and_linked_changes_are_in_the_activity(tmp_path: Path) -> None:
    """Assigned when filed: then. Filed unassigned: when first assigned, never again later.
    A person's comment linking a pull request or a commit is a linked change."""
    from dataclasses import replace

    t0 = datetime(2026, 3, 4, 9, tzinfo=UTC)
    store = tmp_path / "store.sqlite3"
    owned = LocalTracker("local", store, clock=lambda: t0).create(_draft())
    bare = replace(_draft(), item_key="ba5eba11ba5e", assignees=())
    unowned = LocalTracker("local", store, clock=lambda: t0).create(bare)
    later = LocalTracker("local", store, clock=lambda: t0 + timedelta(days=2))
    later.update(unowned, replace(bare, assignees=("sam",)), {"assignees"})
    LocalTracker("local", store, clock=lambda: t0 + timedelta(days=5)).update(
        unowned, replace(bare, assignees=("lee",)), {"assignees"}
    )
    person = LocalTracker("local", store, user="Sam Rivera", clock=lambda: t0)
    person.comment(unowned, "Done in https://gitlab.com/acme/app/-/merge_requests/7")
    activities = later.activities([owned, unowned])
    assert activities[owned].assigned_at == t0
    assert activities[owned].changes == ()
    assert activities[unowned].assigned_at == t0 + timedelta(days=2)
    assert activities[unowned].changes == ("https://gitlab.com/acme/app/-/merge_requests/7",)
