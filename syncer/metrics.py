"""Prometheus metrics for `pmsync run` (`[metrics] port`): items by state per tracker, API
requests and the rate-limit quota left per tracker, job durations, runs and failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from connectors.base import observe_requests
from syncer.model import IssueSnapshot
from syncer.review import is_review

ITEMS = Gauge(
    "pmsync_items", "Synced action-item issues, by tracker and state", ["tracker", "state"]
)
REQUESTS = Counter(
    "pmsync_api_requests_total",
    "Tracker API requests, by tracker, verb and outcome",
    ["tracker", "verb", "outcome"],
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
STATES = ("open", "closed", "overdue", "stalled", "escalated")


def _on_request(tracker: str, verb: str, ok: bool, headers: Mapping[str, str]) -> None:
    REQUESTS.labels(tracker, verb, "ok" if ok else "error").inc()
    remaining = headers.get("x-ratelimit-remaining")
    if remaining is not None and remaining.isdigit():
        RATE_LIMIT.labels(tracker).set(int(remaining))


observe_requests(_on_request)


def record_job(job: str, seconds: float, code: int) -> None:
    JOB_SECONDS.labels(job).observe(seconds)
    JOB_RUNS.labels(job, str(code)).inc()
    if code:
        JOB_FAILURES.labels(job).inc()


def record_items(tracker: str, snapshots: Sequence[IssueSnapshot]) -> None:
    """Open and closed issues, and the open ones flagged overdue, stalled or escalated."""
    counts = dict.fromkeys(STATES, 0)
    for snap in snapshots:
        if is_review(snap.item_key):
            continue
        counts[snap.state] += 1
        if snap.state == "open":
            for flag in ("overdue", "stalled", "escalated"):
                counts[flag] += flag in snap.labels
    for state, count in counts.items():
        ITEMS.labels(tracker, state).set(count)


def serve(host: str, port: int) -> None:
    """The /metrics endpoint, from a daemon thread."""
    start_http_server(port, addr=host)
