"""The Prometheus figures: every series from the start, item states that add up, and the
requests of sources as well as trackers."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
from prometheus_client import REGISTRY, generate_latest

from connectors.sources.http import HttpReader
from rules.followup import FollowupContext
from syncer.errors import PmsyncError
from syncer.metrics import prepare, record_items
from syncer.model import IssueSnapshot, TrackerRef
from syncer.people import Directory
from syncer.progress import entries_of, tally
from syncer.review import review_key


def _values() -> dict[str, float]:
    return figures(generate_latest(REGISTRY).decode())


def figures(text: str) -> dict[str, float]:
    """pmsync's series in a Prometheus text exposition: name{labels} -> value."""
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("pmsync_")
    }


def test_every_series_exists_at_zero_before_anything_happens() -> None:
    script = (
        "from prometheus_client import REGISTRY, generate_latest\n"
        "from syncer.metrics import prepare\n"
        "prepare(['gh'], ['wiki'])\n"
        "print(generate_latest(REGISTRY).decode())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    values = figures(done.stdout)
    for verb in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        for outcome in ("ok", "error"):
            key = f'outcome="{outcome}",tracker="gh",verb="{verb}"'
            assert values[f"pmsync_api_requests_total{{{key}}}"] == 0
            key = f'outcome="{outcome}",source="wiki",verb="{verb}"'
            assert values[f"pmsync_source_requests_total{{{key}}}"] == 0
    for flag in ("overdue", "stalled", "escalated", "unowned"):
        assert values[f'pmsync_items_{flag}{{tracker="gh"}}'] == 0
    assert values['pmsync_items{state="open",tracker="gh"}'] == 0
    for job in ("sync", "check", "digest"):
        assert values[f'pmsync_job_failures_total{{job="{job}"}}'] == 0
        assert values[f'pmsync_job_runs_total{{code="0",job="{job}"}}'] == 0
    counters = [k for k in values if k.split("{")[0].endswith("_total")]
    assert counters
    assert all(values[k] == 0 for k in counters)


NOW = datetime(2026, 3, 18, 9, tzinfo=UTC)


def _snap(
    number: int, state: str, labels: tuple[str, ...] = (), owner: bool = True, due: int = 30
) -> IssueSnapshot:
    return IssueSnapshot(
        ref=TrackerRef("sum-t", f"#{number}", ""),
        item_key=f"{number:012x}",
        state=state,  # type: ignore[arg-type]
        title="x",
        body="",
        labels=labels,
        assignees=("dana",) if owner else (),
        due=(NOW + timedelta(days=due)).date(),
        created_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(days=1),
    )


def test_item_states_do_not_overlap_and_flags_are_gauges_of_their_own() -> None:
    snapshots = [
        _snap(1, "open", ("stalled",), due=-10),
        _snap(2, "open", owner=False, due=-3),
        _snap(3, "open"),
        _snap(4, "closed", ("overdue",), due=-20),  # closed: no longer overdue
        replace(_snap(6, "closed"), state_reason="not_planned"),  # dropped: not done
        IssueSnapshot(TrackerRef("sum-t", "#5", ""), review_key("pm-1"), "open", "Review", ""),
    ]
    entries = entries_of("sum-t", snapshots, [], Directory(()))
    record_items("sum-t", snapshots, tally(entries, FollowupContext(now=NOW)))
    values = _values()
    states = {k: v for k, v in values.items() if k.startswith("pmsync_items{") and "sum-t" in k}
    assert sum(states.values()) == len(snapshots)
    assert values['pmsync_items{state="open",tracker="sum-t"}'] == 4
    assert values['pmsync_items{state="done",tracker="sum-t"}'] == 1
    assert values['pmsync_items{state="dropped",tracker="sum-t"}'] == 1
    assert values['pmsync_items_overdue{tracker="sum-t"}'] == 2
    assert values['pmsync_items_stalled{tracker="sum-t"}'] == 1
    assert (
        values['pmsync_items_unowned{tracker="sum-t"}'] == 1
    )  # the review has no owner: not counted


@responses.activate
def test_source_requests_are_counted_per_source() -> None:
    prepare([], ["wiki"])
    responses.get("https://wiki.example.com/ok", json={})
    responses.get("https://wiki.example.com/gone", status=404, json={})
    reader = HttpReader("confluence wiki", requests.Session(), source="wiki")
    ok = 'pmsync_source_requests_total{outcome="ok",source="wiki",verb="GET"}'
    error = 'pmsync_source_requests_total{outcome="error",source="wiki",verb="GET"}'
    before = _values()  # the counters are the process's: other tests count "wiki" too
    reader.get("https://wiki.example.com/ok")
    with pytest.raises(PmsyncError):
        reader.get("https://wiki.example.com/gone")
    values = _values()
    assert values[ok] - before.get(ok, 0) == 1
    assert values[error] - before.get(error, 0) == 1
