"""Follow-up rules (PM5xx): what the tracker says about a synced item now.

Pure functions of an issue snapshot, its action item (when the document still has it), its
activity (when it was read) and the clock. pmsync's own comments and labels never count as
activity, so nudges can neither keep an item fresh nor make it stale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rules.registry import RuleDoc
from syncer.model import ActionItem, Activity, Finding, IssueSnapshot, Severity

_SNOOZE_LABEL_RE = re.compile(r"^pmsync-snooze-(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True)
class FollowupContext:
    now: datetime
    stale_after: timedelta = timedelta(days=14)
    grace: timedelta = timedelta(days=1)
    due_soon: timedelta = timedelta(days=7)
    exempt_labels: frozenset[str] = frozenset({"pmsync-snooze"})

    @property
    def today(self) -> date:
        return self.now.date()


Test = Callable[[IssueSnapshot, ActionItem | None, Activity | None, FollowupContext], str | None]


@dataclass(frozen=True, slots=True)
class FollowupRule:
    code: str
    name: str
    severity: Severity
    doc: RuleDoc
    test: Test


def snoozed_until(snapshot: IssueSnapshot, item: ActionItem | None) -> date | None:
    """The day follow-up resumes: `snooze: YYYY-MM-DD` on the item or a
    `pmsync-snooze-YYYY-MM-DD` label, whichever is later."""
    days = [item.snooze] if item is not None and item.snooze else []
    for label in snapshot.labels:
        if match := _SNOOZE_LABEL_RE.match(label):
            days.append(date.fromisoformat(match[1]))
    return max(days, default=None)


def exempt(snapshot: IssueSnapshot, item: ActionItem | None, context: FollowupContext) -> bool:
    until = snoozed_until(snapshot, item)
    if until is not None and context.today < until:
        return True
    return bool(context.exempt_labels & set(snapshot.labels))


def last_activity(snapshot: IssueSnapshot, activity: Activity | None) -> datetime | None:
    """People's last activity; unread, the issue's last update bounds it from above."""
    if activity is not None:
        return activity.last_human or snapshot.created_at
    return snapshot.updated_at or snapshot.created_at


def overdue(
    s: IssueSnapshot, i: ActionItem | None, a: Activity | None, c: FollowupContext
) -> str | None:
    if s.state != "open" or s.due is None or c.today <= s.due + c.grace:
        return None
    return f"overdue: due {s.due.isoformat()}, {(c.today - s.due).days} days ago"


def due_soon(
    s: IssueSnapshot, i: ActionItem | None, a: Activity | None, c: FollowupContext
) -> str | None:
    if s.state != "open" or s.due is None or not c.today <= s.due <= c.today + c.due_soon:
        return None
    return f"due soon: {s.due.isoformat()}"


def stalled(
    s: IssueSnapshot, i: ActionItem | None, a: Activity | None, c: FollowupContext
) -> str | None:
    last = last_activity(s, a)
    if s.state != "open" or last is None or c.now - last < c.stale_after:
        return None
    return f"stalled: no activity for {(c.now - last).days} days"


def unowned(
    s: IssueSnapshot, i: ActionItem | None, a: Activity | None, c: FollowupContext
) -> str | None:
    return "unowned: nobody is assigned" if s.state == "open" and not s.assignees else None


def done_in_tracker_only(
    s: IssueSnapshot, i: ActionItem | None, a: Activity | None, c: FollowupContext
) -> str | None:
    if i is None or s.status_category != "done" or i.is_done:
        return None
    return "done in the tracker, still open in the post-mortem: mark it done there"


def done_in_document_only(
    s: IssueSnapshot, i: ActionItem | None, a: Activity | None, c: FollowupContext
) -> str | None:
    if i is None or s.status_category == "done" or not i.is_done:
        return None
    return "done in the post-mortem, still open in the tracker: close it or reopen the item"


FOLLOWUP_RULES: tuple[FollowupRule, ...] = (
    FollowupRule(
        "PM501",
        "overdue",
        Severity.ERROR,
        RuleDoc(
            what="An open item is past its due date (plus `[followup] grace_days`).",
            why="Overdue items are the ones most likely to be forgotten for good.",
            example="Due 2026-04-01, open on 2026-04-10.",
            instead="Close it, or agree a new date and change it in the post-mortem.",
        ),
        overdue,
    ),
    FollowupRule(
        "PM502",
        "due-soon",
        Severity.INFO,
        RuleDoc(
            what="An open item is due within `[followup] due_soon_days`.",
            why="A reminder before the date is kinder, and more useful, than one after it.",
            example="Due 2026-04-01, open on 2026-03-28.",
            instead="Nothing, if it is on track.",
        ),
        due_soon,
    ),
    FollowupRule(
        "PM503",
        "stalled",
        Severity.WARNING,
        RuleDoc(
            what="Nobody has commented on or changed an open item for "
            "`[followup] stale_after_days` (pmsync's own labels and comments do not count).",
            why="Silence is how action items die.",
            example="Last comment 30 days ago.",
            instead="A comment on progress, or re-scoping the item in the post-mortem.",
        ),
        stalled,
    ),
    FollowupRule(
        "PM504",
        "unowned",
        Severity.WARNING,
        RuleDoc(
            what="An open item has no assignee.",
            why="Nobody is nudged about an item nobody owns.",
            example="An issue with the needs-owner label.",
            instead="Assign the person the post-mortem names, or fix the people directory.",
        ),
        unowned,
    ),
    FollowupRule(
        "PM505",
        "done-in-tracker-only",
        Severity.INFO,
        RuleDoc(
            what="The issue is done, but the post-mortem still lists the item as open.",
            why="Readers of the post-mortem see stale status.",
            example="The issue is closed; the item has no [x].",
            instead="Mark the item done in the post-mortem (or use write-back).",
        ),
        done_in_tracker_only,
    ),
    FollowupRule(
        "PM506",
        "done-in-document-only",
        Severity.INFO,
        RuleDoc(
            what="The post-mortem marks the item done, but its issue is still open.",
            why="One of the two is wrong.",
            example="The item has [x]; the issue is open (sync with close_done = false).",
            instead="Close the issue, or reopen the item in the post-mortem.",
        ),
        done_in_document_only,
    ),
)


def follow_up(
    snapshot: IssueSnapshot,
    item: ActionItem | None,
    activity: Activity | None,
    context: FollowupContext,
    uri: str = "",
) -> list[Finding]:
    """Every follow-up finding for one synced issue; none while it is snoozed or exempt."""
    if exempt(snapshot, item, context):
        return []
    found = []
    for rule in FOLLOWUP_RULES:
        message = rule.test(snapshot, item, activity, context)
        if message is not None:
            where = uri or snapshot.ref.url
            found.append(Finding(rule.code, rule.severity, message, where, 0, snapshot.item_key))
    return found
