"""One run, composed: read documents, check them, read trackers, plan, and (unless dry) apply.

Every failure that concerns one document or one tracker is collected as a `Problem` and the
run goes on with the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from connectors import registry
from connectors.base import BatchActivity, DocumentSource, Leasing, Tracker, guarded
from connectors.extract import ExtractOptions, plain_lines
from connectors.sources.cache import CachedSource
from rules import RuleContext
from syncer import continuity, logs, promises, writeback
from syncer.applier import Outcome, apply, converge, hand_over
from syncer.errors import ConfigError, FatalError, PmsyncError, SkippableError
from syncer.model import (
    Activity,
    Finding,
    IssueSnapshot,
    PlannedAction,
    Postmortem,
    SyncPlan,
    TrackerRef,
)
from syncer.people import Directory, load_directory
from syncer.planner import Life, Target, plan
from syncer.policy import Policy, rule_context
from syncer.reading import Problem, Reading, by_item, read_documents
from syncer.settings import RoutingSettings, Settings

log = logs.get_logger("pmsync.pipeline")


@dataclass(slots=True)
class SyncRun:
    reading: Reading
    plan: SyncPlan
    outcomes: list[Outcome]
    problems: list[Problem]
    dry_run: bool
    write_back: writeback.WriteBack = field(default_factory=lambda: writeback.WriteBack())
    offline: bool = False
    notes: list[str] = field(default_factory=list)  # documents moved, missing, held as torn

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)

    def missing(self) -> str:
        """One line for what the issues this run writes still lack, and why no policy could
        fill it ("2 items have no owner: team search has no triage person; ..."); empty when
        every one has an owner and a due date."""
        written = list(  # each item once: an issue made, then linked in the same run
            {
                o.action.draft.item_key: o.action
                for o in self.outcomes
                if o.ok and o.action.op in ("create", "update", "reopen") and o.action.draft
            }.values()
        )
        unowned = [a for a in written if a.draft is not None and not a.draft.assignees]
        undated = sum(1 for a in written if a.draft is not None and a.draft.due is None)
        if not unowned and not undated:
            return ""
        why: list[str] = []
        for action in unowned:
            for clause in action.owner_why.split("; ")[1:]:
                if clause and clause not in why:
                    why.append(clause)
        verb = "would go out" if self.dry_run else "went out"
        parts = []
        if unowned:
            reasons = f" ({'; '.join(why[:3])})" if why else ""
            parts.append(f"{_items(len(unowned))} {verb} with no owner{reasons}")
        if undated:
            parts.append(f"{_items(undated)} {verb} with no due date")
        return "; ".join(parts) + "; see docs/policies.md"

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("created", "updated", "unchanged", "closed", "reopened"), 0)
        counts["failed"] = 0
        names = {
            "create": "created",
            "update": "updated",
            "unchanged": "unchanged",
            "close": "closed",
            "reopen": "reopened",
        }
        for outcome in self.outcomes:
            if not outcome.ok:
                counts["failed"] += 1
            elif outcome.action.op in names:
                counts[names[outcome.action.op]] += 1
        return counts


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


@dataclass(frozen=True, slots=True)
class Setup:
    """What sync, check, digest and report start from: the people, the policies, the
    documents read (and checked against the rules, for sync) and the trackers."""

    directory: Directory
    policy: Policy
    sources: list[DocumentSource]
    reading: Reading
    trackers: dict[str, Tracker]


def set_up(
    settings: Settings,
    *,
    now: datetime,
    trackers: Mapping[str, Tracker] | None = None,
    sources: Sequence[DocumentSource] | None = None,
    checked: bool = False,
    offline: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> Setup:
    """The one way a command sets itself up: the people directory and the policies, the
    configured sources (or `sources`) read, with the rules when `checked`, and the trackers
    (or `trackers`; none `offline`), their clock at `now`, waiting with `sleep`."""
    directory = load_directory(settings)
    policy = Policy.of(settings, directory)
    sources = list(sources) if sources is not None else build_sources(settings)
    rules: dict[str, Any] = {"rule_select": (), "context": None}
    if checked:
        today = now.astimezone(UTC).date()
        rules = {
            "rule_select": settings.rules.select,
            "rule_ignore": settings.rules.ignore,
            "context": rule_context(settings, directory, today, policy),
        }
    reading = read_configured(settings, sources, now=now, **rules)
    if offline:
        active: dict[str, Tracker] = {}
    elif trackers is not None:
        active = dict(trackers)
    else:
        active = build_trackers(settings, lambda: now, sleep, directory)
    return Setup(directory, policy, sources, reading, active)


def read_configured(
    settings: Settings,
    sources: Sequence[DocumentSource] | None = None,
    *,
    rule_select: Sequence[str] = ("PM",),
    rule_ignore: Sequence[str] = (),
    context: RuleContext | None = None,
    now: datetime | None = None,
) -> Reading:
    """`read_documents` on the configured sources (or `sources`), each with its own options.

    Remote sources keep their documents in `<state_dir>/sources/`, so that a document whose
    version did not change is not fetched again (`now`: when this run reads)."""
    folder = settings.path(settings.state_dir) / "sources"
    readers: list[DocumentSource] = []
    for source in sources if sources is not None else build_sources(settings):
        remote = getattr(source, "remote", False)
        readers.append(CachedSource(source, folder, now) if remote else source)
    reading = read_documents(
        readers,
        options={n: ExtractOptions(day_first=c.day_first) for n, c in settings.sources.items()},
        rule_select=rule_select,
        rule_ignore=rule_ignore,
        context=context,
    )
    for reader in readers:
        if isinstance(reader, CachedSource):
            reader.save()
    return reading


def read_snapshots(
    name: str, tracker: Tracker, problems: list[Problem]
) -> Sequence[IssueSnapshot] | None:
    """The tracker's synced issues; None, with the reason added to `problems`, if unreadable."""
    try:
        return tracker.snapshot()
    except ConfigError:
        raise  # a wrong address or project: the run cannot start
    except PmsyncError as exc:
        problems.append(Problem(f"tracker {name}", str(exc), isinstance(exc, FatalError)))
        log.info("tracker_unreadable", tracker=name, error=str(exc))
        return None


def read_activities(
    name: str, tracker: Tracker, refs: Sequence[TrackerRef], problems: list[Problem]
) -> tuple[dict[TrackerRef, Activity], set[TrackerRef]]:
    """The activity of each issue in `refs`, and the issues it could not be read for. A
    tracker that reads many issues' activity at once (`activities`) is asked once."""
    activities: dict[TrackerRef, Activity] = {}
    unread: set[TrackerRef] = set()
    if isinstance(tracker, BatchActivity) and refs:
        try:
            return dict(tracker.activities(refs)), set()
        except PmsyncError as exc:
            log.info("issues_not_checked", tracker=name, error=str(exc))
            problems.append(Problem(f"tracker {name}", str(exc), isinstance(exc, FatalError)))
            return {}, set(refs)
    for ref in refs:
        try:
            activities[ref] = tracker.activity(ref)
        except PmsyncError as exc:
            unread.add(ref)
            log.info("issue_not_checked", tracker=name, ref=ref.key, error=str(exc))
            if isinstance(exc, FatalError):
                problems.append(Problem(f"tracker {name}", str(exc), True))
                unread.update(r for r in refs if r not in activities)
                break
    return activities, unread


def build_sources(settings: Settings) -> list[DocumentSource]:
    """Each configured source, made by its kind's module (`connectors.registry`)."""
    context = settings.build_context(_utcnow)
    return [
        guarded(registry.build_source(name, config, context), f"source {name}", SkippableError)
        for name, config in settings.sources.items()
    ]


def build_trackers(
    settings: Settings,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
    directory: Directory | None = None,
) -> dict[str, Tracker]:
    """Each configured tracker, made by its kind's module (`connectors.registry`); `sleep`
    is how they wait (the default: one a stop request cuts short); they are told the people
    directory's accounts (`directory`, else the configured one)."""
    directory = directory if directory is not None else load_directory(settings)
    handles = {
        key: tuple(h for person in directory.people if (h := person.account(key)))
        for key in registry.account_keys()
    }
    context = settings.build_context(clock or _utcnow, sleep, handles)
    # Each guarded: an unexpected failure in one is reported as an error naming it.
    return {
        name: guarded(registry.build_tracker(name, config, context), f"tracker {name}", FatalError)
        for name, config in settings.trackers.items()
    }


def _utcnow() -> datetime:
    return datetime.now(UTC)


def route_for(postmortem: Postmortem, routing: RoutingSettings) -> str:
    """The tracker for a post-mortem: its front matter `tracker:`, a matching rule, the default."""
    if postmortem.route:
        return postmortem.route
    for rule in routing.rules:
        if rule.team is not None and (postmortem.team or "").casefold() != rule.team.casefold():
            continue
        severity = (postmortem.severity or "").casefold()
        if rule.severity is not None and severity != rule.severity.casefold():
            continue
        return rule.tracker
    return routing.default


def targets_of(
    settings: Settings, trackers: Mapping[str, Tracker], *, offline: bool = False
) -> dict[str, Target]:
    """Where items can be filed: the trackers given, or (`offline`) every configured one."""
    if offline:
        return {
            name: Target(name, config.kind, tuple(config.labels))
            for name, config in settings.trackers.items()
        }
    return {
        name: Target(name, tracker.kind, tuple(settings.trackers[name].labels))
        for name, tracker in trackers.items()
    }


def sync(
    settings: Settings,
    *,
    dry_run: bool,
    trackers: Mapping[str, Tracker] | None = None,
    sources: Sequence[DocumentSource] | None = None,
    now: datetime | None = None,
    offline: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> SyncRun:
    """The whole sync: documents to issues. With `dry_run` nothing is written anywhere.
    `now` is the time of the run (the clock's when not given). `offline` reads no tracker
    (and writes nothing): each item is planned as if its tracker held none of pmsync's issues,
    which is what merging the documents would file."""
    dry_run = dry_run or offline
    now = now or _utcnow()
    today = now.astimezone(UTC).date()
    setup = set_up(
        settings,
        now=now,
        trackers=trackers,
        sources=sources,
        checked=True,
        offline=offline,
        sleep=sleep,
    )
    directory, policy, sources, reading, active = (
        setup.directory,
        setup.policy,
        setup.sources,
        setup.reading,
        setup.trackers,
    )
    targets = targets_of(settings, active, offline=offline)
    problems = list(reading.problems)
    routed = []
    for postmortem in reading.postmortems:
        route = route_for(postmortem, settings.routing)
        if route not in targets:
            problems.append(Problem(postmortem.ref.uri, f"front matter names no tracker {route!r}"))
        routed.append(replace(postmortem, route=route))
    snapshots: dict[str, Sequence[IssueSnapshot]] = {}
    if offline:
        snapshots = dict.fromkeys({pm.route or "" for pm in routed} & set(targets), ())
    history = continuity.History.load(settings.path(settings.state_dir))
    wanted = {pm.route or "" for pm in routed}
    if any(
        seen.source in reading.sources and (seen.source, seen.ref) not in reading.listed
        for seen in history.documents.values()
    ):
        wanted = set(active)  # a document read before is missing: its issues may be anywhere
    for name in sorted(wanted & set(active)):
        try:
            snapshots[name] = active[name].snapshot()
        except ConfigError:
            raise  # a wrong address or project: nothing is written
        except PmsyncError as exc:
            fatal = isinstance(exc, FatalError)
            problems.append(Problem(f"tracker {name}", str(exc), fatal))
            log.info("tracker_unreadable", tracker=name, error=str(exc))

    routed, findings, life, notes = _follow(
        settings, reading, routed, snapshots, history, now, sources
    )
    notes = [*reading.warnings, *notes]
    state = promises.State(settings.path(settings.state_dir))
    links = promises.links(routed, settings.recurrence, state)

    def planned(issues: Mapping[str, Sequence[IssueSnapshot]] | None = None) -> SyncPlan:
        return plan(
            routed,
            snapshots if issues is None else issues,
            targets,
            directory,
            findings,
            settings.sync,
            policy,
            today,
            file_inferred=settings.extract.file_inferred,
            life=life,
            links=links,
        )

    the_plan = planned()
    held = _torn(the_plan, routed, reading, snapshots, history, sources)
    if held:
        life = replace(life, held=held)
        notes += [
            f"warning: {_named(pm)}: read held, nothing changed: {held[pm.id]}"
            for pm in routed
            if pm.id in held
        ]
        the_plan = planned()
    with ExitStack() as leases:
        if dry_run:
            outcomes = [Outcome(a, ref=a.target) for a in the_plan.actions]
        else:
            the_plan = _under_leases(the_plan, active, snapshots, problems, leases, planned)
            outcomes = apply(the_plan, active)
            # Converge under a lease too: a run that outlasts its lease may have shared it.
            fresh: dict[str, Sequence[IssueSnapshot]] = {}

            def reread(name: str) -> Sequence[IssueSnapshot] | None:
                found = read_snapshots(name, active[name], problems)
                if found is not None:
                    fresh[name] = found
                return found

            outcomes += converge(outcomes, active, reread)
            outcomes += _link_late(outcomes, links, {**snapshots, **fresh}, planned, active)
            hand_over(outcomes, active)
            promises.remark(outcomes, active, state)
            state.learn(snap for group in {**snapshots, **fresh}.values() for snap in group)
            state.save()
    for tracker in sorted({o.action.tracker for o in outcomes if o.fatal}):
        error = next(o.error for o in outcomes if o.fatal and o.action.tracker == tracker)
        problems.append(Problem(f"tracker {tracker}", error or "failed", fatal=True))
    filed = writeback.filed_items(outcomes, snapshots)
    edits = writeback.plan_edits(settings, routed, reading.documents, filed)
    if dry_run:
        unfiled = sum(1 for o in outcomes if o.action.op == "create")
        written = writeback.WriteBack(edits, unfiled=unfiled)
    else:
        written = writeback.write(edits, sources)
        problems += [Problem(where, message) for where, message in written.problems]
        if not offline:
            for pm in routed:
                continuity.seen_now(history, pm, _text(reading, pm), held=pm.id in life.held)
            history.save()
    return SyncRun(reading, the_plan, outcomes, problems, dry_run, written, offline, notes)


def _link_late(
    outcomes: Sequence[Outcome],
    links: Mapping[str, promises.Link],
    issues: Mapping[str, Sequence[IssueSnapshot]],
    planned: Callable[[Mapping[str, Sequence[IssueSnapshot]]], SyncPlan],
    trackers: Mapping[str, Tracker],
) -> list[Outcome]:
    """Items that repeat an item filed in this same run get their link now, not on the next
    run: one update each, planned again over the issues as they are after the creates."""
    made = {
        o.action.item.key
        for o in outcomes
        if o.action.op == "create" and o.ok and o.action.item is not None
    }
    late = {key for key, link in links.items() if link.earlier_item.key in made}
    if not late:
        return []
    again = planned(issues).actions
    todo = tuple(
        a
        for a in again
        if a.op == "update" and a.remark is not None and a.item is not None and a.item.key in late
    )
    todo = tuple(
        replace(a, reason=f"promised before as {a.remark.target.key}: linked to it")
        for a in todo
        if a.remark is not None
    )
    return apply(SyncPlan(todo), trackers) if todo else []


def _follow(
    settings: Settings,
    reading: Reading,
    routed: list[Postmortem],
    snapshots: Mapping[str, Sequence[IssueSnapshot]],
    history: continuity.History,
    now: datetime,
    sources: Sequence[DocumentSource],
) -> tuple[list[Postmortem], dict[str, list[Finding]], Life, list[str]]:
    """The documents as their issues know them (moved ones under their old id, items under
    their issues' keys), their findings, what happened to documents since the last runs, and
    what the run says about it."""
    issues = [snap for group in snapshots.values() for snap in group]
    known = {pm_id: (seen.source, seen.ref) for pm_id, seen in history.documents.items()}
    present = reading.present(known)
    # Only a run over every configured source can tell a document moved or deleted: one over
    # files named on the command line (`plan PATH`) has not looked at the others.
    whole = not reading.incomplete and set(settings.sources) <= reading.sources
    vanished = {snap.postmortem_id for snap in issues if snap.postmortem_id} - present
    moves = _moves(routed, issues, present, vanished, history, reading, sources) if whole else []
    routed, rekeyed = continuity.follow(routed, moves, issues)
    findings = by_item(continuity.rekey_findings(reading.findings, rekeyed))
    notes: list[str] = []
    moved: dict[str, str] = {}
    for move in moves:
        was = history.documents[move.old].ref if move.old in history.documents else move.old
        moved[move.old] = f"{was} → {move.new}"
        if was != move.new:  # moved since the last run (not a move followed before)
            notes.append(f"moved {was} → {move.new}: its issues follow it")
            log.info("document_moved", old=was, new=move.new, postmortem=move.old)
    returned = frozenset(
        item.key
        for pm in routed
        if (seen := history.documents.get(pm.id)) is not None and seen.items
        for item in pm.items
        if item.key not in seen.items
    )
    expired: dict[str, str] = {}
    present |= {pm.id for pm in routed}
    # Missing: read before from a source this run read whole, and not there now. A run over
    # other sources (files named on the command line) says nothing of the configured ones.
    ours = {
        pm_id
        for pm_id, seen in history.documents.items()
        if seen.source in reading.sources and pm_id not in present
    }
    gone: dict[str, int] = {}
    for snap in issues:
        if snap.state == "open" and snap.postmortem_id in ours:
            gone[snap.postmortem_id] = gone.get(snap.postmortem_id, 0) + 1
    if not whole:
        gone = {}  # a source not read, or that could not be listed, hides what it holds
    else:  # forget documents that are gone and whose issues are all closed
        for pm_id in ours - set(gone):
            del history.documents[pm_id]
    grace = settings.sync.grace
    for pm_id, count in sorted(gone.items()):
        since = continuity.missing(history, pm_id, now)
        seen = history.documents[pm_id]
        where = pm_id if seen.ref in ("", pm_id) else f"{seen.ref} (post-mortem {pm_id})"
        if now - since >= grace:
            expired[pm_id] = f"{where} is gone from its source since {since:%Y-%m-%d %H:%M} UTC"
        else:
            until = since + grace
            notes.append(
                f"{where} is missing from its source: its {count} open issues stay open; "
                f"they close if it is still missing on {until:%Y-%m-%d %H:%M} UTC "
                f"([sync] vanished_grace = {settings.sync.vanished_grace!r})"
            )
            log.info("document_missing", postmortem=pm_id, since=since.isoformat(), issues=count)
    return routed, findings, Life(moved, {}, expired, returned), notes


def _moves(
    routed: Sequence[Postmortem],
    issues: Sequence[IssueSnapshot],
    present: set[str],
    vanished: set[str],
    history: continuity.History,
    reading: Reading,
    sources: Sequence[DocumentSource],
) -> list[continuity.Move]:
    """The documents that moved, looked for only when a document issues name is gone."""
    if not vanished:
        return []
    last = {seen.hash: pm_id for pm_id, seen in history.documents.items() if seen.hash}
    same = {
        pm.id: last[digest]
        for pm in routed
        if (digest := continuity.text_hash(_text(reading, pm))) in last
    }
    same |= _git_renames(routed, issues, vanished, same, sources)
    return continuity.find_moves(routed, issues, present, same)


def _git_renames(
    routed: Sequence[Postmortem],
    issues: Sequence[IssueSnapshot],
    vanished: set[str],
    known: Mapping[str, str],
    sources: Sequence[DocumentSource],
) -> dict[str, str]:
    """New documents (no issue names them) that Git says were renamed from a document that
    vanished (new id → old id); Git is asked about the new ones only."""
    filed = {snap.postmortem_id for snap in issues if snap.postmortem_id}
    by_name = {source.name: source for source in sources}
    found: dict[str, str] = {}
    for pm in routed:
        if pm.id in filed or pm.id in known or pm.id != pm.ref.id:
            continue
        earlier = getattr(by_name.get(pm.ref.source), "earlier_paths", None)
        if earlier is not None and (old := sorted(vanished & earlier(pm.ref.id))):
            found[pm.id] = old[0]
    return found


def _named(pm: Postmortem) -> str:
    """A document as people find it: its path (or page id), and its id when that differs."""
    return pm.ref.id if pm.ref.id == pm.id else f"{pm.ref.id} (post-mortem {pm.id})"


def _text(reading: Reading, pm: Postmortem) -> str:
    """The text extraction read for `pm`, line endings made plain."""
    document = reading.documents.get((pm.ref.source, pm.ref.id))
    return plain_lines(document.text) if document else ""


def _torn(
    the_plan: SyncPlan,
    routed: Sequence[Postmortem],
    reading: Reading,
    snapshots: Mapping[str, Sequence[IssueSnapshot]],
    history: continuity.History,
    sources: Sequence[DocumentSource],
) -> dict[str, str]:
    """The documents about to change issues whose read may be torn, and why."""
    whole = {source.name: bool(getattr(source, "whole_reads", False)) for source in sources}
    owner = {snap.ref: snap.postmortem_id for group in snapshots.values() for snap in group}
    writes = [a for a in the_plan.actions if a.op in ("create", "update", "close", "reopen")]
    changing = {
        a.item.postmortem_id if a.item else owner.get(a.target) if a.target else None
        for a in writes
    }
    keys = {a.item.key for a in writes if a.item}
    held: dict[str, str] = {}
    for pm in routed:
        if pm.id not in changing:
            continue
        seen = history.documents.get(pm.id)
        settled = whole.get(pm.ref.source, False)
        why = continuity.suspect(pm, _text(reading, pm), seen, settled, keys)
        if why is not None:
            held[pm.id] = why
            log.warning("read_held", postmortem=pm.id, uri=pm.ref.uri, reason=why)
    return held


def _under_leases(
    the_plan: SyncPlan,
    trackers: Mapping[str, Tracker],
    snapshots: dict[str, Sequence[IssueSnapshot]],
    problems: list[Problem],
    leases: ExitStack,
    planned: Callable[[], SyncPlan],
) -> SyncPlan:
    """Take the lease of each tracker that has one and is about to file issues; then read it
    again and plan anew, since another run may have filed meanwhile. A tracker whose lease
    someone else holds is left alone this run."""
    filing = sorted({a.tracker for a in the_plan.actions if a.op == "create"})
    held, busy = [], set()
    for name in filing:
        tracker = trackers[name]
        if not isinstance(tracker, Leasing) or not tracker.leased:
            continue
        try:
            if leases.enter_context(tracker.lease()):
                held.append(name)
        except ConfigError:
            raise
        except PmsyncError as exc:
            problems.append(Problem(f"tracker {name}", str(exc)))
            busy.add(name)
    for name in held:
        found = read_snapshots(name, trackers[name], problems)
        if found is None:
            busy.add(name)
        else:
            snapshots[name] = found
    fresh = planned() if held else the_plan
    actions = tuple(
        PlannedAction("skip", a.tracker, "another pmsync is filing there", item=a.item)
        if a.tracker in busy and a.op not in ("skip", "unchanged")
        else a
        for a in fresh.actions
    )
    return SyncPlan(actions)
