"""`pmsync digest`: every recipient's digest built and sent to each channel not yet served this
period."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.base import DocumentSource, Tracker
from rules.followup import FollowupContext
from syncer import logs
from syncer.digest.build import build, recipients_of, review_attachments
from syncer.digest.deliver import Delivery, channel_name, deliver
from syncer.digest.model import Digest
from syncer.digest.state import STATE_FILE, DigestState
from syncer.errors import STOPPING, Interrupted
from syncer.followup import context_of
from syncer.learning import learning
from syncer.model import Activity, IssueSnapshot
from syncer.pipeline import read_activities, set_up
from syncer.progress import (
    Entry,
    status_of,
    tracked_entries,
)
from syncer.reading import Problem
from syncer.settings import Settings

log = logs.get_logger("pmsync.digest")


@dataclass(slots=True)
class DigestRun:
    digests: list[Digest] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def failed(self) -> int:
        return sum(1 for d in self.deliveries if d.status == "failed")


def digest(
    settings: Settings,
    *,
    now: datetime,
    dry_run: bool,
    trackers: Mapping[str, Tracker] | None = None,
    sources: Sequence[DocumentSource] | None = None,
) -> DigestRun:
    """Build every recipient's digest and (unless dry) send it to each channel not yet served
    this period. A failed channel is reported and retried on the next run. Periods (weeks,
    days) are those of `[schedule] timezone`."""
    now = now.astimezone(ZoneInfo(settings.schedule.timezone))
    setup = set_up(settings, now=now, trackers=trackers, sources=sources)
    directory, reading, active = setup.directory, setup.reading, setup.trackers
    run = DigestRun(problems=list(reading.problems), dry_run=dry_run)
    reviews: dict[str, IssueSnapshot] = {}
    entries, postmortems = tracked_entries(
        active, reading.postmortems, directory, run.problems, reviews, reading.present({})
    )
    state = DigestState.load(settings.path(settings.state_dir) / STATE_FILE)
    followup = settings.followup
    context = replace(
        context_of(followup, now), due_soon=timedelta(days=settings.digest.due_soon_days)
    )
    recipients = recipients_of(settings.digest, directory)
    activities = _quiet(active, entries, context, run.problems) if recipients else {}
    attachments = review_attachments(
        postmortems,
        followup.review_after_weeks,
        settings.path(settings.state_dir) / "reviews",
        now,
        settings.digest.period,
    )
    recur = settings.recurrence
    learned = learning(
        entries,
        postmortems,
        threshold=recur.threshold,
        window_days=recur.window_days,
        now=now,
        enabled=recur.enabled,
    )
    for recipient in recipients:
        built = build(
            recipient,
            entries,
            context=context,
            settings=settings.digest,
            state=state.of(recipient.name),
            attachments=attachments,
            postmortems=postmortems,
            reviews=reviews,
            activities=activities,
            review_after_weeks=followup.review_after_weeks,
            learning=learned,
        )
        run.digests.append(built)
        for url in recipient.channels:
            name = channel_name(url)
            if state.sent(recipient.name, built.period, url):
                run.deliveries.append(
                    Delivery(recipient.name, name, "skipped", f"already sent in {built.period}")
                )
                continue
            if dry_run:
                run.deliveries.append(Delivery(recipient.name, name, "would send"))
                continue
            if STOPPING.is_set():
                run.deliveries.append(Delivery(recipient.name, name, "failed", str(Interrupted())))
                continue
            error = deliver(built, url, settings.path(Path(".")))
            if error is None:
                state.record(built, url)
                run.deliveries.append(Delivery(recipient.name, name, "sent"))
                log.info("digest_sent", recipient=recipient.name, channel=name)
            else:
                run.deliveries.append(Delivery(recipient.name, name, "failed", error))
                log.info("digest_failed", recipient=recipient.name, channel=name, error=error)
    sent = any(d.status == "sent" for d in run.deliveries)
    if not dry_run and sent and not state.save():
        message = "cannot save (disk full or read only?): the next run may send again"
        run.problems.append(Problem(str(state.path), message, False))
    return run


def _quiet(
    trackers: Mapping[str, Tracker],
    entries: Sequence[Entry],
    context: FollowupContext,
    problems: list[Problem],
) -> dict[str, Activity]:
    """People's last activity on the stalled issues, by item key: a few reads, for the few
    that are stuck. An issue whose activity cannot be read shows no quiet days."""
    found: dict[str, Activity] = {}
    for name, tracker in trackers.items():
        stuck = {
            e.snapshot.ref: e.key
            for e in entries
            if e.tracker == name and e.filed and status_of(e, context).stalled
        }
        if stuck:
            read, _ = read_activities(name, tracker, list(stuck), problems)
            found.update((stuck[ref], activity) for ref, activity in read.items())
    return found
