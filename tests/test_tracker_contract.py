"""The contract every Tracker keeps; each tracker kind joins the `harness` parameters.

A harness gives the tracker under test and a way to file an issue as somebody else, so the
suite can check that only pmsync's own markers are trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors.base import Tracker
from connectors.trackers.github import GithubOptions, GithubTracker
from connectors.trackers.local import LocalTracker
from syncer.identity import content_hash, render_marker
from syncer.model import IssueDraft, TrackerRef
from tests.fakes.github import FakeGitHub


@dataclass
class Harness:
    tracker: Tracker
    create_as_someone_else: Callable[[IssueDraft], None]
    comment_as_someone_else: Callable[[TrackerRef, str], None]


def _clock() -> datetime:
    return datetime(2026, 3, 5, 12, tzinfo=UTC)


@contextmanager
def _local(tmp_path: Path) -> Iterator[Harness]:
    path = tmp_path / "store.sqlite3"
    mallory = LocalTracker("t", path, user="mallory", clock=_clock)

    def create_as_mallory(draft: IssueDraft) -> None:
        mallory.create(draft)

    def comment_as_mallory(ref: TrackerRef, body: str) -> None:
        mallory.comment(ref, body)

    yield Harness(LocalTracker("t", path, clock=_clock), create_as_mallory, comment_as_mallory)


@contextmanager
def _github(tmp_path: Path) -> Iterator[Harness]:
    fake = FakeGitHub()
    with fake.running():
        options = GithubOptions(
            repo="acme/incidents", base_url=fake.url, token="ghp_" + "0" * 36, write_interval=0
        )

        def create_as_mallory(draft: IssueDraft) -> None:
            body = f"{draft.body}\n\n{render_marker(draft.marker)}"
            fake.add_issue(draft.title, body, user="mallory", labels=["pmsync"])

        def comment_as_mallory(ref: TrackerRef, body: str) -> None:
            fake.comment_as(int(ref.key.lstrip("#")), "mallory", body)

        yield Harness(GithubTracker("t", options), create_as_mallory, comment_as_mallory)


@pytest.fixture(params=[_local, _github], ids=["local", "github"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    with request.param(tmp_path) as made:
        yield made


def _draft(title: str = "Add alerting", **fields: object) -> IssueDraft:
    values: dict[str, object] = {
        "item_key": "0123456789ab",
        "postmortem_id": "pm-1",
        "title": title,
        "body": f"{title}\n\nDetails.",
        "assignees": ("dana",),
        "due": date(2026, 4, 1),
        "labels": ("pmsync", "postmortem"),
    }
    values.update(fields)
    draft = IssueDraft(**values)  # type: ignore[arg-type]
    return IssueDraft(**{**values, "content_hash": content_hash(draft)})  # type: ignore[arg-type]


def test_a_new_tracker_has_no_synced_issues(harness: Harness) -> None:
    assert list(harness.tracker.snapshot()) == []


def test_a_created_issue_is_found_again_by_its_marker(harness: Harness) -> None:
    draft = _draft()
    ref = harness.tracker.create(draft)
    (snap,) = harness.tracker.snapshot()
    assert snap.ref == ref
    assert (snap.item_key, snap.postmortem_id, snap.synced_hash) == (
        "0123456789ab",
        "pm-1",
        draft.content_hash,
    )
    assert (snap.title, snap.state, snap.assignees, snap.due) == (
        "Add alerting",
        "open",
        ("dana",),
        date(2026, 4, 1),
    )
    assert {"pmsync", "postmortem"} <= set(snap.labels)
    assert snap.body.startswith("Add alerting\n\nDetails.")
    assert harness.tracker.last_human_activity(ref) is None


def test_update_writes_only_the_named_fields_and_refreshes_the_marker(harness: Harness) -> None:
    ref = harness.tracker.create(_draft())
    changed = _draft("Add alerting on the pool", assignees=("sam-rivera",), labels=("needs-owner",))
    harness.tracker.update(ref, changed, {"title", "body", "labels"})
    (snap,) = harness.tracker.snapshot()
    assert snap.title == "Add alerting on the pool"
    assert snap.assignees == ("dana",)
    assert snap.synced_hash == changed.content_hash
    assert {"pmsync", "postmortem", "needs-owner"} <= set(snap.labels)


def test_a_changed_due_date_is_read_back(harness: Harness) -> None:
    ref = harness.tracker.create(_draft())
    harness.tracker.update(ref, _draft(due=date(2026, 5, 1)), {"body", "due"})
    (snap,) = harness.tracker.snapshot()
    assert snap.due == date(2026, 5, 1)


def test_close_records_the_reason(harness: Harness) -> None:
    ref = harness.tracker.create(_draft())
    harness.tracker.close(ref, "not_planned", "Removed from the post-mortem.")
    (snap,) = harness.tracker.snapshot()
    assert (snap.state, snap.state_reason, snap.status_category) == (
        "closed",
        "not_planned",
        "done",
    )


def test_labels_are_added_and_removed_one_by_one(harness: Harness) -> None:
    ref = harness.tracker.create(_draft())
    harness.tracker.add_labels(ref, ["stalled", "overdue"])
    harness.tracker.remove_labels(ref, ["stalled", "never-there"])
    (snap,) = harness.tracker.snapshot()
    assert set(snap.labels) == {"pmsync", "postmortem", "overdue"}


def test_comments_do_not_disturb_the_issue(harness: Harness) -> None:
    ref = harness.tracker.create(_draft())
    harness.tracker.comment(ref, "Any progress on this?")
    (snap,) = harness.tracker.snapshot()
    assert (snap.state, snap.title) == ("open", "Add alerting")


def test_markers_in_issues_filed_by_anyone_else_are_ignored(harness: Harness) -> None:
    harness.create_as_someone_else(_draft())
    assert list(harness.tracker.snapshot()) == []


def test_every_issue_created_is_listed_once(harness: Harness) -> None:
    refs = [harness.tracker.create(_draft(item_key=f"{n:012d}")) for n in range(25)]
    snaps = harness.tracker.snapshot()
    assert sorted(s.ref.key for s in snaps) == sorted(r.key for r in refs)


def test_only_other_peoples_comments_count_as_human_activity(harness: Harness) -> None:
    ref = harness.tracker.create(_draft())
    harness.tracker.comment(ref, "A nudge from pmsync")
    assert harness.tracker.last_human_activity(ref) is None
    harness.comment_as_someone_else(ref, "Working on it")
    assert harness.tracker.last_human_activity(ref) is not None
