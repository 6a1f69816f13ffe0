"""Deciding what a sync does: create, update, close or leave each issue, and why.

Pure: the plan is a function of the post-mortems read, the tracker snapshots and the settings.
The tracker is the source of truth; the marker in each issue is the key.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from rules.catalogue import INFERRED_CODE, POLICY_CODES
from syncer import promises
from syncer.identity import RETITLE_THRESHOLD, strip_comments, title_similarity
from syncer.model import (
    NEEDS_REFINEMENT_LABEL,
    ActionItem,
    Finding,
    IssueDraft,
    IssueSnapshot,
    PlannedAction,
    Postmortem,
    Severity,
    SyncPlan,
    TrackerRef,
    outcome_of,
    stale_labels,
)
from syncer.people import Directory, handle_for
from syncer.policy import Due, Owner, Policy
from syncer.promises import Link
from syncer.render import issue_title, render_draft, safe_text
from syncer.review import is_review
from syncer.settings import SyncSettings


@dataclass(frozen=True, slots=True)
class Life:
    """What the run knows of the documents' life between runs (`syncer.continuity`): the
    moves (old id → "old path → new path"), the documents whose read may be torn and is held
    (id → why), those deleted longer than the grace whose issues close (id → why), and the
    items that were taken out of their post-mortem and are back (keys)."""

    moved: Mapping[str, str] = field(default_factory=dict)
    held: Mapping[str, str] = field(default_factory=dict)
    expired: Mapping[str, str] = field(default_factory=dict)
    returned: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Target:
    """A tracker as the planner sees it: its name, kind and the labels every issue gets."""

    name: str
    kind: str
    labels: tuple[str, ...] = ()


def plan(
    postmortems: Sequence[Postmortem],
    snapshots: Mapping[str, Sequence[IssueSnapshot]],
    targets: Mapping[str, Target],
    directory: Directory,
    findings: Mapping[str, Sequence[Finding]],
    settings: SyncSettings,
    policy: Policy | None = None,
    today: date | None = None,
    file_inferred: bool = False,
    life: Life | None = None,
    links: Mapping[str, Link] | None = None,
) -> SyncPlan:
    """The plan for every tracker. `postmortems` carry their resolved route in `.route`;
    `policy` fills owners and due dates the documents leave out; `today` is the day new
    issues are filed (for a due-date policy counted from filing). Inferred items (read from
    prose) get new issues only with `file_inferred`; one already filed is followed either way.

    A tracker missing from `snapshots` could not be read; its items are skipped, not created,
    since creating without knowing what exists is how duplicates are made. `life` says what
    happened to documents since the last runs (moves, torn reads, deletions, returns).
    `links` name the earlier item each repeated item promises again (`syncer.promises`).
    """
    policy = policy or Policy(directory)
    life = life or Life()
    recur = Recur(links or {}, frozenset(pm.id for pm in postmortems))
    actions: list[PlannedAction] = []
    by_tracker: dict[str, list[Postmortem]] = defaultdict(list)
    for postmortem in postmortems:
        by_tracker[postmortem.route or ""].append(postmortem)
    if life.expired:  # a deleted post-mortem's issues close where they are
        for name in snapshots:
            by_tracker.setdefault(name, [])
    for name, routed in by_tracker.items():
        target = targets.get(name)
        if target is None or name not in snapshots:
            why = "no such tracker" if target is None else "tracker could not be read"
            actions += [
                PlannedAction("skip", name, f"{why}: {name!r}", item=item)
                for postmortem in routed
                for item in postmortem.items
                if not item.placeholder
            ]
            continue
        actions += _plan_tracker(
            routed,
            snapshots[name],
            target,
            findings,
            settings,
            policy,
            today,
            file_inferred,
            life,
            recur,
        )
    return SyncPlan(tuple(actions))


def _plan_tracker(
    postmortems: Sequence[Postmortem],
    snapshots: Sequence[IssueSnapshot],
    target: Target,
    findings: Mapping[str, Sequence[Finding]],
    settings: SyncSettings,
    policy: Policy,
    today: date | None,
    file_inferred: bool,
    life: Life,
    recur: Recur,
) -> list[PlannedAction]:
    current, actions = deduplicate(target.name, snapshots)

    items = [
        (postmortem, item)
        for postmortem in postmortems
        for item in postmortem.items
        if not item.placeholder
    ]
    matched = pair(items, current, recur.read)
    named = promises.by_reference(current.values())
    for postmortem in postmortems:
        for item in postmortem.items:
            if item.placeholder:
                actions.append(
                    PlannedAction("skip", target.name, "placeholder, not a real item", item=item)
                )
    for postmortem, item in items:
        existing = matched.get(item.key)
        same = promises.marked(item, postmortem, named, recur.read)
        if same is not None:
            actions.append(_marked(item, postmortem, existing, same, target))
            continue
        if existing is not None and existing.ref.url in item.tickets:
            # The link write-back put in the document names the issue itself, not a ticket.
            own = existing.ref.url
            item = replace(item, tickets=tuple(t for t in item.tickets if t != own))
        if existing is None and item.basis == "inferred" and not file_inferred:
            reason = f"inferred from prose: not filed (file_inferred = false; lint {INFERRED_CODE})"
            actions.append(PlannedAction("skip", target.name, reason, item=item))
            continue
        found = () if settings.findings == "ignore" else tuple(findings.get(item.key, ()))
        # What the policies fill in is said in the issue's own rows, not as a check.
        found = tuple(f for f in found if f.code not in POLICY_CODES)
        errors = sorted({f.code for f in found if f.severity is Severity.ERROR})
        refine = (NEEDS_REFINEMENT_LABEL,) if errors and settings.findings == "label" else ()
        if existing is None and errors and settings.findings == "hold":
            reason = f"held back until the post-mortem fixes {', '.join(errors)}"
            actions.append(PlannedAction("skip", target.name, reason, item=item))
            continue
        filed = existing.created_at.date() if existing and existing.created_at else today
        owner = policy.owner(item, postmortem)
        due = policy.due(item, postmortem, filed)
        labels = (*target.labels, *settings.labels, *refine)
        link = recur.links.get(item.key)
        earlier = matched.get(link.earlier_item.key) if link is not None else None
        if earlier is not None and not promises.worth_linking(earlier, existing):
            earlier = None
        before = (earlier.ref, link.earlier) if earlier is not None and link is not None else None
        draft, unset, owner, due = _draft(
            item, postmortem, owner, due, existing, target, policy.directory, found, labels, before
        )
        action = _plan_item(
            item, draft, existing, target, settings, unset, item.key in life.returned
        )
        if earlier is not None and action.op in ("create", "update", "unchanged"):
            remark = promises.repeat_remark(earlier.ref, item, postmortem)
            reason = action.reason
            if action.op != "unchanged":
                reason = f"{reason}; promised before as {earlier.ref.key}"
            action = replace(action, remark=remark, reason=reason)
        if postmortem.id in life.moved and action.op == "update":
            moved = f"moved {life.moved[postmortem.id]}"
            action = replace(action, reason=f"{moved}; {action.reason}")
        if postmortem.id in life.held and action.op not in ("unchanged", "skip"):
            reason = f"held, nothing written: {life.held[postmortem.id]}"
            action = PlannedAction("skip", target.name, reason, item=item, target=action.target)
        handover = None
        if owner.by_policy and owner.person is not None and "assignee" in dict(draft.policy):
            new_assignee = action.op == "create" or "assignees" in action.changes
            if new_assignee and draft.assignees:
                handover = (draft.assignees[0], _handover_note(owner))
        actions.append(
            replace(
                action,
                owner=owner.person.key if owner.person else "",
                owner_why=owner.explain(),
                due=due.day.isoformat() if due.day else "",
                due_why=due.why,
                handover=handover,
            )
        )

    routed_ids = {postmortem.id for postmortem in postmortems} - set(life.held)
    used = {snap.ref for snap in matched.values()}
    for snap in current.values():
        if snap.ref in used or snap.state != "open":
            continue
        gone = life.expired.get(snap.postmortem_id or "")
        if gone is not None:
            actions.append(
                PlannedAction(
                    "close", target.name, gone, target=snap.ref, close_reason="not_planned"
                )
            )
        elif settings.close_removed and snap.postmortem_id in routed_ids:
            actions.append(
                PlannedAction(
                    "close",
                    target.name,
                    # Where it was removed from, for whoever reads the closing comment.
                    f"no longer in the post-mortem {snap.postmortem_id}",
                    target=snap.ref,
                    close_reason="not_planned",
                )
            )
    return actions


def deduplicate(
    tracker: str, snapshots: Sequence[IssueSnapshot], *, reviews: bool = False
) -> tuple[dict[str, IssueSnapshot], list[PlannedAction]]:
    """The issue kept for each item (the oldest: every run picks the same one), and a close
    for each other open issue carrying the same item's marker. Action items, or with
    `reviews` the follow-up review issues, which are `pmsync check`'s."""
    by_key: dict[str, list[IssueSnapshot]] = defaultdict(list)
    for snap in snapshots:
        if is_review(snap.item_key) == reviews:
            by_key[snap.item_key].append(snap)
    current: dict[str, IssueSnapshot] = {}
    closes: list[PlannedAction] = []
    for key, group in by_key.items():
        keeper, *extra = sorted(group, key=_age)
        current[key] = keeper
        closes += [
            PlannedAction(
                "close",
                tracker,
                f"duplicate of {keeper.ref.key}",
                target=dup.ref,
                close_reason="duplicate",
                keeper=keeper.ref,
            )
            for dup in extra
            if dup.state == "open"
        ]
    return current, closes


def _draft(
    item: ActionItem,
    postmortem: Postmortem,
    owner: Owner,
    due: Due,
    snap: IssueSnapshot | None,
    target: Target,
    directory: Directory,
    findings: Sequence[Finding],
    labels: Sequence[str],
    before: tuple[TrackerRef, Postmortem] | None = None,
) -> tuple[IssueDraft, bool, Owner, Due]:
    """The draft for an item, whether a policy-set field still differs in the tracker, and
    the owner and due date the issue ends up with.

    A person's change to a field pmsync set by policy is kept: the draft takes the tracker's
    value there, and the marker keeps the value pmsync had set, so the change stays known as
    a person's. A value nobody recorded (set in the tracker before any policy) is kept too."""
    handles: tuple[str, ...] = (handle_for(owner.person, target.kind),) if owner.person else ()

    def render(
        owner: Owner, due: Due, handles: tuple[str, ...], kept: Mapping[str, str] | None = None
    ) -> IssueDraft:
        return render_draft(
            item,
            postmortem,
            owner=owner,
            due=due,
            assignees=handles,
            findings=findings,
            labels=labels,
            kept=kept,
            promised_before=before,
        )

    draft = render(owner, due, handles)
    if snap is None:
        return draft, False, owner, due
    recorded = dict(snap.policy)
    current = {
        "assignee": ",".join(sorted(snap.assignees)),
        "due": snap.due.isoformat() if snap.due else "",
    }
    kept: dict[str, str] = {}
    unset = False
    for name, value in draft.policy:
        was = recorded.get(name)
        if was is None and current[name]:
            was = ""  # someone set it in the tracker before a policy did
        if was is not None and current[name] != was:
            kept[name] = was
        elif current[name] != value:
            unset = True
    if not kept:
        return draft, unset, owner, due
    if "assignee" in kept:
        person = next((p for h in snap.assignees if (p := directory.resolve(h))), None)
        owner = replace(owner, person=person, role=KEPT, reason="")
        handles = snap.assignees
    if "due" in kept:
        due = Due(snap.due, KEPT, by_policy=True)
    return render(owner, due, handles, kept), unset, owner, due


KEPT = "changed in the tracker after pmsync set it by policy"


@dataclass(frozen=True, slots=True)
class Recur:
    """What the planner knows of items promised again: the earlier item each repeats (by the
    new item's key), and the ids of the post-mortems read."""

    links: Mapping[str, Link]
    read: frozenset[str]


def _marked(
    item: ActionItem,
    postmortem: Postmortem,
    own: IssueSnapshot | None,
    same: IssueSnapshot,
    target: Target,
) -> PlannedAction:
    """An item its author marked as the same promise as the earlier issue `same`: nothing is
    filed, the earlier issue is told once; an issue filed for it before the marking closes as
    a duplicate of the earlier one."""
    note = promises.marked_remark(same.ref, item, postmortem)
    if own is not None and own.state == "open" and own.ref != same.ref:
        return PlannedAction(
            "close",
            target.name,
            f"marked in the post-mortem as the same as {same.ref.key}",
            item=item,
            target=own.ref,
            close_reason="duplicate",
            keeper=same.ref,
            remark=note,
        )
    reason = f"the same as {same.ref.key} (marked in the post-mortem): promised again, noted there"
    return PlannedAction("skip", target.name, reason, item=item, remark=note)


def _handover_note(owner: Owner) -> str:
    return (
        f"pmsync assigned this action item to you as {owner.role}, because "
        f"{safe_text(owner.reason)}. If someone else should own it, please reassign it: "
        "pmsync will not change it back."
    )


def _age(snap: IssueSnapshot) -> tuple[datetime, int, str]:
    """Oldest first: by creation time, then by number (`#9` before `#10`, `OPS-9` before
    `OPS-10`), so every run picks the same issue to keep."""
    created = snap.created_at or datetime.max.replace(tzinfo=UTC)
    digits = re.search(r"(\d+)$", snap.ref.key)
    return created, int(digits.group(1)) if digits else 0, snap.ref.key


def pair(
    items: Sequence[tuple[Postmortem, ActionItem]],
    current: Mapping[str, IssueSnapshot],
    read: Collection[str] = (),
) -> dict[str, IssueSnapshot]:
    """Issue for each item: the one the document links the item to (write-back put the link
    there), else by key, else an unclaimed issue of the same post-mortem whose title is close
    enough (the item was retitled in the document). A link to the issue of another
    post-mortem that is `read` too marks a repeat (`syncer.promises`), not the item's own."""
    by_url = {snap.ref.url: snap for snap in current.values() if snap.ref.url}
    matched: dict[str, IssueSnapshot] = {}

    def own(snap: IssueSnapshot, postmortem: Postmortem) -> bool:
        theirs = snap.postmortem_id
        return not theirs or theirs == postmortem.id or theirs not in read

    for postmortem, item in items:
        linked = next(
            (by_url.pop(t) for t in item.tickets if t in by_url and own(by_url[t], postmortem)),
            None,
        )
        if linked is not None:
            matched[item.key] = linked
    claimed = {snap.ref for snap in matched.values()}
    for _, item in items:
        snap = current.get(item.key)
        if item.key not in matched and snap is not None and snap.ref not in claimed:
            matched[item.key] = snap
            claimed.add(snap.ref)
    spare = [snap for snap in current.values() if snap.ref not in claimed]
    candidates = sorted(
        (
            (_similarity(item, snap), index, item.key, snap)
            for index, (postmortem, item) in enumerate(items)
            if item.key not in matched
            for snap in spare
            if snap.postmortem_id == postmortem.id
        ),
        key=lambda entry: (-entry[0], entry[1]),
    )
    for score, _, key, snap in candidates:
        if score < RETITLE_THRESHOLD:
            break
        if key in matched or snap.ref in claimed:
            continue
        matched[key] = snap
        claimed.add(snap.ref)
    return matched


def _similarity(item: ActionItem, snap: IssueSnapshot) -> float:
    """How close an item is to an issue's title: as the item would be filed (a long title is
    filed as its first sentence), or as written."""
    return max(
        title_similarity(issue_title(item), snap.title), title_similarity(item.title, snap.title)
    )


def _plan_item(
    item: ActionItem,
    draft: IssueDraft,
    snap: IssueSnapshot | None,
    target: Target,
    settings: SyncSettings,
    unset: bool,
    returned: bool = False,
) -> PlannedAction:
    """`unset`: a field set by policy does not hold the policy's value in the tracker yet;
    `returned`: the item was taken out of its post-mortem and is back."""
    where = f"{item.postmortem_id}:{item.line}"
    if snap is None:
        if item.is_done and settings.close_done:
            return PlannedAction(
                "skip", target.name, "done in the post-mortem before it was filed", item=item
            )
        return PlannedAction("create", target.name, f"new item at {where}", item=item, draft=draft)
    if item.is_done and settings.close_done and snap.state == "open":
        return PlannedAction(
            "close",
            target.name,
            "marked done in the post-mortem",
            item=item,
            target=snap.ref,
            close_reason="completed",
        )
    if returned and not item.is_done and outcome_of(snap) == "dropped":
        changes = _changes(draft, snap)
        return PlannedAction(
            "reopen",
            target.name,
            f"back in the post-mortem at {where}",
            item=item,
            target=snap.ref,
            draft=draft,
            changes=changes,
        )
    same = draft.content_hash == snap.synced_hash and draft.item_key == snap.item_key
    if same and not unset:
        return PlannedAction(
            "unchanged", target.name, "no change since last sync", item=item, target=snap.ref
        )
    changes = _changes(draft, snap)
    reason = "; ".join(_describe(name, old, new) for name, (old, new) in changes.items())
    if snap.item_key != draft.item_key:
        reason = (
            f"retitled in the post-mortem; {reason}" if reason else "retitled in the post-mortem"
        )
    return PlannedAction(
        "update",
        target.name,
        reason or "refresh pmsync's marker",
        item=item,
        target=snap.ref,
        draft=draft,
        changes=changes,
    )


def _changes(draft: IssueDraft, snap: IssueSnapshot) -> dict[str, tuple[object, object]]:
    """The fields whose value in the tracker differs from what pmsync wants now."""
    changes: dict[str, tuple[object, object]] = {}
    if draft.title != snap.title:
        changes["title"] = (snap.title, draft.title)
    if strip_comments(snap.body).rstrip() != draft.body.rstrip():
        changes["body"] = ("…", "…")
        if draft.source_url and draft.source_url not in snap.body:
            changes["link"] = ("…", draft.source_url)  # the post-mortem moved
    if sorted(draft.assignees) != sorted(snap.assignees):
        changes["assignees"] = (tuple(snap.assignees), tuple(draft.assignees))
    if draft.due != snap.due:
        changes["due"] = (snap.due, draft.due)
    missing = sorted(set(draft.labels) - set(snap.labels))
    stale = sorted(stale_labels(draft, snap.labels))
    if missing or stale:
        changes["labels"] = (tuple(stale), tuple(missing))
    return changes


def _describe(name: str, old: object, new: object) -> str:
    if name == "body":
        return "description changed"
    if name == "link":
        return "link to the post-mortem changed"
    if name == "title":
        return "title changed"
    if name == "labels":  # (removed, added)
        said = [f"labels added: {_show(new)}"] if new else []
        return "; ".join([*said, *([f"labels removed: {_show(old)}"] if old else [])])
    return f"{name} {_show(old)} → {_show(new)}"


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "none"
    return "none" if value is None else str(value)
