"""Deciding the follow-up of synced issues: flag what is stalled or overdue, nudge its owner
at most once per `nudge_every_days`, escalate to the manager after `escalate_after` nudges, and
clear the flags when the condition clears. Pure: tracker state, history and the clock in, a plan
out. The history of nudges is read from the tracker, so a fresh container never double-nudges.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from rules.followup import FollowupContext, exempt, follow_up
from syncer.identity import render_nudge_marker
from syncer.model import (
    ActionItem,
    Activity,
    Finding,
    IssueDraft,
    IssueSnapshot,
    Postmortem,
    TrackerRef,
)
from syncer.people import handle_for
from syncer.policy import Policy
from syncer.render import safe_text
from syncer.review import due_reviews, is_review, review_draft
from syncer.settings import FollowupSettings

FLAGS = {"PM501": "overdue", "PM503": "stalled"}
ESCALATED = "escalated"


@dataclass(frozen=True, slots=True)
class FollowAction:
    """One follow-up write, with the reason a person can read in `pmsync check`."""

    op: Literal["label", "unlabel", "nudge", "review-open", "review-update"]
    tracker: str
    ref: TrackerRef | None  # None for a review issue yet to be opened
    item_key: str
    reason: str
    labels: tuple[str, ...] = ()
    comment: str = ""
    escalated: bool = False
    draft: IssueDraft | None = None
    links: tuple[TrackerRef, ...] = ()  # items whose issues should point at the review


def context_of(settings: FollowupSettings, now: datetime) -> FollowupContext:
    return FollowupContext(
        now=now,
        stale_after=timedelta(days=settings.stale_after_days),
        grace=timedelta(days=settings.grace_days),
        due_soon=timedelta(days=settings.due_soon_days),
        exempt_labels=frozenset(settings.exempt_labels),
    )


def needs_activity(snap: IssueSnapshot, context: FollowupContext) -> bool:
    """Whether deciding about this issue needs its activity read: it is flagged, overdue, or
    untouched for the stale period. Other issues were changed recently by someone, and cost
    no read: a check of many items reads in proportion to the few that are stuck."""
    if snap.state != "open":
        return False
    if set(FLAGS.values()) & set(snap.labels):
        return True
    if snap.due is not None and context.today > snap.due + context.grace:
        return True
    last = snap.updated_at or snap.created_at
    return last is not None and context.now - last >= context.stale_after


def plan_follow_up(
    tracker: str,
    tracker_kind: str,
    mention: Callable[[str], str],
    snapshots: Sequence[IssueSnapshot],
    activities: Mapping[TrackerRef, Activity],
    items: Mapping[str, tuple[Postmortem, ActionItem]],
    policy: Policy,
    settings: FollowupSettings,
    now: datetime,
) -> tuple[list[FollowAction], list[Finding]]:
    """Flags, nudges and escalations for the issues of one tracker. A nudge always reaches a
    person: the owner, or for an item nobody owns the triage person of its post-mortem's
    team; with nobody to reach it is not written (the digest lists the item as needing an
    owner). An escalation is counted only when a manager is named in it."""
    context = context_of(settings, now)
    actions: list[FollowAction] = []
    findings: list[Finding] = []
    for snap in snapshots:
        if is_review(snap.item_key):
            continue
        postmortem, item = items.get(snap.item_key, (None, None))
        activity = activities.get(snap.ref)
        found = follow_up(snap, item, activity, context)
        findings += found
        conditions = {FLAGS[f.code] for f in found if f.code in FLAGS}
        if snap.state != "open" or exempt(snap, item, context):
            conditions = set()
        present = set(snap.labels)
        stale_flags = (set(FLAGS.values()) | {ESCALATED}) & present
        clear = sorted(stale_flags - conditions - ({ESCALATED} if conditions else set()))
        if clear:
            actions.append(
                FollowAction(
                    "unlabel",
                    tracker,
                    snap.ref,
                    snap.item_key,
                    f"cleared: {', '.join(clear)}",
                    labels=tuple(clear),
                )
            )
        add = sorted(conditions - present)
        if add:
            reasons = "; ".join(f.message for f in found if f.code in FLAGS)
            actions.append(
                FollowAction("label", tracker, snap.ref, snap.item_key, reasons, labels=tuple(add))
            )
        if conditions and activity is not None:
            nudge = _nudge(
                snap,
                activity,
                postmortem,
                found,
                conditions,
                policy,
                tracker,
                tracker_kind,
                mention,
                settings,
                now,
            )
            if nudge is not None:
                actions.append(nudge)
    return actions, findings


def _nudge(
    snap: IssueSnapshot,
    activity: Activity,
    postmortem: Postmortem | None,
    found: Sequence[Finding],
    conditions: set[str],
    policy: Policy,
    tracker: str,
    kind: str,
    mention: Callable[[str], str],
    settings: FollowupSettings,
    now: datetime,
) -> FollowAction | None:
    last = activity.last_nudge
    if last is not None and now - last.at < timedelta(days=settings.nudge_every_days):
        return None
    directory = policy.directory
    owner = snap.assignees[0] if snap.assignees else None
    triage = None if owner else policy.triage_of(postmortem)
    if owner is None and triage is None:
        return None  # nobody to address: the digest lists it as needing an owner
    replied = last is not None and activity.last_human is not None and activity.last_human > last.at
    count = 1 if last is None or replied else last.count + 1
    reason_kind = "overdue" if "overdue" in conditions else "stalled"
    person = directory.resolve(owner) if owner else None
    manager = directory.resolve(person.manager) if person and person.manager else None
    escalate = count > settings.escalate_after and manager is not None
    what = (
        "this action item"
        + (f' from the post-mortem "{safe_text(postmortem.title)}"' if postmortem else "")
        + f" is {' and '.join(sorted(conditions))}: "
        + "; ".join(f.message.split(": ", 1)[-1] for f in found if f.code in FLAGS)
        + "."
    )
    if owner is not None:
        lines = [
            f"{mention(owner)}, {what}",
            "",
            "Is it still on track? A short comment on progress is enough. If the plan changed, "
            "change the owner or due date in the post-mortem and pmsync will follow.",
        ]
    else:
        assert triage is not None
        lines = [
            f"{mention(handle_for(triage, kind))}, {what} Nobody owns it, and you take your "
            "team's unowned items: please find it an owner (assign them here, or name them in "
            "the post-mortem).",
        ]
    if escalate and manager is not None:
        lines += ["", f"cc {mention(handle_for(manager, kind))}: reminder {count} on this item."]
    lines += ["", render_nudge_marker(reason_kind, count, escalate)]
    return FollowAction(
        "nudge",
        tracker,
        snap.ref,
        snap.item_key,
        f"nudge {count}"
        + (" (escalated to the manager)" if escalate else "")
        + ("" if owner else " (to the team's triage person: no owner)"),
        labels=(ESCALATED,) if escalate and ESCALATED not in snap.labels else (),
        comment="\n".join(lines),
        escalated=escalate,
    )


def plan_reviews(
    tracker: str,
    tracker_kind: str,
    postmortems: Sequence[Postmortem],
    snapshots: Sequence[IssueSnapshot],
    policy: Policy,
    settings: FollowupSettings,
    now: datetime,
) -> list[FollowAction]:
    """Open the review of each post-mortem whose review day has come, assigned to who runs it
    (`Policy.review_owner`); keep open ones current."""
    by_key = {snap.item_key: snap for snap in snapshots}
    actions = []
    for postmortem, day in due_reviews(postmortems, settings.review_after_weeks, now.date()):
        facilitator = policy.review_owner(postmortem)
        assignee = handle_for(facilitator, tracker_kind) if facilitator else None
        draft = review_draft(postmortem, by_key, facilitator, assignee, day)
        existing = by_key.get(draft.item_key)
        if existing is None:
            links = tuple(by_key[item.key].ref for item in postmortem.items if item.key in by_key)
            actions.append(
                FollowAction(
                    "review-open",
                    tracker,
                    None,
                    draft.item_key,
                    f"review of {postmortem.id} due {day.isoformat()}",
                    draft=draft,
                    links=links,
                )
            )
        elif existing.state == "open" and existing.synced_hash != draft.content_hash:
            actions.append(
                FollowAction(
                    "review-update",
                    tracker,
                    existing.ref,
                    draft.item_key,
                    "item status changed",
                    draft=draft,
                )
            )
    return actions
