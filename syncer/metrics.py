"""Prometheus metrics for `pmsync run` (`[metrics] port`): items by state per tracker and the
open ones flagged, API requests and the rate-limit quota left per tracker, requests per source,
job durations, runs and failures. Every series exists, at zero, from the start."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import product

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from connectors.base import observe_requests, observe_source_requests
from syncer import statefile
from syncer.model import IssueSnapshot, ItemOutcome, outcome_of
from syncer.progress import Tally

ITEMS = Gauge(
    "pmsync_items",
    "Issues pmsync files (action items and follow-up reviews), by tracker and state: open, "
    "done, or dropped (closed as not planned or removed from the post-mortem: not done); the "
    "states do not overlap, so they sum to the issues tracked",
    ["tracker", "state"],
)
FLAGGED = {
    flag: Gauge(f"pmsync_items_{flag}", f"Open action-item issues that are {flag}", ["tracker"])
    for flag in ("overdue", "stalled", "escalated", "unowned")
}
REQUESTS = Counter(
    "pmsync_api_requests_total",
    "Tracker API requests, by tracker, verb and outcome",
    ["tracker", "verb", "outcome"],
)
SOURCE_REQUESTS = Counter(
    "pmsync_source_requests_total",
    "Requests sources made to their services (Confluence, Google Drive, GitHub), by source, "
    "verb and outcome",
    ["source", "verb", "outcome"],
)
RATE_LIMIT = Gauge(
    "pmsync_rate_limit_remaining", "Requests left in the tracker's rate-limit window", ["tracker"]
)
JOB_SECONDS = Histogram(
    "pmsync_job_duration_seconds",
    "How long each job took",
    ["job"],
    buckets=(0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800),
)
JOB_RUNS = Counter("pmsync_job_runs_total", "Job runs, by job and exit code", ["job", "code"])
JOB_FAILURES = Counter(
    "pmsync_job_failures_total", "Job runs that ended with a non-zero exit code", ["job"]
)
STATE_FAULTS = Gauge(
    "pmsync_state_files_unwritable",
    "State files whose last write failed (a full or read-only disk); 0 once written again",
)
STATE_FAULTS.set_function(lambda: len(statefile.faults()))
JOBS = ("sync", "check", "digest")
STATES: tuple[ItemOutcome, ...] = ("open", "done", "dropped")
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OUTCOMES = ("ok", "error")
CODES = ("0", "1", "3")  # done; item failures or findings; fatal


def _on_request(tracker: str, verb: str, ok: bool, headers: Mapping[str, str]) -> None:
    REQUESTS.labels(tracker, verb, "ok" if ok else "error").inc()
    remaining = headers.get("x-ratelimit-remaining")
    if remaining is not None and remaining.isdigit():
        RATE_LIMIT.labels(tracker).set(int(remaining))


def _on_source_request(source: str, verb: str, ok: bool) -> None:
    SOURCE_REQUESTS.labels(source, verb, "ok" if ok else "error").inc()


observe_requests(_on_request)
observe_source_requests(_on_source_request)


def prepare(trackers: Iterable[str], sources: Iterable[str]) -> None:
    """Every series at zero from the start, so that a scrape before the first request or job
    sees them (and rates over them work)."""
    for tracker in trackers:
        for verb, outcome in product(VERBS, OUTCOMES):
            REQUESTS.labels(tracker, verb, outcome)
        for state in STATES:
            ITEMS.labels(tracker, state)
        for gauge in FLAGGED.values():
            gauge.labels(tracker)
    for source in sources:
        for verb, outcome in product(VERBS, OUTCOMES):
            SOURCE_REQUESTS.labels(source, verb, outcome)
    for job in JOBS:
        JOB_FAILURES.labels(job)
        JOB_SECONDS.labels(job)
        for code in CODES:
            JOB_RUNS.labels(job, code)


def record_job(job: str, seconds: float, code: int) -> None:
    JOB_SECONDS.labels(job).observe(seconds)
    JOB_RUNS.labels(job, str(code)).inc()
    if code:
        JOB_FAILURES.labels(job).inc()


def record_items(
    tracker: str, snapshots: Sequence[IssueSnapshot], flagged: Tally, *, reviews_opened: int = 0
) -> None:
    """Open, done and dropped issues (with the review issues this check opened), and how many open
    action items are overdue, stalled, escalated or have nobody assigned, counted as the
    report and the digest count them (`flagged`)."""
    states = dict.fromkeys(STATES, 0)
    states["open"] = reviews_opened
    for snap in snapshots:
        states[outcome_of(snap)] += 1
    for state, count in states.items():
        ITEMS.labels(tracker, state).set(count)
    for flag, gauge in FLAGGED.items():
        gauge.labels(tracker).set(getattr(flagged, flag))


def serve(host: str, port: int) -> int:
    """The /metrics endpoint, from a daemon thread; the port it listens on (port 0: a free
    port the system picks)."""
    server, _ = start_http_server(port, addr=host)
    return int(server.server_address[1])
