"""Carrying out a sync plan: the only place that writes to trackers.

Each action stands alone: a failed one is recorded and the rest go on. A fatal error stops
the writes to that tracker; what was not attempted is recorded as failed, so nothing is lost
silently and the next run picks it up (the markers make that free).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from connectors.base import Tracker
from syncer.errors import STOPPING, FatalError, Interrupted, PmsyncError
from syncer.model import PlannedAction, SyncPlan, TrackerRef

log = structlog.get_logger("pmsync.applier")


@dataclass(frozen=True, slots=True)
class Outcome:
    action: PlannedAction
    ok: bool = True
    ref: TrackerRef | None = None
    error: str | None = None
    fatal: bool = False


def apply(plan: SyncPlan, trackers: Mapping[str, Tracker]) -> list[Outcome]:
    """Creates go first, handed to each tracker together (it may file them in bulk); then the
    other writes, one by one. Outcomes come back in the plan's order."""
    broken: dict[str, str] = {}
    done: dict[int, Outcome] = {}
    creates: dict[str, list[int]] = {}
    for index, action in enumerate(plan.actions):
        if action.op == "create":
            creates.setdefault(action.tracker, []).append(index)
    for name, indexes in creates.items():
        done.update(
            _create_all(trackers[name], [plan.actions[i] for i in indexes], indexes, broken)
        )
    outcomes: list[Outcome] = []
    for index, action in enumerate(plan.actions):
        if index in done:
            outcomes.append(done[index])
            continue
        if action.op in ("unchanged", "skip"):
            outcomes.append(Outcome(action, ref=action.target))
            continue
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
            log.error("tracker_failed", tracker=action.tracker, error=str(exc))
            outcomes.append(Outcome(action, ok=False, error=str(exc), fatal=True))
        except PmsyncError as exc:
            log.warning(
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


def _create_all(
    tracker: Tracker, actions: list[PlannedAction], indexes: list[int], broken: dict[str, str]
) -> dict[int, Outcome]:
    drafts = [action.draft for action in actions if action.draft is not None]
    try:
        results = tracker.create_many(drafts)
    except FatalError as exc:
        broken[tracker.name] = str(exc)
        log.error("tracker_failed", tracker=tracker.name, error=str(exc))
        return {
            index: Outcome(action, ok=False, error=str(exc), fatal=True)
            for index, action in zip(indexes, actions, strict=True)
        }
    outcomes = {}
    for index, action, result in zip(indexes, actions, results, strict=True):
        item = action.item.key if action.item else None
        if isinstance(result, PmsyncError):
            log.warning(
                "action_failed", op="create", tracker=tracker.name, item=item, error=str(result)
            )
            outcomes[index] = Outcome(action, ok=False, error=str(result))
        else:
            log.info(
                "issue_created", tracker=tracker.name, item=item, ref=result.key, url=result.url
            )
            outcomes[index] = Outcome(action, ref=result)
            _hand_over(tracker, action, result)
    return outcomes


def _hand_over(tracker: Tracker, action: PlannedAction, ref: TrackerRef) -> None:
    """Ask the person a policy assigned to hand the item to its real owner: one comment, sent
    when pmsync sets the assignee. Its failure is logged; the issue stands as filed."""
    if action.handover is None:
        return
    handle, note = action.handover
    try:
        tracker.comment(ref, f"{tracker.mention(handle)} {note}")
    except PmsyncError as exc:  # a fatal one stops the next write to this tracker anyway
        log.warning("handover_failed", tracker=tracker.name, ref=ref.key, error=str(exc))


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
        _hand_over(tracker, action, action.target)
    elif action.op == "close":
        reason = action.close_reason or "completed"
        comment = f"Closed by pmsync: {action.reason}."
        tracker.close(action.target, reason, comment)
        event = "duplicate_closed" if reason == "duplicate" else "issue_closed"
        log.info(
            event, tracker=tracker.name, item=item, ref=action.target.key, reason=action.reason
        )
    return action.target
