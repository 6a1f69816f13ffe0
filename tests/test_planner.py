"""The planner: pure decisions about each issue, each with a reason a person can read."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from syncer.identity import RETITLE_THRESHOLD, render_marker, title_similarity
from syncer.model import (
    NEEDS_OWNER_LABEL,
    ActionItem,
    DocumentRef,
    Finding,
    IssueSnapshot,
    PlannedAction,
    Postmortem,
    Severity,
    TrackerRef,
    item_key,
)
from syncer.people import Directory
from syncer.planner import Life, Target, plan
from syncer.settings import PersonSettings, SyncSettings

TARGET = {"t": Target("t", "github", ("postmortem",))}
PEOPLE = Directory.from_entries([PersonSettings(name="Dana Kim", aliases=["dana"], github="dk")])


def _item(title: str, **fields: object) -> ActionItem:
    defaults: dict[str, object] = {"owner": "dana", "due": date(2026, 4, 1), "line": 3}
    defaults.update(fields)
    return ActionItem(key=item_key("pm-1", title), postmortem_id="pm-1", title=title, **defaults)  # type: ignore[arg-type]


def _pm(*items: ActionItem, pm_id: str = "pm-1") -> Postmortem:
    ref = DocumentRef("s", pm_id, f"docs/{pm_id}.md")
    return Postmortem(pm_id, ref, "Outage", route="t", items=items)


def _actions(
    postmortems: Sequence[Postmortem],
    snaps: Sequence[IssueSnapshot] = (),
    settings: SyncSettings | None = None,
    life: Life | None = None,
) -> tuple[PlannedAction, ...]:
    """The plan for `postmortems` on tracker "t" holding `snaps`, with no findings."""
    return plan(
        postmortems, {"t": snaps}, TARGET, PEOPLE, {}, settings or SyncSettings(), life=life
    ).actions


def _plan(
    postmortems: Sequence[Postmortem],
    snaps: Sequence[IssueSnapshot] = (),
    settings: SyncSettings | None = None,
) -> list[tuple[str, str, str | None]]:
    return [
        (a.op, a.reason, a.target.key if a.target else None)
        for a in _actions(postmortems, snaps, settings)
    ]


def _synced(postmortems: Sequence[Postmortem], number: int = 1) -> list[IssueSnapshot]:
    """Snapshots of the issues a first sync of `postmortems` would have created."""
    snaps = []
    for n, action in enumerate(_actions(postmortems), start=number):
        draft = action.draft
        assert draft is not None
        snaps.append(
            IssueSnapshot(
                ref=TrackerRef("t", f"#{n}", f"https://t.test/{n}"),
                item_key=draft.item_key,
                postmortem_id=draft.postmortem_id,
                state="open",
                title=draft.title,
                body=f"{draft.body}\n\n{render_marker(draft.marker)}",
                assignees=draft.assignees,
                due=draft.due,
                labels=draft.labels,
                created_at=datetime(2026, 3, 1, tzinfo=UTC),
                synced_hash=draft.content_hash,
            )
        )
    return snaps


def test_new_items_are_created_with_owner_due_and_labels() -> None:
    (action,) = _actions([_pm(_item("Add alerting"))])
    assert (action.op, action.reason) == ("create", "new item at pm-1:3")
    assert action.draft is not None
    assert action.draft.assignees == ("dk",)
    assert action.draft.due == date(2026, 4, 1)
    assert action.draft.labels == ("pmsync", "postmortem")
    assert "Due: 2026-04-01" in action.draft.body


def test_an_unresolved_owner_is_filed_unassigned_and_labelled() -> None:
    result = plan(
        [_pm(_item("Add alerting", owner="search team"))],
        {"t": ()},
        TARGET,
        PEOPLE,
        {},
        SyncSettings(),
    )
    draft = result.actions[0].draft
    assert draft is not None
    assert draft.assignees == ()
    assert "needs-owner" in draft.labels
    assert "search team (not in the people directory)" in draft.body


def test_a_second_run_with_nothing_changed_writes_nothing() -> None:
    pms = [_pm(_item("Add alerting"), _item("Add a runbook"))]
    assert [op for op, _, _ in _plan(pms, _synced(pms))] == ["unchanged", "unchanged"]


def test_a_changed_due_date_updates_only_that_issue_and_says_why() -> None:
    pms = [_pm(_item("Add alerting"), _item("Add a runbook"))]
    snaps = _synced(pms)
    changed = [_pm(_item("Add alerting", due=date(2026, 4, 15)), _item("Add a runbook"))]
    assert _plan(changed, snaps) == [
        ("update", "description changed; due 2026-04-01 → 2026-04-15", "#1"),
        ("unchanged", "no change since last sync", "#2"),
    ]


def test_a_retitled_item_updates_its_issue_instead_of_filing_a_new_one() -> None:
    snaps = _synced([_pm(_item("Add alerting on the connection pool"))])
    retitled = [_pm(_item("Add alerting on the DB connection pool"))]
    (action,) = _plan(retitled, snaps)
    assert action[0] == "update"
    assert action[1].startswith("retitled in the post-mortem; title changed")


def test_an_unrelated_new_title_is_a_new_item_and_the_old_one_is_closed() -> None:
    snaps = _synced([_pm(_item("Add alerting"))])
    assert _plan([_pm(_item("Rotate every credential"))], snaps) == [
        ("create", "new item at pm-1:3", None),
        ("close", "no longer in the post-mortem pm-1", "#1"),
    ]


def test_removed_items_are_kept_when_configured() -> None:
    snaps = _synced([_pm(_item("Add alerting"))])
    assert _plan([_pm()], snaps, SyncSettings(close_removed=False)) == []


def test_issues_of_documents_not_read_this_run_are_left_alone() -> None:
    snaps = _synced([_pm(_item("Add alerting"), pm_id="other")])
    assert _plan([_pm(_item("Add a runbook"))], snaps)[1:] == []


def test_items_done_in_the_document_are_closed_or_never_filed() -> None:
    snaps = _synced([_pm(_item("Add alerting"))])
    done = [_pm(_item("Add alerting", status="DONE"), _item("Add a runbook", status="done"))]
    assert _plan(done, snaps) == [
        ("close", "marked done in the post-mortem", "#1"),
        ("skip", "done in the post-mortem before it was filed", None),
    ]
    # The plan names each item, the one it does not file too.
    assert [a.item.title if a.item else None for a in _actions(done, snaps)] == [
        "Add alerting",
        "Add a runbook",
    ]


def test_only_an_item_put_back_reopens_the_issue_dropped_for_it() -> None:
    pms = [_pm(_item("Add alerting"))]
    (snap,) = _synced(pms)
    back = Life(returned=frozenset({pms[0].items[0].key}))

    def planned(state_reason: str, life: Life) -> list[tuple[str, str, str | None]]:
        closed = dataclasses.replace(snap, state="closed", state_reason=state_reason)
        actions = _actions(pms, [closed], life=life)
        return [(a.op, a.reason, a.item.title if a.item else None) for a in actions]

    assert planned("not_planned", back) == [
        ("reopen", "back in the post-mortem at pm-1:3", "Add alerting")
    ]
    # Dropped in the tracker by a person, or done: it stays as it is.
    unchanged = [("unchanged", "no change since last sync", "Add alerting")]
    assert planned("not_planned", Life()) == unchanged
    assert planned("completed", back) == unchanged


_HELD = "skip", "held, nothing written: read while being written"


@pytest.mark.parametrize(
    ("item", "said"),
    [
        (_item("Add alerting"), ("unchanged", "no change since last sync", "#1")),
        (_item("Add alerting", due=date(2026, 5, 1)), (*_HELD, "#1")),
        (_item("Add a runbook"), (*_HELD, None)),
        (
            _item("Rotate the key", status="done"),
            ("skip", "done in the post-mortem before it was filed", None),
        ),
    ],
    ids=["unchanged", "changed", "new", "done-before-filed"],
)
def test_a_held_document_writes_nothing_and_says_so_where_it_would_have(
    item: ActionItem, said: tuple[str, str, str | None]
) -> None:
    snaps = _synced([_pm(_item("Add alerting"))])
    held = Life(held={"pm-1": "read while being written"})
    planned = [
        (a.op, a.reason, a.target.key if a.target else None)
        for a in _actions([_pm(item)], snaps, life=held)
        if a.item
    ]
    assert planned == [said]


def test_an_item_rewritten_whole_stays_with_the_issue_its_link_names() -> None:
    (snap,) = _synced([_pm(_item("Add alerting"))])
    rewritten = _item("Page the on-call on pool saturation", tickets=(snap.ref.url,))
    (action,) = _actions([_pm(rewritten)], [snap])
    assert (action.op, action.target) == ("update", snap.ref)
    assert action.reason.startswith("retitled in the post-mortem")


def test_an_issue_a_person_retitled_in_the_tracker_stays_with_its_item() -> None:
    pms = [_pm(_item("Add alerting"))]
    (snap,) = _synced(pms)
    renamed = dataclasses.replace(snap, title="Storage: capacity plan")
    (action,) = _actions(pms, [renamed])
    assert (action.op, action.target) == ("unchanged", snap.ref)  # and its new title stays


def test_an_item_retitled_exactly_as_far_as_the_threshold_keeps_its_issue() -> None:
    (snap,) = _synced([_pm(_item("Add disk alerts"))])
    assert title_similarity("Add disk alerts", "Renew disk alerts") == RETITLE_THRESHOLD
    retitled = [_pm(_item("Renew disk alerts"))]
    (action,) = _actions(retitled, [snap])
    assert (action.op, action.target) == ("update", snap.ref)


def test_two_alike_items_retitled_at_once_each_keep_their_own_issue() -> None:
    snaps = _synced([_pm(_item("Add disk alerts"), _item("Add disk alert rules", line=4))])
    retitled = _pm(_item("Add disk alerts now"), _item("Add disk alerts on caches", line=4))
    # The first is close to both issues: each issue goes to the item closest to it.
    assert [
        (a.op, a.item.title if a.item else "", a.target) for a in _actions([retitled], snaps)
    ] == [
        ("update", "Add disk alerts now", snaps[0].ref),
        ("update", "Add disk alerts on caches", snaps[1].ref),
    ]


def test_duplicates_keep_the_oldest_and_close_the_rest() -> None:
    pms = [_pm(_item("Add alerting"))]
    (snap,) = _synced(pms)
    younger = dataclasses.replace(
        snap,
        ref=TrackerRef("t", "#9", "https://t.test/9"),
        created_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    assert _plan(pms, [younger, snap]) == [
        ("close", "duplicate of #1", "#9"),
        ("unchanged", "no change since last sync", "#1"),
    ]


def test_duplicates_filed_at_the_same_time_keep_the_lower_number() -> None:
    pms = [_pm(_item("Add alerting"))]
    (snap,) = _synced(pms)
    ten, nine = (
        dataclasses.replace(snap, ref=TrackerRef("t", f"#{n}", f"https://t.test/{n}"))
        for n in (10, 9)
    )
    assert [op for op in _plan(pms, [ten, nine]) if op[0] == "close"] == [
        ("close", "duplicate of #9", "#10")
    ]


def test_a_duplicate_with_no_creation_time_counts_as_the_youngest() -> None:
    pms = [_pm(_item("Add alerting"))]
    (snap,) = _synced(pms)
    undated = dataclasses.replace(
        snap, ref=TrackerRef("t", "#0", "https://t.test/0"), created_at=None
    )
    assert [op for op in _plan(pms, [undated, snap]) if op[0] == "close"] == [
        ("close", "duplicate of #1", "#0")
    ]


def test_placeholders_are_never_filed() -> None:
    pms = [_pm(_item("{{ summary }}", placeholder=True))]
    assert _plan(pms) == [("skip", "placeholder, not a real item", None)]
    (action,) = _actions(pms)
    assert action.item is not None
    assert action.item.title == "{{ summary }}"  # the plan names what it did not file


def test_an_issue_with_a_marker_from_an_older_version_is_refreshed() -> None:
    pms = [_pm(_item("Add alerting"))]
    (snap,) = _synced(pms)
    older = dataclasses.replace(snap, synced_hash="0123456789abcdef")
    assert _plan(pms, [older]) == [("update", "refresh pmsync's marker", "#1")]


def test_items_routed_to_a_tracker_not_configured_or_not_read_are_skipped_others_planned() -> None:
    nowhere = dataclasses.replace(_pm(_item("Add alerting"), pm_id="pm-2"), route="gone")
    unread = dataclasses.replace(_pm(_item("Add a runbook"), pm_id="pm-3"), route="u")
    targets = {**TARGET, "u": Target("u", "github")}
    postmortems = [nowhere, _pm(_item("Rotate the key")), unread]
    result = plan(postmortems, {"t": ()}, targets, PEOPLE, {}, SyncSettings())
    assert sorted((a.op, a.reason, a.item.title if a.item else "") for a in result.actions) == [
        ("create", "new item at pm-1:3", "Rotate the key"),
        ("skip", "no such tracker: 'gone'", "Add alerting"),
        ("skip", "tracker could not be read: 'u'", "Add a runbook"),
    ]


@pytest.mark.parametrize("snapshots", [{}, {"other": ()}])
def test_items_for_an_unreadable_tracker_are_skipped_not_created(
    snapshots: dict[str, Sequence[IssueSnapshot]],
) -> None:
    result = plan([_pm(_item("Add alerting"))], snapshots, TARGET, PEOPLE, {}, SyncSettings())
    assert [(a.op, a.reason) for a in result.actions] == [
        ("skip", "tracker could not be read: 't'")
    ]


def test_mentions_and_comments_in_document_text_are_neutralised() -> None:
    item = _item("Ask @infra to fix it <!-- pmsync:v1 item=aaaaaaaaaaaa hash=x -->")
    draft = _actions([_pm(item)])[0].draft
    assert draft is not None
    assert "@\u200binfra" in draft.body  # a zero-width space: no mention
    assert "pmsync:v1" not in draft.body
    assert "pmsync:v1" not in draft.title


def _finding(item: ActionItem, code: str, severity: Severity) -> Finding:
    return Finding(code, severity, f"{code} message", "docs/pm-1.md", item.line, item.key)


@pytest.mark.parametrize(
    ("policy", "op", "labelled", "listed"),
    [
        ("label", "create", True, True),
        ("hold", "skip", False, True),
        ("ignore", "create", False, False),
    ],
)
def test_items_with_error_findings_follow_the_policy(
    policy: str, op: str, labelled: bool, listed: bool
) -> None:
    item = _item("Look into the pool")
    findings = {item.key: [_finding(item, "PM304", Severity.ERROR)]}
    settings = SyncSettings(findings=policy)  # type: ignore[arg-type]
    (action,) = plan([_pm(item)], {"t": ()}, TARGET, PEOPLE, findings, settings).actions
    assert action.op == op
    if op == "skip":
        assert action.reason == "held back until the post-mortem fixes PM304"
        return
    assert action.draft is not None
    assert ("needs-refinement" in action.draft.labels) is labelled
    assert ("PM304 (error): PM304 message" in action.draft.body) is listed


def test_each_item_not_filed_is_named_in_the_plan_with_why() -> None:
    vague = _item("Look into the pool")
    guessed = _item("Add a second relay", basis="inferred", line=9)
    blank = _item("{{ summary }}", placeholder=True, line=12)
    findings = {vague.key: [_finding(vague, c, Severity.ERROR) for c in ("PM304", "PM101")]}
    result = plan(
        [_pm(vague, guessed, blank)],
        {"t": ()},
        TARGET,
        PEOPLE,
        findings,
        SyncSettings(findings="hold"),
    )
    assert [(a.op, a.reason, a.item.title if a.item else None) for a in result.actions] == [
        ("skip", "placeholder, not a real item", "{{ summary }}"),
        ("skip", "held back until the post-mortem fixes PM101, PM304", "Look into the pool"),
        (
            "skip",
            "inferred from prose: not filed (file_inferred = false; lint PM305)",
            "Add a second relay",
        ),
    ]


def test_warnings_are_listed_but_never_label_or_hold() -> None:
    item = _item("Add alerting")
    findings = {item.key: [_finding(item, "PM201", Severity.WARNING)]}
    for policy in ("label", "hold"):
        settings = SyncSettings(findings=policy)  # type: ignore[arg-type]
        (action,) = plan([_pm(item)], {"t": ()}, TARGET, PEOPLE, findings, settings).actions
        assert action.op == "create"
        assert action.draft is not None
        assert "needs-refinement" not in action.draft.labels
        assert "PM201 (warning)" in action.draft.body


def test_held_items_already_filed_keep_being_updated() -> None:
    item = _item("Add alerting")
    snaps = _synced([_pm(item)])
    changed = _item("Add alerting", due=date(2026, 5, 1))
    findings = {changed.key: [_finding(changed, "PM304", Severity.ERROR)]}
    settings = SyncSettings(findings="hold")
    (action,) = plan([_pm(changed)], {"t": snaps}, TARGET, PEOPLE, findings, settings).actions
    assert action.op == "update"


def test_an_update_says_what_changed_in_the_tracker() -> None:
    """The reason `sync --dry-run` prints for an update names each field that differs."""
    pm = _pm(_item("Add alerting"))
    (snap,) = _synced([pm])
    snap = dataclasses.replace(snap, synced_hash="from an older sync")
    edited = dataclasses.replace(
        snap, labels=(*snap.labels, NEEDS_OWNER_LABEL), assignees=(), due=None
    )
    [(op, reason, _)] = _plan([pm], [edited])
    assert op == "update"
    assert reason == (
        f"assignees none → dk; due none → 2026-04-01; labels removed: {NEEDS_OWNER_LABEL}"
    )
    edited = dataclasses.replace(snap, labels=(), due=date(2026, 5, 1))
    [(op, reason, _)] = _plan([pm], [edited])
    assert reason == f"due 2026-05-01 → 2026-04-01; labels added: {', '.join(snap.labels)}"
    both = dataclasses.replace(snap, labels=(NEEDS_OWNER_LABEL,))
    assert _plan([pm], [both])[0][1] == (
        f"labels added: {', '.join(snap.labels)}; labels removed: {NEEDS_OWNER_LABEL}"
    )
    moved = dataclasses.replace(pm, ref=dataclasses.replace(pm.ref, link="https://wiki.test/pm-1"))
    [(op, reason, _)] = _plan([moved], [snap])
    assert reason == "description changed; link to the post-mortem changed"
