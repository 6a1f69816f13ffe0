"""Carrying out a sync plan: the only place that writes to trackers.

Each action stands alone: a failed one is recorded and the rest go on. A fatal error stops
the writes to that tracker; what was not attempted is recorded as failed, so nothing is lost
silently and the next run picks it up (the markers make that free).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from connectors.base import Tracker
from syncer import logs
from syncer.errors import STOPPING, FatalError, Interrupted, NotFound, PmsyncError, Refused
from syncer.model import IssueSnapshot, PlannedAction, SyncPlan, TrackerRef
from syncer.planner import deduplicate
from syncer.progressbar import bar

log = logs.get_logger("pmsync.applier")
CREATE_CHUNK = 50  # creates handed to a tracker at once (Jira's bulk size), for the progress


@dataclass(frozen=True, slots=True)
class Outcome:
    action: PlannedAction
    ok: bool = True
    ref: TrackerRef | None = None
    error: str | None = None
    fatal: bool = False
    converged: bool = False  # the issue made was another run's duplicate: `ref` is the kept one


def apply(plan: SyncPlan, trackers: Mapping[str, Tracker]) -> list[Outcome]:
    """Creates go first, handed to each tracker 50 at a time (it may file them in bulk); then
    the other writes, one by one. Outcomes come back in the plan's order; a terminal shows
    how far the writes are (`progressbar`)."""
    broken: dict[str, str] = {}
    done: dict[int, Outcome] = {}
    creates: dict[str, list[int]] = {}
    for index, action in enumerate(plan.actions):
        if action.op == "create":
            creates.setdefault(action.tracker, []).append(index)
    writes = sum(1 for a in plan.actions if a.op not in ("unchanged", "skip"))
    with bar(writes, "writing") as advance:
        for name, indexes in creates.items():
            for start in range(0, len(indexes), CREATE_CHUNK):
                chunk = indexes[start : start + CREATE_CHUNK]
                actions = [plan.actions[i] for i in chunk]
                done.update(_create_all(trackers[name], actions, chunk, broken))
                advance(len(chunk))
        outcomes = _write_each(plan, trackers, done, broken, advance)
    return outcomes


def _write_each(
    plan: SyncPlan,
    trackers: Mapping[str, Tracker],
    done: dict[int, Outcome],
    broken: dict[str, str],
    advance: Callable[[int], object],
) -> list[Outcome]:
    """The writes other than creates, one by one, in the plan's order among the outcomes."""
    outcomes: list[Outcome] = []
    for index, action in enumerate(plan.actions):
        if index in done:
            outcomes.append(done[index])
            continue
        if action.op in ("unchanged", "skip"):
            outcomes.append(Outcome(action, ref=action.target))
            continue
        advance(1)
        if action.tracker in broken:
            error = f"not attempted: {broken[action.tracker]}"
            outcomes.append(Outcome(action, ok=False, error=error, fatal=True))
            continue
        if STOPPING.is_set():
            outcomes.append(Outcome(action, ok=False, error=str(Interrupted())))
            continue
        tracker = trackers[action.tracker]
        try:
            ref = _write(tracker, action)
        except FatalError as exc:
            broken[action.tracker] = str(exc)
            log.info("tracker_failed", tracker=action.tracker, error=str(exc))
            outcomes.append(Outcome(action, ok=False, error=str(exc), fatal=True))
        except PmsyncError as exc:
            if _lost_race(action, exc):  # another run closed it first: as wanted
                ref_key = action.target.key if action.target else None
                log.info("duplicate_already_closed", tracker=action.tracker, ref=ref_key)
                outcomes.append(Outcome(action, ref=action.target))
                continue
            log.info(
                "action_failed",
                op=action.op,
                tracker=action.tracker,
                item=action.item.key if action.item else None,
                error=str(exc),
            )
            outcomes.append(Outcome(action, ok=False, error=str(exc)))
        else:
            outcomes.append(Outcome(action, ref=ref))
    return outcomes


def _lost_race(action: PlannedAction, exc: PmsyncError) -> bool:
    """Whether closing a duplicate failed only because another run closed (or removed) it
    first: the answer of a tracker asked to close what is closed or gone."""
    if action.op != "close" or action.close_reason != "duplicate":
        return False
    return isinstance(exc, NotFound) or (
        isinstance(exc, Refused) and exc.status in (400, 404, 409, 410, 422)
    )


def _create_all(
    tracker: Tracker, actions: list[PlannedAction], indexes: list[int], broken: dict[str, str]
) -> dict[int, Outcome]:
    if tracker.name in broken:  # an earlier chunk found the tracker gone
        error = f"not attempted: {broken[tracker.name]}"
        return {
            index: Outcome(action, ok=False, error=error, fatal=True)
            for index, action in zip(indexes, actions, strict=True)
        }
    drafts = [action.draft for action in actions if action.draft is not None]
    try:
        results = tracker.create_many(drafts)
    except FatalError as exc:
        broken[tracker.name] = str(exc)
        log.info("tracker_failed", tracker=tracker.name, error=str(exc))
        return {
            index: Outcome(action, ok=False, error=str(exc), fatal=True)
            for index, action in zip(indexes, actions, strict=True)
        }
    except PmsyncError as exc:  # a tracker that failed the lot without saying which
        log.info("action_failed", op="create", tracker=tracker.name, error=str(exc))
        return {
            index: Outcome(action, ok=False, error=str(exc))
            for index, action in zip(indexes, actions, strict=True)
        }
    outcomes = {}
    for index, action, result in zip(indexes, actions, results, strict=True):
        item = action.item.key if action.item else None
        if isinstance(result, FatalError):  # what was filed before it stands
            if tracker.name not in broken:
                broken[tracker.name] = str(result)
                log.info("tracker_failed", tracker=tracker.name, error=str(result))
            outcomes[index] = Outcome(action, ok=False, error=str(result), fatal=True)
        elif isinstance(result, PmsyncError):
            log.info(
                "action_failed", op="create", tracker=tracker.name, item=item, error=str(result)
            )
            outcomes[index] = Outcome(action, ok=False, error=str(result))
        else:
            log.info(
                "issue_created", tracker=tracker.name, item=item, ref=result.key, url=result.url
            )
            outcomes[index] = Outcome(action, ref=result)
    return outcomes


def _point_to_keeper(tracker: Tracker, duplicate: TrackerRef, keeper: TrackerRef) -> None:
    """People's comments on a duplicate are not lost: the issue kept links to them."""
    if tracker.activity(duplicate).last_human is not None:
        tracker.comment(
            keeper,
            f"pmsync closed {_show_ref(duplicate)} as a duplicate of this issue; people "
            "commented there, so read those comments too.",
        )


def _show_ref(ref: TrackerRef) -> str:
    return f"{ref.key} ({ref.url})" if ref.url else ref.key


def converge(
    outcomes: list[Outcome],
    trackers: Mapping[str, Tracker],
    read: Callable[[str], Sequence[IssueSnapshot] | None],
) -> list[Outcome]:
    """After creating, read each tracker written to again and close the duplicates another
    run made meanwhile (each run keeps the oldest issue, so racing runs agree). An issue this
    run made that is closed so stands for its keeper in `outcomes` from then on. Returns the
    closes done."""
    closes: list[Outcome] = []
    for name in sorted({o.action.tracker for o in outcomes if o.action.op == "create"}):
        snapshots = read(name)
        if snapshots is None:
            continue
        keepers, duplicates = deduplicate(name, snapshots)
        if duplicates:
            closes += apply(SyncPlan(tuple(duplicates)), trackers)
        for index, outcome in enumerate(outcomes):
            action = outcome.action
            if action.tracker != name or action.op != "create" or action.draft is None:
                continue
            keeper = keepers.get(action.draft.item_key)
            if outcome.ok and keeper is not None and keeper.ref != outcome.ref:
                log.info("duplicate_converged", ref=outcome.ref.key if outcome.ref else None)
                outcomes[index] = replace(outcome, ref=keeper.ref, converged=True)
    return closes


def hand_over(outcomes: Sequence[Outcome], trackers: Mapping[str, Tracker]) -> None:
    """Ask each person a policy assigned to hand the item to its real owner: one comment,
    when pmsync sets the assignee, after duplicates are closed. A failure is logged; the
    issue stands as filed."""
    for outcome in outcomes:
        action = outcome.action
        if action.handover is None or not outcome.ok or outcome.ref is None:
            continue
        if outcome.converged:
            continue  # another run made the issue kept, and asks its assignee itself
        tracker = trackers[action.tracker]
        handle, note = action.handover
        try:
            tracker.comment(outcome.ref, f"{tracker.mention(handle)} {note}")
        except PmsyncError as exc:
            log.warning(
                "handover_failed", tracker=tracker.name, ref=outcome.ref.key, error=str(exc)
            )


def _write(tracker: Tracker, action: PlannedAction) -> TrackerRef | None:
    item = action.item.key if action.item else None
    assert action.target is not None
    if action.op == "update":
        assert action.draft is not None
        tracker.update(action.target, action.draft, {*action.changes, "body"})
        log.info(
            "issue_updated",
            tracker=tracker.name,
            item=item,
            ref=action.target.key,
            fields=sorted(action.changes),
        )
    elif action.op == "close":
        reason = action.close_reason or "completed"
        comment = f"Closed by pmsync: {action.reason}."
        if action.keeper is not None:
            comment = f"Closed by pmsync: a duplicate of {_show_ref(action.keeper)}."
        tracker.close(action.target, reason, comment)
        if action.keeper is not None:  # once closed: a failed close is tried again whole
            _point_to_keeper(tracker, action.target, action.keeper)
        event = "duplicate_closed" if reason == "duplicate" else "issue_closed"
        log.info(
            event, tracker=tracker.name, item=item, ref=action.target.key, reason=action.reason
        )
    elif action.op == "reopen":
        assert action.draft is not None
        tracker.reopen(action.target, f"Reopened by pmsync: {action.reason}.")
        if action.changes:
            tracker.update(action.target, action.draft, {*action.changes, "body"})
        log.info("issue_reopened", tracker=tracker.name, item=item, ref=action.target.key)
    return action.target
