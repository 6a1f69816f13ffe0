"""The Jira tracker end to end: whole syncs against a fake Jira, Cloud and Data Center."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.trackers.jira import JiraTracker
from syncer import logs
from syncer.check import check
from syncer.errors import ConfigError, FatalError
from syncer.model import IssueDraft, outcome_of
from syncer.pipeline import SyncRun, build_trackers, sync
from syncer.settings import load_settings
from tests import openapi_check
from tests.fakes.github import Fault
from tests.fakes.jira import FakeJira
from tests.test_tracker_contract import jira_options

DOC = """---
id: PM-1
title: Checkout latency
date: 2026-03-04
---
# Checkout latency

## Action items

| Action | Owner | Due | Priority |
|---|---|---|---|
| Alert when the pool is above 90% for 5 minutes | Dana Kim | 2026-04-01 | P1 |
| Version the settings file and deploy it through the pipeline | Sam Rivera | 2026-04-15 | P2 |
| Add a rollback step to the runbook, with the exact command | Lee Park | 2026-04-15 | P3 |
"""


@pytest.fixture(params=["cloud", "datacenter"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    server = FakeJira(deployment=request.param)
    with server.running():
        yield server


def _people(fake: FakeJira) -> str:
    dana = "acc-dana" if fake.deployment == "cloud" else "dana"
    return f"""
[[people]]
name = "Dana Kim"
jira = "{dana}"

[[people]]
name = "Sam Rivera"
jira = "sam@example.com"

[[people]]
name = "Lee Park"
jira = "lee@example.com"
"""


@pytest.fixture
def project(tmp_path: Path, fake: FakeJira) -> Path:
    return _project_with(
        tmp_path,
        fake,
        DOC,
        source='link_base_url = "https://git.test/acme/postmortems/blob/main/"\n',
        tracker='labels = ["postmortem"]\n'
        'priority_map = { P1 = "High", P2 = "Medium", P3 = "Low" }\n'
        "search_lag_seconds = 2  # no longer used: older files still load\n",
    )


def _project_with(
    folder: Path, fake: FakeJira, doc: str, *, source: str = "", tracker: str = ""
) -> Path:
    """A project in `folder` (its own state dir) filing `doc` to the fake; `source` and
    `tracker` are more settings of those sections."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs").mkdir(exist_ok=True)
    (folder / "docs" / "pm-1.md").write_text(doc)
    (folder / "people.toml").write_text(_people(fake))
    auth = (
        'email = "pmsync@acme.test"\napi_token = "jira-api-s3cret"'
        if fake.deployment == "cloud"
        else 'token = "jira-pat-s3cret"'
    )
    config = folder / "config.toml"
    config.write_text(
        f"""
people_file = "people.toml"
[sources.docs]
kind = "markdown-dir"
path = "docs"
{source}[trackers.jira]
kind = "jira"
url = "{fake.url}"
deployment = "{fake.deployment}"
project = "OPS"
{auth}
retry_backoff_seconds = 0.01
{tracker}[routing]
default = "jira"
"""
    )
    return config


def _sync(config: Path) -> SyncRun:
    return sync(load_settings(config), dry_run=False)


def _ops(run: SyncRun) -> list[str]:
    return [o.action.op if o.ok else f"{o.action.op} failed" for o in run.outcomes]


def test_items_become_issues_with_assignee_due_date_priority_labels_and_a_link(
    project: Path, fake: FakeJira
) -> None:
    run = _sync(project)
    assert _ops(run) == ["create"] * 3
    first = fake.issues["OPS-1"]["fields"]
    assert first["summary"] == "Alert when the pool is above 90% for 5 minutes"
    assert first["duedate"] == "2026-04-01"
    assert first["priority"] == {"name": "High"}
    assert {"pmsync", "postmortem"} <= set(first["labels"])
    assert any(label.startswith("pmsync-") for label in first["labels"])
    assert first["assignee"] is not None
    (link,) = fake.issues["OPS-1"]["remotelinks"].values()
    assert link["globalId"] == "pmsync:postmortem:PM-1"
    assert link["object"]["url"] == "https://git.test/acme/postmortems/blob/main/pm-1.md"
    assert fake.count()["POST issue/bulk"] == 1
    if fake.deployment == "cloud":
        assert first["description"]["type"] == "doc"
    else:
        assert "|Owner|Dana Kim|" in first["description"]


def test_an_email_is_accepted_only_when_exactly_one_user_has_it(
    project: Path, fake: FakeJira
) -> None:
    _sync(project)
    sam = fake.issues["OPS-2"]["fields"]
    lee = fake.issues["OPS-3"]["fields"]
    assert sam["assignee"] is not None
    # Two users' addresses contain "lee"; only one is exactly lee@example.com.
    assert lee["assignee"] is not None
    assert lee["assignee"].get("accountId", lee["assignee"].get("name")) in ("acc-lee1", "lee1")


def test_an_owner_nobody_matches_is_filed_unassigned_and_named(
    project: Path, fake: FakeJira
) -> None:
    (project.parent / "people.toml").write_text(
        _people(fake).replace("lee@example.com", "nobody@example.com")
    )
    _sync(project)
    lee = fake.issues["OPS-3"]["fields"]
    assert lee["assignee"] is None
    assert "needs-owner" in lee["labels"]
    (comment,) = lee["comment"]["comments"]
    assert "nobody@example.com" in str(comment["body"])


def test_a_second_run_writes_nothing_and_reads_the_search_and_one_key(
    project: Path, fake: FakeJira
) -> None:
    _sync(project)
    fake.reset_counts()
    run = _sync(project)
    assert _ops(run) == ["unchanged"] * 3
    assert fake.writes() == 0
    search = "GET search/jql" if fake.deployment == "cloud" else "GET search"
    # The key after the newest issue search shows: it does not exist, so nothing is missing.
    assert fake.count() == {"GET myself": 1, search: 1, "GET issue/{key}": 1}


def test_no_duplicate_while_search_has_not_caught_up(project: Path, fake: FakeJira) -> None:
    fake.lag = 60.0  # nothing new shows in search for a minute
    _sync(project)
    run = _sync(project)
    assert _ops(run) == ["unchanged"] * 3
    assert len(fake.issues) == 3


def test_a_fresh_run_inside_a_long_search_lag_files_nothing_twice(
    project: Path, fake: FakeJira
) -> None:
    """A new container two minutes after the last: search does not show the issues yet, but
    reading the keys after the newest it shows does."""
    fake.lag = 120.0
    _sync(project)
    fake.reset_counts()
    run = _sync(project)
    assert _ops(run) == ["unchanged"] * 3
    assert len(fake.issues) == 3
    # Three issues search does not show yet, read by key, then the key after them: no more.
    assert fake.count()["GET issue/{key}"] == 4


def test_issues_a_failed_run_made_under_search_lag_are_found_by_the_next(
    tmp_path: Path, fake: FakeJira
) -> None:
    """120 items in bulks of 50; the third bulk fails after the first two were made, and the
    run ends. The next run, inside the search lag and with no local state, files only the
    rest."""
    rows = "".join(f"| Add the alert number {n} to the pool dashboard | | |\n" for n in range(120))
    config = _project_with(tmp_path, fake, DOC.split("| Alert")[0] + rows)
    fake.lag = 120.0
    fake.faults.append(Fault("POST", r"/issue/bulk$", kind="status", status=400, skip=2))
    first = _sync(config)
    assert sum(1 for o in first.outcomes if o.ok and o.action.op == "create") == 100
    second = _sync(config)
    assert sum(1 for o in second.outcomes if o.action.op == "create") == 20
    assert len(fake.issues) == 120
    assert len({i["fields"]["summary"] for i in fake.issues.values()}) == 120


def test_two_runs_with_their_own_state_keep_one_issue_per_item(
    tmp_path: Path, fake: FakeJira
) -> None:
    """Two containers sync at the same moment with an account that may not manage the
    project's versions (no lease): both file, then each reads the project again and closes
    the later duplicates, so one issue per item stays open, the same one for both."""
    fake.versions_allowed = False
    configs = [_project_with(tmp_path / name, fake, DOC) for name in ("a", "b")]
    fake.faults.append(Fault("POST", r"/issue(/bulk)?$", kind="slow", delay=0.3, times=2))
    runs: list[SyncRun] = []
    threads = [threading.Thread(target=lambda c=c: runs.append(_sync(c))) for c in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    open_issues = [i for i in fake.issues.values() if i["fields"]["status"]["name"] != "Done"]
    assert len(fake.issues) == 6  # both filed: nothing tells two Jira clients apart sooner
    assert sorted(i["fields"]["summary"] for i in open_issues) == sorted(
        i["fields"]["summary"] for i in list(fake.issues.values())[:3]
    )
    kept = [{o.ref.key for o in run.outcomes if o.action.op == "create"} for run in runs]
    assert kept[0] == kept[1] == {"OPS-1", "OPS-2", "OPS-3"}
    assert _ops(_sync(configs[0])) == ["unchanged"] * 3


def _at_once(*calls: Callable[[], object]) -> None:
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_with_a_lease_two_runs_on_two_machines_never_file_at_once(
    tmp_path: Path, fake: FakeJira
) -> None:
    """The lease (a project version Jira will not make twice): two containers with their own
    state and 200 items each, at once; one files, the other waits for its next run. Not a
    duplicate is made, and the lease is released."""
    rows = "".join(f"| Add the alert number {n} to the pool dashboard | | |\n" for n in range(200))
    doc = DOC.split("| Alert")[0] + rows
    configs = [_project_with(tmp_path / name, fake, doc) for name in ("a", "b")]
    fake.lag = 90.0
    fake.faults.append(Fault("POST", r"/issue/bulk$", kind="slow", delay=0.2, times=8))
    runs: list[SyncRun] = []
    _at_once(*(lambda c=c: runs.append(_sync(c)) for c in configs))
    assert len(fake.issues) == 200
    waited = [run for run in runs if run.problems]
    if waited:  # the other run came while the first held the lease
        (problem,) = waited[0].problems
        assert "another pmsync" in problem.message
        assert "is filing issues until" in problem.message
    assert fake.versions == {}
    for config in configs:
        assert _ops(_sync(config)) == ["unchanged"] * 200
    assert len(fake.issues) == 200


def test_a_lease_left_by_a_run_that_died_is_taken_over_once_expired_on_jira_s_clock(
    project: Path, fake: FakeJira
) -> None:
    """A lease's expiry is Jira's time (its Date header), not this machine's."""
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    fake.clock = lambda: now
    fake.versions["20999"] = {
        "id": "20999",
        "name": "pmsync-lease",
        "description": f"pmsync lease; holder: busy pid 2; until: {now + timedelta(minutes=5):%Y-%m-%dT%H:%M:%S%z}",
    }
    run = _sync(project)
    assert [o.action.op for o in run.outcomes].count("create") == 0
    (problem,) = run.problems
    assert "another pmsync (busy pid 2) is filing issues until" in problem.message
    fake.versions["20999"]["description"] = (
        f"holder: gone; until: {now - timedelta(minutes=1):%Y-%m-%dT%H:%M:%S%z}"
    )
    assert _ops(_sync(project)) == ["create"] * 3
    assert fake.versions == {}
    assert fake.count()["DELETE version/{id}"] == 2  # the expired one, then its own


def test_a_machine_whose_clock_is_off_says_so(project: Path, fake: FakeJira) -> None:
    stream = io.StringIO()
    logs.configure("info", stream=stream, json=True)
    fake.clock = lambda: datetime(2001, 1, 1, tzinfo=UTC)  # Jira's clock, years from any
    assert _ops(_sync(project)) == ["create"] * 3
    (skew,) = [json.loads(line) for line in stream.getvalue().splitlines() if "clock_skew" in line]
    assert skew["tracker"] == "jira"
    assert skew["seconds"] > 365 * 24 * 3600


def test_a_clock_that_is_off_is_told_by_a_run_that_takes_no_lease(fake: FakeJira) -> None:
    stream = io.StringIO()
    logs.configure("warning", stream=stream, json=True)
    fake.clock = lambda: datetime(2001, 1, 1, tzinfo=UTC)
    JiraTracker("t", dataclasses.replace(jira_options(fake), lease="off")).snapshot()
    assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == ["clock_skew"]


def test_a_lease_the_account_cannot_take_is_a_config_error_only_when_required(
    tmp_path: Path, fake: FakeJira
) -> None:
    fake.versions_allowed = False
    config = _project_with(tmp_path, fake, DOC)
    assert _ops(_sync(config)) == ["create"] * 3  # auto: filed without a lease
    doc = tmp_path / "docs" / "pm-1.md"
    doc.write_text(doc.read_text() + "| Add a canary stage | Dana Kim | 2026-05-01 |\n")
    config.write_text(config.read_text().replace("[routing]", 'lease = "required"\n[routing]'))
    with pytest.raises(ConfigError, match=r"trackers\.jira\.lease: .*versions of project OPS"):
        _sync(config)
    assert len(fake.issues) == 3


def test_two_checks_with_their_own_state_open_one_review_issue(
    tmp_path: Path, fake: FakeJira
) -> None:
    configs = [_project_with(tmp_path / name, fake, DOC) for name in ("a", "b")]
    _sync(configs[0])
    fake.faults.append(Fault("POST", r"/issue$", kind="slow", delay=0.3, times=2))
    later = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)  # past the four weeks of the review
    _at_once(*(lambda c=c: check(load_settings(c), now=later, dry_run=False) for c in configs))
    reviews = [
        i for i in fake.issues.values() if i["fields"]["summary"].startswith("Follow-up review")
    ]
    assert len(reviews) == 1  # opened once, under the lease: none to close afterwards
    assert fake.versions == {}


@pytest.mark.parametrize("lag", [0.5, 120.0])
def test_a_lost_bulk_answer_is_adopted_not_sent_again(
    project: Path, fake: FakeJira, lag: float
) -> None:
    """However long search lags: the issues are read back by key."""
    fake.lag = lag
    fake.faults.append(Fault("POST", r"/issue/bulk$", kind="after", status=502))
    run = _sync(project)
    assert _ops(run) == ["create"] * 3
    assert len(fake.issues) == 3
    assert fake.count()["POST issue/bulk"] == 1
    assert _ops(_sync(project)) == ["unchanged"] * 3
    assert len(fake.issues) == 3


@pytest.mark.parametrize("state", ["kept", "lost"])
def test_search_that_shows_a_newer_issue_before_older_ones_files_nothing_twice(
    tmp_path: Path, fake: FakeJira, state: str
) -> None:
    """31 items; the create's answer is lost and the issues adopted. Search lags 90 s and
    indexes out of order: it shows OPS-31 but not OPS-1 to OPS-30. Over five syncs (each on a
    new machine, when the state is lost): 31 issues, and every search names the filed
    issues' ids, none empty."""
    rows = "".join(f"| Add the alert number {n} to the pool dashboard | | |\n" for n in range(31))
    doc = DOC.split("| Alert")[0] + rows
    fake.lag = 90.0
    fake.indexed.add("OPS-31")
    fake.faults.append(Fault("POST", r"/issue/bulk$", kind="after", status=504))
    folders = [tmp_path / (str(n) if state == "lost" else "kept") for n in range(5)]
    runs = [_sync(_project_with(folder, fake, doc)) for folder in folders]
    assert sum(1 for o in runs[0].outcomes if o.ok and o.action.op == "create") == 31
    for run in runs[1:]:
        assert _ops(run) == ["unchanged"] * 31
    assert len(fake.issues) == 31
    named = [q["reconcileIssues"] for _, _, q, _ in fake.requests if "reconcileIssues" in q]
    assert all(all(ids.split(",")) for ids in named)
    if fake.deployment == "cloud":
        assert "10001" in named[0]  # the adopted issues, by id
    if fake.deployment == "cloud":
        found = [
            p
            for m, path, q, body in fake.requests
            for p in openapi_check.JIRA.problems(m, path, q, body)
        ]
        assert found == []


def test_issues_search_does_not_show_are_read_by_key_until_it_does(
    tmp_path: Path, fake: FakeJira
) -> None:
    """An issue filed an hour ago that search still does not show (a lag longer than pmsync
    assumes) is found by the key the state folder kept; once search shows it, it is no longer
    read by key."""
    config = _project_with(tmp_path, fake, DOC)
    fake.clock = lambda: datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # Jira stamps them long ago
    fake.lag = 3600.0
    _sync(config)
    unseen = tmp_path / ".pmsync" / "trackers" / "jira.unseen.json"
    assert len(json.loads(unseen.read_text())) == 3
    fake.reset_counts()
    assert _ops(_sync(config)) == ["unchanged"] * 3
    assert fake.count()["GET issue/{key}"] == 4  # the three kept, and the one after
    fake.lag = 0.0
    assert _ops(_sync(config)) == ["unchanged"] * 3
    assert json.loads(unseen.read_text()) == {}


def test_a_changed_due_date_is_one_edit(project: Path, fake: FakeJira) -> None:
    _sync(project)
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(
        doc.read_text().replace("| Dana Kim | 2026-04-01 |", "| Dana Kim | 2026-04-08 |")
    )
    fake.reset_counts()
    run = _sync(project)
    assert _ops(run) == ["update", "unchanged", "unchanged"]
    assert fake.writes() == 1
    ((method, _, _, body),) = [r for r in fake.requests if r[0] != "GET"]
    assert method == "PUT"
    assert body["fields"]["duedate"] == "2026-04-08"
    assert fake.issues["OPS-1"]["fields"]["duedate"] == "2026-04-08"


def test_items_done_in_the_document_are_transitioned_to_done(project: Path, fake: FakeJira) -> None:
    _sync(project)
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(
        doc.read_text()
        .replace(
            "| Action | Owner | Due | Priority |\n|---|---|---|---|",
            "| Action | Owner | Due | Priority | Status |\n|---|---|---|---|---|",
        )
        .replace("| P1 |", "| P1 | DONE |")
    )
    run = _sync(project)
    assert "close" in _ops(run)
    assert fake.issues["OPS-1"]["fields"]["status"]["statusCategory"]["key"] == "done"


def test_a_required_custom_field_without_a_value_is_named(project: Path, fake: FakeJira) -> None:
    fake.required_fields = {"customfield_10010": "Team"}
    run = _sync(project)
    assert fake.issues == {}
    assert any("Team (customfield_10010)" in p.message for p in run.problems)
    project.write_text(
        project.read_text().replace(
            "[routing]", 'fields = { customfield_10010 = "SRE" }\n[routing]'
        )
    )
    assert _ops(_sync(project)) == ["create"] * 3


def test_an_unknown_priority_fails_only_its_item_and_names_both(
    project: Path, fake: FakeJira
) -> None:
    project.write_text(project.read_text().replace('P2 = "Medium"', 'P2 = "Urgent"'))
    run = _sync(project)
    assert _ops(run) == ["create", "create failed", "create"]
    failed = next(o for o in run.outcomes if not o.ok)
    assert failed.error is not None
    assert "priority" in failed.error
    assert failed.action.item is not None
    assert failed.action.item.key in failed.error
    creates = fake.count()["POST issue/bulk"] + fake.count()["POST issue"]
    assert creates == 1  # not sent again, as an item whose assignee Jira refused is


def test_a_user_jira_will_not_assign_is_named_and_the_item_still_filed(
    project: Path, fake: FakeJira
) -> None:
    (project.parent / "people.toml").write_text(
        _people(fake)
        .replace('jira = "acc-dana"', 'jira = "acc-gone"')
        .replace('jira = "dana"', 'jira = "gone"')
    )
    run = _sync(project)
    assert _ops(run) == ["create"] * 3
    (dana,) = [
        i["fields"] for i in fake.issues.values() if i["fields"]["summary"].startswith("Alert")
    ]
    assert dana["assignee"] is None
    assert "needs-owner" in dana["labels"]
    assert "gone" in str(dana["comment"]["comments"][0]["body"])
    assert len(fake.issues) == 3


def test_a_429_is_waited_out_exactly(project: Path, fake: FakeJira) -> None:
    waits: list[float] = []
    fake.faults.append(
        Fault(
            "POST",
            r"/issue/bulk$",
            status=429,
            headers={"Retry-After": "100"},
            body={"errorMessages": ["Rate limit exceeded."]},
        )
    )
    run = sync(load_settings(project), dry_run=False, sleep=waits.append)
    assert _ops(run) == ["create"] * 3
    assert waits == [100.0]  # not cut to 30-60 s, as the jira library's own retry would


def test_cloud_requests_match_the_published_api(project: Path, fake: FakeJira) -> None:
    if fake.deployment != "cloud":
        pytest.skip("Atlassian publishes the Cloud REST API (v3); Data Center speaks v2")
    fake.lag = 0.3
    _sync(project)
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(
        doc.read_text().replace("2026-04-01", "2026-04-02").replace("| Lee Park", "| Nobody Known")
    )
    _sync(project)
    fake.issues["OPS-2"]["fields"]["status"] = {"statusCategory": {"key": "done"}}
    _sync(project)
    assert {path for _, path, _, _ in fake.requests} >= {
        "/rest/api/3/search/jql",
        "/rest/api/3/issue/bulk",
    }
    assert not any(path == "/rest/api/3/search" for _, path, _, _ in fake.requests)
    found = [
        p
        for m, path, q, body in fake.requests
        for p in openapi_check.JIRA.problems(m, path, q, body)
    ]
    assert found == []


def test_closing_times_are_the_resolution_date_else_when_the_status_became_done(
    project: Path, fake: FakeJira
) -> None:
    _sync(project)
    first, second = (fake.issues[key]["fields"] for key in ("OPS-1", "OPS-2"))
    done = {"name": "Done", "statusCategory": {"key": "done"}}
    first.update(status=done, resolutiondate="2026-04-02T10:00:00.000+0000")
    # A workflow that sets no resolution: the time the status category changed stands in.
    second.update(status=done, statuscategorychangedate="2026-04-03T11:00:00.000+0000")
    snaps = {s.ref.key: s for s in build_trackers(load_settings(project))["jira"].snapshot()}
    assert snaps["OPS-1"].closed_at == datetime(2026, 4, 2, 10, tzinfo=UTC)
    assert snaps["OPS-2"].closed_at == datetime(2026, 4, 3, 11, tzinfo=UTC)
    assert all(s.closed_at is None for s in snaps.values() if s.state == "open")


def test_an_issue_resolved_as_wont_do_is_dropped_not_done(project: Path, fake: FakeJira) -> None:
    """A person's "Won't Do" (or any resolution that abandons the work) is dropped; a done
    status with no resolution, or "Done", is done."""
    _sync(project)
    tracker = build_trackers(load_settings(project))["jira"]
    for key, resolution in (("OPS-1", {"name": "Won't Do"}), ("OPS-2", {"name": "Done"})):
        fields = fake.issues[key]["fields"]
        fields["status"] = {"name": "Done", "statusCategory": {"key": "done"}}
        fields["resolution"] = resolution
    outcomes = {snap.ref.key: outcome_of(snap) for snap in tracker.snapshot()}
    assert outcomes == {"OPS-1": "dropped", "OPS-2": "done", "OPS-3": "open"}


def test_a_moved_post_mortem_moves_the_remote_link_too(project: Path, fake: FakeJira) -> None:
    _sync(project)
    docs = project.parent / "docs"
    (docs / "2026").mkdir()
    (docs / "pm-1.md").rename(docs / "2026" / "pm-1.md")
    run = _sync(project)
    assert _ops(run) == ["update"] * 3
    for issue in fake.issues.values():
        (link,) = issue["remotelinks"].values()
        assert link["object"]["url"] == "https://git.test/acme/postmortems/blob/main/2026/pm-1.md"
    assert _ops(_sync(project)) == ["unchanged"] * 3


def test_a_project_search_cannot_find_is_the_setting_to_fix_and_other_refusals_are_not(
    fake: FakeJira,
) -> None:
    """Jira's search says a project does not exist when the key is wrong or the account cannot
    see it: that is the `project` setting to fix. A search refused for another reason (here a
    field it does not know) stops the run naming the search, not the project setting."""
    tracker = JiraTracker("t", jira_options(fake))
    search = r"/search(/jql)?$"
    fake.faults.append(
        Fault("GET", search, status=400, body={"errorMessages": ["Field 'pmsync' does not exist."]})
    )
    with pytest.raises(FatalError) as refused:
        tracker.snapshot()
    assert not isinstance(refused.value, ConfigError)
    assert "project 'OPS' cannot be searched" in str(refused.value)
    assert "Field 'pmsync' does not exist." in str(refused.value)
    fake.project = "RENAMED"
    with pytest.raises(ConfigError, match=r"^trackers\.t\.project: project 'OPS' not found at "):
        tracker.snapshot()


def _at(fake: FakeJira, hour: int, minute: int) -> None:
    fake.clock = lambda: datetime(2026, 3, 4, hour, minute, tzinfo=UTC)


ALERTING = IssueDraft("0123456789ab", "pm-1", "Add alerting", "", (), None, ())


def _another(title: str) -> IssueDraft:
    """An item like ALERTING, with a title and a key of its own."""
    key = hashlib.sha256(title.encode()).hexdigest()[:12]
    return dataclasses.replace(ALERTING, item_key=key, title=title)


def test_below_the_newest_issue_search_shows_keys_are_read_until_one_is_older_than_its_lag(
    fake: FakeJira,
) -> None:
    """Search may show a new issue before older ones. Below pmsync's newest, the keys it does
    not show are read down to the first issue made longer ago than search can lag (ten
    minutes by Jira's clock): one made exactly ten minutes ago may still lag."""
    tracker = JiraTracker("t", jira_options(fake))
    _at(fake, 9, 0)
    for n in range(4):  # OPS-1 to OPS-4: long ago
        fake.add_issue(f"Someone's issue {n}", [], creator="mallory")
    _at(fake, 9, 25)
    fake.add_issue("Someone's issue, ten minutes before", [], creator="mallory")  # OPS-5
    _at(fake, 9, 30)
    for n in range(3):  # OPS-6 to OPS-8
        fake.add_issue(f"Someone's recent issue {n}", [], creator="mallory")
    _at(fake, 9, 35)
    ref = tracker.create(ALERTING)
    fake.reset_counts()
    assert [snap.ref.key for snap in JiraTracker("t", jira_options(fake)).snapshot()] == [ref.key]
    read = sorted(
        int(path.rsplit("-", 1)[1]) for m, path, _, _ in fake.requests if "/issue/OPS-" in path
    )
    assert read == [4, 5, 6, 7, 8, 10]  # down to OPS-4, and the key after the newest


def test_reading_below_stops_after_a_thousand_keys_and_says_so(fake: FakeJira) -> None:
    tracker = JiraTracker("t", jira_options(fake))
    _at(fake, 9, 0)
    for n in range(1003):
        fake.add_issue(f"Someone's issue {n}", [], creator="mallory")
    tracker.create(ALERTING)
    fake.reset_counts()
    stream = io.StringIO()
    logs.configure("warning", stream=stream, json=True)
    JiraTracker("t", jira_options(fake)).snapshot()
    read = [path for m, path, _, _ in fake.requests if "/issue/OPS-" in path]
    assert len(read) == 1000 + 1  # and the key after the newest
    stopped = [json.loads(line) for line in stream.getvalue().splitlines() if "gap_probe" in line]
    assert [(e["event"], e["after"]) for e in stopped] == [("jira_gap_probe_stopped", 1000)]


def test_a_run_with_no_state_finds_its_issue_when_search_shows_only_a_newer_one_of_others(
    fake: FakeJira, tmp_path: Path
) -> None:
    """A run filed OPS-1 and died before keeping any state; someone filed OPS-2, which search
    already shows, while OPS-1 still lags. A new run reads below the newest issue and finds
    OPS-1; it keeps it in its state, so that a run twenty minutes later, when someone's OPS-3
    is the newest and OPS-2 is older than search lags, still reads it."""
    _at(fake, 9, 0)
    fake.lag = 3600.0
    ref = JiraTracker("t", jira_options(fake)).create(ALERTING)
    _at(fake, 9, 1)
    fake.indexed.add(fake.add_issue("Someone's issue", [], creator="mallory"))
    options = dataclasses.replace(jira_options(fake), unseen_file=tmp_path / "jira.unseen.json")
    _at(fake, 9, 2)
    assert [s.ref.key for s in JiraTracker("t", options).snapshot()] == [ref.key]
    _at(fake, 9, 20)
    fake.indexed.add(fake.add_issue("Someone's other issue", [], creator="mallory"))
    assert [s.ref.key for s in JiraTracker("t", options).snapshot()] == [ref.key]


def test_the_state_finds_an_issue_search_lags_on_for_longer_than_ten_minutes(
    fake: FakeJira, tmp_path: Path
) -> None:
    """OPS-2 lags in search for twenty minutes, below OPS-4, which search shows, and below
    someone else's OPS-3, made more than ten minutes before: only the state folder, which keeps
    the issues filed and not yet shown, says to read it. Runs with the state, on other machines
    (nothing kept in memory), each find it until search shows it."""
    options = dataclasses.replace(jira_options(fake), unseen_file=tmp_path / "jira.unseen.json")
    fake.lag = 3600.0
    _at(fake, 9, 0)
    shown = JiraTracker("t", options).create(_another("Add a runbook"))
    fake.indexed.add(shown.key)  # OPS-1
    lagging = JiraTracker("t", options).create(ALERTING)  # OPS-2
    _at(fake, 9, 1)
    fake.add_issue("Someone's issue", [], creator="mallory")  # OPS-3
    _at(fake, 9, 20)
    newest = JiraTracker("t", options).create(_another("Add a canary"))
    fake.indexed.add(newest.key)  # OPS-4
    state = tmp_path / "jira.unseen.json"
    kept = json.loads(state.read_text())
    broken = {"a": ["10009"], "b": [10009, "OPS-9"], "c": ["1", "OPS-9", "x"], "d": "OPS-9"}
    gone = {"e": ["10009", "OPS-9"]}  # an issue deleted since it was filed
    state.write_text(json.dumps({**broken, **gone, **kept}))  # a hand or an old version wrote
    for _ in range(2):
        found = {s.ref.key for s in JiraTracker("t", options).snapshot()}
        assert found == {shown.key, lagging.key, newest.key}
    fake.indexed.add(lagging.key)
    JiraTracker("t", options).snapshot()
    assert json.loads(state.read_text()) == {}


def test_a_bulk_create_refused_as_a_whole_fails_each_item_naming_it(
    project: Path, fake: FakeJira
) -> None:
    fake.faults.append(
        Fault("POST", r"/issue/bulk$", status=400, body={"errorMessages": ["Bad request"]})
    )
    run = _sync(project)
    assert _ops(run) == ["create failed"] * 3
    for outcome in run.outcomes:
        item = outcome.action.item
        assert item is not None
        assert outcome.error == (
            f"item {item.key} ({item.title[:50]!r}): POST /rest/api/{fake.version}/issue/bulk: "
            "Jira refused it (400): Bad request"
        )


def test_a_run_that_filed_more_than_fifty_issues_names_fifty_to_reconcile(fake: FakeJira) -> None:
    """Cloud's search takes at most 50 issue ids to reconcile: the newest fifty are named, and
    the rest, which search does not show yet, are read by key."""
    fake.lag = 3600.0
    tracker = JiraTracker("t", jira_options(fake))
    drafts = [_another(f"Action {n}") for n in range(60)]
    refs = tracker.create_many(drafts)
    assert {snap.ref.key for snap in tracker.snapshot()} == {ref.key for ref in refs}
    named = [
        q["reconcileIssues"].split(",") for _, _, q, _ in fake.requests if "reconcileIssues" in q
    ]
    assert [len(ids) for ids in named] == ([50] if fake.deployment == "cloud" else [])


def test_reading_below_passes_over_a_deleted_issue(fake: FakeJira) -> None:
    """OPS-2 was deleted: the read down goes on past it to pmsync's lagging OPS-1."""
    _at(fake, 9, 0)
    fake.lag = 3600.0
    ref = JiraTracker("t", jira_options(fake)).create(ALERTING)
    deleted = fake.add_issue("Someone's issue, deleted", [], creator="mallory")
    fake.indexed.add(fake.add_issue("Someone's issue", [], creator="mallory"))
    del fake.issues[deleted]
    _at(fake, 9, 2)
    assert [s.ref.key for s in JiraTracker("t", jira_options(fake)).snapshot()] == [ref.key]
