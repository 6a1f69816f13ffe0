"""`pmsync check`, composed: read the post-mortems and every tracker's synced issues, read the
activity of the issues that need it, plan the follow-up, and (unless dry) carry it out.

An issue that could not be read is reported as not checked and left as it is; the next run
checks it again, and the history in the tracker keeps it from being flagged or nudged twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from connectors.base import DocumentSource, Leasing, RenewsWebhooks, Tracker, Transactional
from syncer import logs
from syncer.applier import apply
from syncer.continuity import as_filed
from syncer.errors import STOPPING, ConfigError, FatalError, Interrupted, PmsyncError
from syncer.followup import (
    FollowAction,
    context_of,
    needs_activity,
    plan_follow_up,
    plan_reviews,
)
from syncer.history import IssueHistory
from syncer.metrics import record_items
from syncer.model import (
    ActionItem,
    Finding,
    IssueSnapshot,
    Postmortem,
    SyncPlan,
    TrackerRef,
)
from syncer.pipeline import read_activities, read_snapshots, route_for, set_up
from syncer.planner import deduplicate
from syncer.policy import Policy
from syncer.progress import entries_of, tally
from syncer.reading import Problem
from syncer.review import due_reviews, invitation, is_review, review_key
from syncer.settings import Settings

log = logs.get_logger("pmsync.check")
UNOWNED = "PM504"
_EVENTS = {
    "label": "issue_flagged",
    "unlabel": "issue_cleared",
    "nudge": "issue_nudged",
    "review-open": "review_opened",
    "review-update": "review_updated",
}


@dataclass(frozen=True, slots=True)
class FollowOutcome:
    action: FollowAction
    ok: bool = True
    error: str | None = None
    ref: TrackerRef | None = None


@dataclass(slots=True)
class CheckRun:
    outcomes: list[FollowOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    not_checked: list[TrackerRef] = field(default_factory=list)
    dry_run: bool = False
    # What a person reads for each issue, by item key: its title, its post-mortem's title, and
    # where it is ("gh #12").
    titles: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        done = [o for o in self.outcomes if o.ok]
        return {
            "flagged": sum(1 for o in done if o.action.op == "label"),
            "nudged": sum(1 for o in done if o.action.op == "nudge"),
            "escalated": sum(1 for o in done if o.action.op == "nudge" and o.action.escalated),
            "cleared": sum(1 for o in done if o.action.op == "unlabel"),
            "review_opened": sum(1 for o in done if o.action.op == "review-open"),
            "review_updated": sum(1 for o in done if o.action.op == "review-update"),
            "failed": sum(1 for o in self.outcomes if not o.ok),
            "not_checked": len(self.not_checked),
        }


def check(
    settings: Settings,
    *,
    now: datetime,
    dry_run: bool,
    trackers: Mapping[str, Tracker] | None = None,
    sources: Sequence[DocumentSource] | None = None,
) -> CheckRun:
    setup = set_up(settings, now=now, trackers=trackers, sources=sources)
    directory, policy, reading, active = (
        setup.directory,
        setup.policy,
        setup.reading,
        setup.trackers,
    )
    run = CheckRun(problems=list(reading.problems), dry_run=dry_run)
    context = context_of(settings.followup, now)
    history = IssueHistory.load(settings.path(settings.state_dir))
    for name, tracker in active.items():
        hooked = settings.trackers[name].webhook_secret_file is not None
        if isinstance(tracker, RenewsWebhooks) and hooked and not dry_run:
            try:  # before they lapse: a lapsed webhook is silence nobody notices
                tracker.renew_webhooks()
            except PmsyncError as exc:
                log.warning("webhooks_not_renewed", tracker=name, error=str(exc))
        snapshots = read_snapshots(name, tracker, run.problems)
        if snapshots is None:
            continue
        # The post-mortems as this tracker's issues know them (moved, retitled items).
        postmortems = as_filed(reading.postmortems, snapshots, reading.present({}))
        items: dict[str, tuple[Postmortem, ActionItem]] = {
            item.key: (pm, item) for pm in postmortems for item in pm.items
        }
        for snap in snapshots:
            pm, item = items.get(snap.item_key, (None, None))
            run.titles[snap.item_key] = (
                item.title if item else snap.title,
                pm.title if pm else (snap.postmortem_id or ""),
                f"{name} {snap.ref.key}",
            )
        for pm in postmortems:
            run.titles.setdefault(review_key(pm.id), ("Follow-up review", pm.title, name))
        needed = [snap.ref for snap in snapshots if needs_activity(snap, context)]
        # Histories not known yet ride along: once read, they are kept (`syncer.history`).
        asked = set(needed)
        learning = [s.ref for s in history.wanted(snapshots) if s.ref not in asked]
        activities, unread = read_activities(name, tracker, needed + learning, run.problems)
        for snap in snapshots:
            if snap.ref in activities:
                history.learn(snap, activities[snap.ref])
        unread &= asked  # a history not read now is read on the next run
        run.not_checked += sorted(unread, key=lambda ref: ref.key)
        actions, findings = plan_follow_up(
            name,
            tracker.kind,
            tracker.mention,
            [snap for snap in snapshots if snap.ref not in unread],
            activities,
            items,
            policy,
            settings.followup,
            now,
        )
        routed = [pm for pm in postmortems if route_for(pm, settings.routing) == name]
        # Reviews show the issues as they will be once this run's flags are set.
        flagged = _after(snapshots, actions)
        actions += plan_reviews(name, tracker.kind, routed, flagged, policy, settings.followup, now)
        run.findings += [_why_unowned(f, items, policy) for f in findings]
        with ExitStack() as lease:
            if not dry_run and any(a.op == "review-open" for a in actions):
                actions = _reviews_under_lease(name, tracker, actions, lease, run.problems)
            outcomes = [FollowOutcome(a) for a in actions] if dry_run else _apply(tracker, actions)
            if any(o.ok and o.action.op == "review-open" for o in outcomes):
                outcomes = _converge_reviews(name, tracker, outcomes, run.problems)
        run.outcomes += outcomes
        opened = sum(o.ok and o.action.op == "review-open" for o in outcomes)
        counted = tally(entries_of(name, flagged, postmortems, directory), context)
        record_items(name, flagged, counted, reviews_opened=0 if dry_run else opened)
        if not dry_run:
            _write_invitations(settings, routed, snapshots, outcomes, now)
    if not dry_run:
        history.save()
    return run


def _reviews_under_lease(
    name: str,
    tracker: Tracker,
    actions: list[FollowAction],
    lease: ExitStack,
    problems: list[Problem],
) -> list[FollowAction]:
    """Review issues are opened under the tracker's lease, as items are filed: with it held,
    the tracker is read again and a review another run opened meanwhile is not opened twice;
    while another run holds it, this run opens none (the next check does)."""
    if not isinstance(tracker, Leasing) or not tracker.leased:
        return actions
    try:
        if not lease.enter_context(tracker.lease()):
            return actions  # the tracker offers no lease: convergence alone keeps one review
    except ConfigError:
        raise
    except PmsyncError as exc:  # another run holds it
        problems.append(Problem(f"tracker {name}", str(exc)))
        return [a for a in actions if a.op != "review-open"]
    fresh = read_snapshots(name, tracker, problems)
    opened = {s.item_key for s in fresh or () if is_review(s.item_key)}
    return [
        a
        for a in actions
        if a.op != "review-open" or (fresh is not None and a.item_key not in opened)
    ]


def _converge_reviews(
    name: str, tracker: Tracker, outcomes: list[FollowOutcome], problems: list[Problem]
) -> list[FollowOutcome]:
    """After opening review issues, read the tracker again: a review another run opened at
    the same moment is kept if older, and the later one closed as its duplicate."""
    snapshots = read_snapshots(name, tracker, problems)
    if snapshots is None:
        return outcomes
    keepers, duplicates = deduplicate(name, snapshots, reviews=True)
    if duplicates:
        apply(SyncPlan(tuple(duplicates)), {name: tracker})
    return [
        dataclasses.replace(o, ref=keepers[o.action.item_key].ref)
        if o.action.op == "review-open" and o.action.item_key in keepers
        else o
        for o in outcomes
    ]


def _why_unowned(
    finding: Finding, items: Mapping[str, tuple[Postmortem, ActionItem]], policy: Policy
) -> Finding:
    """An unowned item's finding, with why neither the post-mortem nor a policy names an owner."""
    if finding.code != UNOWNED or finding.item_key is None or finding.item_key not in items:
        return finding
    postmortem, item = items[finding.item_key]
    owner = policy.owner(item, postmortem)
    if owner.person is None:
        why = "; ".join((owner.reason, *owner.tried))
    else:
        why = f"the policy would assign {owner.person.key}; someone unassigned it in the tracker"
    return dataclasses.replace(finding, message=f"{finding.message}: {why}")


def _after(
    snapshots: Sequence[IssueSnapshot], actions: Sequence[FollowAction]
) -> list[IssueSnapshot]:
    """The snapshots with the labels that `actions` add and remove."""
    labels = {snap.ref: set(snap.labels) for snap in snapshots}
    for action in actions:
        if action.ref in labels and action.op in ("label", "nudge"):
            labels[action.ref] |= set(action.labels)
        elif action.ref in labels and action.op == "unlabel":
            labels[action.ref] -= set(action.labels)
    return [dataclasses.replace(s, labels=tuple(sorted(labels[s.ref]))) for s in snapshots]


def _apply(tracker: Tracker, actions: Sequence[FollowAction]) -> list[FollowOutcome]:
    """Each follow-up write, in one transaction where the tracker has them (`batch`)."""
    with tracker.batch() if isinstance(tracker, Transactional) and actions else nullcontext():
        return _apply_each(tracker, actions)


def _apply_each(tracker: Tracker, actions: Sequence[FollowAction]) -> list[FollowOutcome]:
    outcomes: list[FollowOutcome] = []
    broken: str | None = None
    for action in actions:
        if broken is not None:
            outcomes.append(FollowOutcome(action, ok=False, error=f"not attempted: {broken}"))
            continue
        if STOPPING.is_set():
            outcomes.append(FollowOutcome(action, ok=False, error=str(Interrupted())))
            continue
        try:
            ref = _write(tracker, action)
        except FatalError as exc:
            broken = str(exc)
            outcomes.append(FollowOutcome(action, ok=False, error=broken))
            log.info("tracker_failed", tracker=tracker.name, error=broken)
        except PmsyncError as exc:
            outcomes.append(FollowOutcome(action, ok=False, error=str(exc)))
            log.info("follow_up_failed", tracker=tracker.name, item=action.item_key, error=str(exc))
        else:
            outcomes.append(FollowOutcome(action, ref=ref))
            log.info(
                _EVENTS[action.op],
                tracker=tracker.name,
                item=action.item_key,
                ref=ref.key if ref else None,
                reason=action.reason,
            )
    return outcomes


def _write(tracker: Tracker, action: FollowAction) -> TrackerRef | None:
    if action.op == "review-open":
        assert action.draft is not None
        ref = tracker.create(action.draft)
        for item in action.links:
            tracker.link(item, ref, "Follow-up review of this item")
        return ref
    assert action.ref is not None
    if action.op == "review-update":
        assert action.draft is not None
        tracker.update(action.ref, action.draft, {"title", "body", "assignees", "due", "labels"})
    elif action.op == "label":
        tracker.add_labels(action.ref, action.labels)
    elif action.op == "unlabel":
        tracker.remove_labels(action.ref, action.labels)
    else:
        tracker.comment(action.ref, action.comment)
        if action.labels:
            tracker.add_labels(action.ref, action.labels)
    return action.ref


def _write_invitations(
    settings: Settings,
    postmortems: Sequence[Postmortem],
    snapshots: Sequence[IssueSnapshot],
    outcomes: Sequence[FollowOutcome],
    now: datetime,
) -> None:
    """`<state_dir>/reviews/<review key>.ics` for each review issue, for digests to attach."""
    urls = {snap.item_key: snap.ref.url for snap in snapshots}
    urls |= {o.action.item_key: o.ref.url for o in outcomes if o.ok and o.ref is not None}
    folder = settings.path(settings.state_dir) / "reviews"
    weeks = settings.followup.review_after_weeks
    for postmortem, day in due_reviews(postmortems, weeks, now.date()):
        key = review_key(postmortem.id)
        if key not in urls:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{key}.ics").write_text(invitation(postmortem, day, urls[key], now))
        except OSError as exc:
            log.warning("invitation_unwritable", path=str(folder), error=str(exc))
