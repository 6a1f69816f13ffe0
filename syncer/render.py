"""What an issue for an action item says: its title, body and labels, as an `IssueDraft`.

Text copied from documents is made safe first: HTML comments are removed (nobody can plant a
marker), and mentions and references are broken with an invisible zero-width space, so that
no tracker notifies or cross-links anyone: `@name`, `@org/team`, `#123`, `org/repo#5`,
`GH-7`, Jira's `[~accountid:…]` and `[~name]`. Only the people pmsync assigns, nudges or
escalates to are mentioned, by the tracker's own `mention`.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Mapping, Sequence

from syncer.identity import content_hash, strip_comments
from syncer.model import (
    NEEDS_OWNER_LABEL,
    ActionItem,
    Finding,
    IssueDraft,
    Postmortem,
    TrackerRef,
)
from syncer.policy import Due, Owner

SYNC_LABEL = "pmsync"
ZERO_WIDTH = "\u200b"
_LIVE_RE = re.compile(
    r"(?<![\w.+-])@(?=[A-Za-z0-9])"  # @name, @org/team (not the @ of an e-mail address)
    r"|(?<!&)#(?=\d)"  # #123, org/repo#5 (not an HTML entity such as &#64;)
    r"|\bGH-(?=\d)"  # GH-7
    r"|\[(?=~)",  # Jira's [~accountid:…] and [~name]
    re.IGNORECASE,
)
MAX_TITLE = 120


_ENTITY_RE = re.compile(r"&(?:#0*64|#x0*40|commat|#0*35|#x0*23|num);", re.IGNORECASE)


def safe_text(text: str) -> str:
    """Document text as pmsync may write it to a tracker: no comments, no live mentions (an
    `&#64;` that would render as @ counts as one)."""
    text = _ENTITY_RE.sub(lambda match: html.unescape(match.group()), text)
    return _LIVE_RE.sub(lambda match: match.group() + ZERO_WIDTH, strip_comments(text))


def issue_title(item: ActionItem) -> str:
    title = " ".join(safe_text(item.title).split())
    if len(title) <= MAX_TITLE:
        return title
    sentence = re.match(r"(.{20,}?[.!?])\s", title)
    if sentence and len(sentence.group(1)) <= MAX_TITLE:
        return sentence.group(1)
    return title[: MAX_TITLE - 1].rstrip() + "…"


def render_draft(
    item: ActionItem,
    postmortem: Postmortem,
    *,
    owner: Owner,
    due: Due,
    assignees: tuple[str, ...] = (),
    findings: Sequence[Finding] = (),
    labels: Sequence[str] = (),
    kept: Mapping[str, str] | None = None,
    promised_before: tuple[TrackerRef, Postmortem] | None = None,
) -> IssueDraft:
    """The issue pmsync wants for `item`; `assignees` are the owner's handles in this tracker.

    `kept` names the policy-set fields a person changed in the tracker (`owner` and `due` then
    hold the tracker's values), with the value pmsync had set, which the marker keeps.
    `promised_before`: the issue of an earlier post-mortem's item that this one repeats."""
    kept = kept or {}
    owner_row, neutral_owner = _owner_row(item, owner, assignees, "assignee" in kept)
    due_row, neutral_due = _due_row(item, due, "due" in kept)
    head = [safe_text(item.title)]
    if item.description:
        head += ["", safe_text(item.description)]
    head += ["", "| | |", "|---|---|"]
    rest = []
    for name, value in (("Priority", item.priority), ("Kind", item.kind)):
        if value:
            rest.append(f"| {name} | {safe_text(value)} |")
    link = f"[{safe_text(postmortem.title)}]({postmortem.ref.display_link})"
    # No line number: moving an item within the document must not rewrite its issue.
    rest.append(f"| Post-mortem | {link} |")
    cause = item.root_cause or (
        postmortem.root_causes[0] if len(postmortem.root_causes) == 1 else None
    )
    if cause:
        rest.append(f"| Root cause | {safe_text(cause)} |")
    if item.tickets:
        rest.append(f"| Tickets | {', '.join(safe_text(t) for t in item.tickets)} |")
    if promised_before is not None:
        ref, earlier = promised_before
        rest.append(
            f"| Promised before | {ref.key} {ref.url} in the post-mortem "
            f"[{safe_text(earlier.title)}]({earlier.ref.display_link}) |"
        )
    if findings:
        rest += ["", "**Checks to address in the post-mortem:**", ""]
        rest += [f"- {f.code} ({f.severity}): {safe_text(f.message)}" for f in findings]
    tail = ["", f"Due: {due.day.isoformat()}"] if due.day else []

    all_labels = {SYNC_LABEL, *labels}
    if not assignees:
        all_labels.add(NEEDS_OWNER_LABEL)
    if owner.team:
        all_labels.add(owner.team)
    policy = []
    if owner.by_policy:
        policy.append(("assignee", kept.get("assignee", ",".join(sorted(assignees)))))
    if due.by_policy:
        policy.append(("due", kept.get("due", due.day.isoformat() if due.day else "")))
    draft = IssueDraft(
        item_key=item.key,
        postmortem_id=postmortem.id,
        title=issue_title(item),
        body="\n".join([*head, owner_row, *due_row, *rest, *tail]),
        assignees=assignees,
        due=due.day,
        labels=tuple(sorted(all_labels)),
        priority=item.priority,
        source_url=postmortem.ref.link,
        source_title=postmortem.title,
        policy=tuple(policy),
    )
    # The hash sees policy-set values as "policy": the planner compares those itself.
    neutral = [*head, neutral_owner, *neutral_due, *rest, *([] if due.by_policy else tail)]
    return dataclasses.replace(draft, content_hash=content_hash(draft, "\n".join(neutral)))


_POLICY_ROW = "set by policy"


def _owner_row(
    item: ActionItem, owner: Owner, assignees: Sequence[str], kept: bool
) -> tuple[str, str]:
    """The Owner row, and the row as the content hash sees it."""
    person = owner.person
    if kept:
        name = person.key if person is not None else safe_text(", ".join(assignees)) or "none"
        row = f"| Owner | {name}: changed in the tracker after pmsync assigned it by policy |"
    elif owner.by_policy and person is not None:
        row = (
            f"| Owner | {person.key}: {owner.role}, assigned by policy because "
            f"{safe_text(owner.reason)}. Please reassign it to whoever should own it. |"
        )
    elif person is not None:
        row = f"| Owner | {person.key} |"
    else:
        if item.owner:
            row = f"| Owner | {safe_text(item.owner)} (not in the people directory)"
        else:
            row = "| Owner | none named in the post-mortem"
        if owner.tried:
            row += f"; no policy could fill it: {safe_text('; '.join(owner.tried))}"
        row += " |"
    return row, f"| Owner | {_POLICY_ROW} |" if owner.by_policy else row


def _due_row(item: ActionItem, due: Due, kept: bool) -> tuple[list[str], list[str]]:
    """The Due row (none when there is nothing to say), and as the content hash sees it."""
    day = due.day.isoformat() if due.day else None
    if kept:
        rows = [f"| Due | {day or 'none'}: changed in the tracker after pmsync set it by policy |"]
    elif day and due.why:
        rows = [f"| Due | {day}: {safe_text(due.why)} |"]
    elif day:
        rows = [f"| Due | {day} |"]
    elif item.due_text:
        rows = [f"| Due | {safe_text(item.due_text)} (not understood as a date) |"]
    else:
        rows = []
    return rows, [f"| Due | {_POLICY_ROW} |"] if due.by_policy else rows
