"""Follow-up rules (PM5xx) on issue snapshots, with the clock as a value."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from rules.followup import FollowupContext, follow_up, snoozed_until
from syncer.model import ActionItem, Activity, IssueSnapshot, Nudge, TrackerRef

NOW = datetime(2026, 4, 20, 9, tzinfo=UTC)
CREATED = NOW - timedelta(days=30)


def _snap(**fields: object) -> IssueSnapshot:
    values: dict[str, object] = {
        "ref": TrackerRef("t", "#1", "https://t.test/1"),
        "item_key": "0123456789ab",
        "state": "open",
        "title": "Add alerting",
        "body": "",
        "assignees": ("dana",),
        "due": date(2026, 5, 15),
        "created_at": CREATED,
        "updated_at": NOW - timedelta(days=1),
    }
    values.update(fields)
    return IssueSnapshot(**values)  # type: ignore[arg-type]


def _codes(
    snap: IssueSnapshot,
    activity: Activity | None = None,
    item: ActionItem | None = None,
    **context: object,
) -> list[str]:
    ctx = FollowupContext(now=NOW, **context)  # type: ignore[arg-type]
    return [f.code for f in follow_up(snap, item, activity, ctx)]


@pytest.mark.parametrize(
    ("fields", "activity", "codes"),
    [
        ({}, Activity(NOW - timedelta(days=2)), []),
        ({"due": date(2026, 4, 18)}, Activity(NOW - timedelta(days=2)), ["PM501"]),
        ({"due": date(2026, 4, 19)}, Activity(NOW - timedelta(days=2)), []),  # grace day
        ({"due": date(2026, 4, 25)}, Activity(NOW - timedelta(days=2)), ["PM502"]),
        ({}, Activity(NOW - timedelta(days=15)), ["PM503"]),
        ({}, Activity(None), ["PM503"]),  # created 30 days ago, nobody ever wrote
        ({"updated_at": NOW - timedelta(days=20)}, None, ["PM503"]),  # unread: updated_at bounds it
        ({"assignees": ()}, Activity(NOW - timedelta(days=2)), ["PM504"]),
        ({"state": "closed", "status_category": "done", "due": date(2026, 4, 1)}, None, []),
    ],
)
def test_follow_up_rules(
    fields: dict[str, object], activity: Activity | None, codes: list[str]
) -> None:
    assert _codes(_snap(**fields), activity) == codes


def test_pmsyncs_own_nudges_never_count_as_activity() -> None:
    nudged = Activity(None, (Nudge(NOW - timedelta(hours=1), "stalled", 3),))
    assert _codes(_snap(), nudged) == ["PM503"]


def test_snoozed_items_are_left_alone_until_the_day() -> None:
    snap = _snap(due=date(2026, 4, 1), labels=("pmsync", "pmsync-snooze-2026-05-01"))
    assert snoozed_until(snap, None) == date(2026, 5, 1)
    assert _codes(snap, Activity(None)) == []
    later = FollowupContext(now=datetime(2026, 5, 2, tzinfo=UTC))
    assert [f.code for f in follow_up(snap, None, Activity(None), later)] == ["PM501", "PM503"]


def test_snooze_written_on_the_item_and_exempt_labels() -> None:
    item = ActionItem("0123456789ab", "pm", "Add alerting", snooze=date(2026, 6, 1))
    assert _codes(_snap(due=date(2026, 4, 1)), Activity(None), item) == []
    assert (
        _codes(_snap(labels=("wontfix",)), Activity(None), exempt_labels=frozenset({"wontfix"}))
        == []
    )


def test_status_that_disagrees_with_the_document() -> None:
    done_item = ActionItem("0123456789ab", "pm", "Add alerting", status="DONE")
    open_item = dataclasses.replace(done_item, status=None)
    closed = _snap(state="closed", status_category="done")
    assert _codes(closed, None, open_item) == ["PM505"]
    assert _codes(_snap(), Activity(NOW), done_item) == ["PM506"]
