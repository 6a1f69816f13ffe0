"""The GitHub tracker end to end: the whole sync against a fake GitHub on loopback."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from connectors.trackers import github
from connectors.trackers.github import GithubOptions, GithubTracker
from syncer import logs
from syncer.check import check
from syncer.errors import Busy, ConfigError
from syncer.pipeline import SyncRun, build_trackers, sync
from syncer.settings import load_settings
from tests.fakes.github import FakeGitHub, Fault
from tests.fakes.keys import rsa_private_key_pem

TOKEN = "ghp_" + "s3cret" * 6
DOC = """---
id: PM-1
title: Checkout latency
date: 2026-03-04
---
# Checkout latency

## Action items

| Action | Owner | Due |
|---|---|---|
| Alert when the pool is above 90% for 5 minutes | Dana Kim | 2026-04-01 |
| Version the settings file and deploy it through the pipeline | Sam Rivera | 2026-04-15 |
| Add a rollback step to the runbook, with the exact command | Bob Nobody | 2026-04-15 |
"""
PEOPLE = """
[[people]]
name = "Dana Kim"
github = "dana"

[[people]]
name = "Sam Rivera"
github = "sam-rivera"

[[people]]
name = "Bob Nobody"
github = "bob-not-a-collaborator"
"""


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    with server.running():
        yield server


@pytest.fixture
def project(tmp_path: Path, fake: FakeGitHub) -> Path:
    return project_in(tmp_path, fake)


def project_in(tmp_path: Path, fake: FakeGitHub) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-1.md").write_text(DOC)
    (tmp_path / "people.toml").write_text(PEOPLE)
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
people_file = "people.toml"
[sources.docs]
kind = "markdown-dir"
path = "docs"
[trackers.gh]
kind = "github"
repo = "acme/incidents"
base_url = "{fake.url}"
labels = ["postmortem"]
write_interval_seconds = 0
retry_backoff_seconds = 0.01
[routing]
default = "gh"
"""
    )
    return config


def _sync(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    sleep: Callable[[float], None] | None = None,
    **env: str,
) -> SyncRun:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return sync(load_settings(config), dry_run=False, sleep=sleep)


def _two_machines(tmp_path: Path, fake: FakeGitHub) -> list[Path]:
    """The same project on two machines: each its own folder and state dir."""
    configs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        configs.append(project_in(tmp_path / name, fake))
    return configs


def _sync_at_once(configs: list[Path]) -> list[SyncRun]:
    """One sync per config, all at the same moment (two machines, say)."""
    runs: list[SyncRun] = []

    def run(config: Path) -> None:
        runs.append(sync(load_settings(config), dry_run=False))

    threads = [threading.Thread(target=run, args=(config,)) for config in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


def _ops(run: SyncRun) -> list[str]:
    return [o.action.op if o.ok else f"{o.action.op} failed" for o in run.outcomes]


def test_items_become_assigned_issues_with_due_dates_and_labels(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["create"] * 3
    first = fake.issues[1]
    assert first["title"] == "Alert when the pool is above 90% for 5 minutes"
    assert [a["login"] for a in first["assignees"]] == ["dana"]
    assert {label["name"] for label in first["labels"]} == {"pmsync", "postmortem"}
    assert "Due: 2026-04-01" in first["body"]
    assert "<!-- pmsync:v1 item=" in first["body"]
    assert fake.count()["POST issues"] == 3


def test_an_owner_who_cannot_be_assigned_is_named_not_dropped(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync(project, monkeypatch)
    third = fake.issues[3]
    assert third["assignees"] == []
    assert "needs-owner" in {label["name"] for label in third["labels"]}
    (comment,) = fake.comments[3]
    assert "`bob-not-a-collaborator`" in comment["body"]
    assert fake.count()["GET assignee"] == 3  # each login checked once per run


def test_two_fresh_runs_make_no_duplicate_and_the_second_writes_nothing(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync(project, monkeypatch)
    fake.reset_counts()
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["unchanged"] * 3
    assert len(fake.issues) == 3
    assert fake.writes() == 0
    # The number after the newest listed issue: unused, so nothing is missing from the list.
    assert fake.count() == {"GET user": 1, "GET issues": 1, "GET issue": 1}


def test_an_unchanged_resync_lists_conditionally_and_costs_no_rate_limit(
    tmp_path: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(
        f"| Add alert {n} on queue depth | Dana Kim | 2026-04-01 |\n" for n in range(150)
    )
    config = project_in(tmp_path, fake)
    config.write_text(
        config.read_text().replace("[routing]", "max_writes_per_minute = 0\n[routing]")
    )
    (tmp_path / "docs" / "pm-1.md").write_text(DOC.split("| Alert when")[0] + rows)  # 2 pages
    assert _ops(_sync(config, monkeypatch)) == ["create"] * 150
    fake.reset_counts()
    _sync(config, monkeypatch)  # the first listing since filing: pages change, ETags kept
    fake.reset_counts()
    remaining = fake.rate_remaining
    run = _sync(config, monkeypatch)
    assert _ops(run) == ["unchanged"] * 150
    assert fake.writes() == 0
    assert len(fake.issues) == 150
    assert fake.conditional == [("issues", 304)] * 2  # every list read, and none changed
    assert fake.count()["GET issues"] == 2
    assert remaining - fake.rate_remaining == 2  # the bot's login and the probe past the list
    # A person closes an issue: its page is read again, and the change is seen.
    fake.issues[120]["state"] = "closed"
    fake.reset_counts()
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    snapshots = build_trackers(load_settings(config))["gh"].snapshot()
    assert sorted(status for _, status in fake.conditional) == [200, 304]
    assert [s.ref.key for s in snapshots if s.state == "closed"] == ["#120"]
    assert len(snapshots) == 150


def test_without_a_readable_page_file_the_listing_is_read_in_full(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync(project, monkeypatch)
    pages = project.parent / ".pmsync" / "trackers" / "gh.pages.json"
    assert pages.is_file()
    pages.write_text("{not json")
    fake.reset_counts()
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["unchanged"] * 3
    assert fake.conditional == []  # nothing to revalidate: an ordinary read
    assert fake.count()["GET issues"] == 1
    fake.reset_counts()
    _sync(project, monkeypatch)
    assert fake.conditional == [("issues", 304)]


def test_a_fresh_run_while_the_list_lags_files_nothing_twice(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.lag = 120.0  # new issues show in lists two minutes late
    _sync(project, monkeypatch)
    fake.reset_counts()
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["unchanged"] * 3
    assert len(fake.issues) == 3
    assert fake.count()["GET issue"] == 4  # the three made, read by number, and the next


def test_a_deleted_issue_in_the_way_is_passed_over(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_issue("Someone's question", "Hello", user="mallory", labels=[])
    del fake.issues[1]
    fake.deleted.add(1)
    fake.lag = 120.0
    _sync(project, monkeypatch)
    assert _ops(_sync(project, monkeypatch)) == ["unchanged"] * 3
    assert sorted(fake.issues) == [2, 3, 4]


def test_two_runs_with_their_own_state_keep_one_issue_per_item(
    tmp_path: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two containers sync at the same moment, each with its own state and no lease (a token
    without contents: write): both file, then each reads the repository again and closes the
    later duplicates, so both keep the same one."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    fake.git_api = False
    configs = _two_machines(tmp_path, fake)
    fake.faults.append(Fault("POST", r"/issues$", kind="slow", delay=0.2, times=6))
    runs = _sync_at_once(configs)
    open_titles = [i["title"] for i in fake.issues.values() if i["state"] == "open"]
    assert sorted(open_titles) == sorted({i["title"] for i in fake.issues.values()})
    assert len(open_titles) == 3
    kept = [sorted(o.ref.key for o in r.outcomes if o.action.op == "create") for r in runs]
    assert kept[0] == kept[1]
    closed = [i for i in fake.issues.values() if i["state"] == "closed"]
    for issue in closed:
        (note,) = [c["body"] for c in fake.comments[issue["number"]]][-1:]
        assert "a duplicate of #" in note


def test_two_checks_with_their_own_state_keep_one_review_issue(
    tmp_path: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    configs = _two_machines(tmp_path, fake)
    sync(load_settings(configs[0]), dry_run=False)
    fake.faults.append(Fault("POST", r"/issues$", kind="slow", delay=0.3, times=2))
    later = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)  # past the four weeks of the review
    threads = [
        threading.Thread(
            target=check, args=(load_settings(c),), kwargs={"now": later, "dry_run": False}
        )
        for c in configs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reviews = [i for i in fake.issues.values() if i["title"].startswith("Follow-up review")]
    assert len(reviews) == 1  # opened once, under the lease: none to close afterwards
    assert reviews[0]["state"] == "open"
    assert fake.refs == {}  # the lease released


def test_with_a_lease_two_runs_on_two_machines_never_file_at_once(
    tmp_path: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    configs = _two_machines(tmp_path, fake)  # the lease is taken by default where it may be
    fake.faults.append(Fault("POST", r"/issues$", kind="slow", delay=0.2, times=6))
    runs = _sync_at_once(configs)
    assert len(fake.issues) == 3  # filed once: no duplicate to close
    waited = [r for r in runs if r.problems]
    if waited:  # the other run came while the first held the lease
        (problem,) = waited[0].problems
        assert "is filing issues until" in problem.message
    assert fake.refs == {}  # released
    assert _ops(_sync(configs[1], monkeypatch)) == ["unchanged"] * 3


def test_a_lease_left_by_a_run_that_died_is_taken_over_once_expired(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.commits["0" * 39 + "1"] = {
        "sha": "0" * 39 + "1",
        "message": "pmsync lease\n\nholder: gone pid 1\nuntil: 2000-01-01T00:00:00+00:00\n",
        "parents": [],
    }
    fake.refs["refs/pmsync/lease"] = "0" * 39 + "1"
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["create"] * 3
    assert fake.refs == {}
    fake.refs["refs/pmsync/lease"] = "0" * 39 + "1"
    fake.commits["0" * 39 + "1"]["message"] = (
        "pmsync lease\n\nholder: busy pid 2\nuntil: 2999-01-01T00:00:00+00:00\n"
    )
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(doc.read_text() + "| Add a canary stage | Dana Kim | 2026-05-01 |\n")
    run = _sync(project, monkeypatch)
    assert [o.action.op for o in run.outcomes].count("create") == 0
    (problem,) = run.problems
    assert "another pmsync (busy pid 2) is filing issues until 2999-01-01" in problem.message


@pytest.mark.parametrize("apart", [timedelta(minutes=40), timedelta(hours=3)])
def test_machines_whose_clocks_differ_agree_on_who_holds_the_lease(
    fake: FakeGitHub, apart: timedelta
) -> None:
    """The lease is timed on GitHub's clock: a machine far behind does not see the lease of
    one far ahead as expired, nor the other way round; each says its clock is off."""
    stream = io.StringIO()
    logs.configure("info", stream=stream, json=True)
    options = GithubOptions(repo="acme/incidents", base_url=fake.url, token=TOKEN, write_interval=0)
    github_now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    fake.clock = lambda: github_now
    for first, second in ((-apart, apart), (apart, -apart)):
        ahead = GithubTracker("gh", options, wall=lambda d=first: github_now + d)
        behind = GithubTracker("gh", options, wall=lambda d=second: github_now + d)
        with ahead.lease() as held:
            assert held
            busy = "is filing issues until 2026-12-07T10:30:00"
            with pytest.raises(Busy, match=busy), behind.lease():
                pass
        assert fake.refs == {}
    github_now += timedelta(minutes=31)  # a lease left behind expires on GitHub's clock
    fake.refs["refs/pmsync/lease"], _ = next(iter(fake.commits.items()))
    with GithubTracker("gh", options, wall=lambda: github_now - apart).lease() as held:
        assert held
    skews = [line for line in stream.getvalue().splitlines() if '"clock_skew"' in line]
    assert len(skews) == 5  # once per tracker
    assert f'"seconds": {round(apart.total_seconds())}' in stream.getvalue()


@pytest.mark.parametrize("apart", [timedelta(minutes=40), timedelta(hours=3)])
def test_two_machines_whose_clocks_differ_file_200_items_once(
    tmp_path: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, apart: timedelta
) -> None:
    """Two containers, clocks `apart` (more than the 30-minute lease), each with its own
    state, sync 200 items at the same moment: not one duplicate is made."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    rows = "".join(f"| Add the alert number {n} to the pool dashboard | | |\n" for n in range(200))
    configs = _two_machines(tmp_path, fake)
    for config in configs:
        doc = config.parent / "docs" / "pm-1.md"
        doc.write_text(DOC.split("| Alert")[0] + rows)
        text = config.read_text()
        config.write_text(text.replace("[routing]", "max_writes_per_minute = 0\n[routing]"))
    fake.faults.append(Fault("POST", r"/issues$", kind="slow", delay=0.01, times=200))
    runs: list[SyncRun] = []

    def machine(config: Path, offset: timedelta) -> None:
        settings = load_settings(config)
        section = settings.trackers["gh"]
        assert isinstance(section, github.Config)
        built = github.build("gh", section, settings.build_context(lambda: datetime.now(UTC)))
        skewed = GithubTracker("gh", built.options, wall=lambda: datetime.now(UTC) + offset)
        runs.append(sync(settings, dry_run=False, trackers={"gh": skewed}))

    threads = [
        threading.Thread(target=machine, args=(config, offset))
        for config, offset in zip(configs, (-apart, apart), strict=True)
    ]
    threads[0].start()  # the machine whose clock is behind takes the lease
    while not fake.refs and threads[0].is_alive():
        time.sleep(0.01)
    threads[1].start()  # the one ahead must not think it expired
    for thread in threads:
        thread.join()
    assert len(fake.issues) == 200  # filed once: no duplicate made, none to close
    assert sum(1 for run in runs for o in run.outcomes if o.action.op == "create") == 200
    for config in configs:
        assert _ops(_sync(config, monkeypatch)) == ["unchanged"] * 200
    assert len(fake.issues) == 200


def test_a_server_that_records_no_commit_time_still_keeps_the_lease(fake: FakeGitHub) -> None:
    """Without a committer date, the lease names its end by the server's Date header."""
    fake.commit_dates = False
    options = GithubOptions(repo="acme/incidents", base_url=fake.url, token=TOKEN, write_interval=0)
    with GithubTracker("gh", options).lease() as held:
        assert held
        with (
            pytest.raises(Busy, match="is filing issues until"),
            GithubTracker("gh", options).lease(),
        ):
            pass


def test_a_lease_the_token_cannot_take_is_a_config_error_only_when_required(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.git_api = False
    assert _ops(_sync(project, monkeypatch)) == ["create"] * 3  # auto: filed without a lease
    assert fake.count()["POST git tree"] == 1  # asked once
    project.write_text(project.read_text().replace("[routing]", 'lease = "required"\n[routing]'))
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(doc.read_text() + "| Add a canary stage | Dana Kim | 2026-05-01 |\n")
    with pytest.raises(ConfigError, match=r"trackers\.gh\.lease: .*contents: write"):
        _sync(project, monkeypatch)
    assert len(fake.issues) == 3  # nothing filed without the lease it requires


def test_a_changed_due_date_is_one_patch_of_the_changed_fields(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync(project, monkeypatch)
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(
        doc.read_text().replace("| Dana Kim | 2026-04-01 |", "| Dana Kim | 2026-04-08 |")
    )
    fake.reset_counts()
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["update", "unchanged", "unchanged"]
    assert fake.writes() == 1
    ((method, kind, payload),) = fake.payloads
    assert (method, kind) == ("PATCH", "issue")
    assert set(payload) == {"body"}
    assert "Due: 2026-04-08" in payload["body"]


def test_a_create_whose_response_was_lost_is_adopted_not_repeated(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.faults.append(Fault("POST", r"/issues$", kind="after", status=502))
    fake.faults.append(Fault("POST", r"/issues$", kind="drop"))
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["create"] * 3
    assert len(fake.issues) == 3
    assert fake.count()["POST issues"] == 3


def test_a_lost_answer_is_adopted_whatever_the_server_s_clock_says(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.clock = lambda: datetime(2020, 1, 6, 9, tzinfo=UTC)  # years behind this machine
    fake.lag = 60.0  # and its lists behind its writes
    fake.faults.append(Fault("POST", r"/issues$", kind="after", status=502, skip=1))
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["create"] * 3
    assert len(fake.issues) == 3


def test_a_run_killed_after_a_lost_create_is_completed_by_the_next(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first create is made but its answer lost, and GitHub then stops answering reads, so
    # this run cannot tell; it must not re-send the create. (No lease: with one, the read
    # again under the lease fails first, and nothing is filed at all.)
    fake.git_api = False
    fake.faults.append(Fault("POST", r"/issues$", kind="after", status=502))
    fake.faults.append(Fault("GET", r"/issues$", status=502, times=50, skip=1))
    first = _sync(project, monkeypatch)
    assert _ops(first) == ["create failed", "create", "create"]
    assert fake.count()["POST issues"] == 3  # one per item: the lost one was not re-sent
    fake.faults.clear()
    second = _sync(project, monkeypatch)
    assert _ops(second) == ["unchanged"] * 3
    assert len(fake.issues) == 3


def test_a_secondary_rate_limit_is_waited_out_as_told(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    fake.faults.append(
        Fault(
            "POST",
            r"/issues$",
            status=403,
            headers={"Retry-After": "3"},
            body={"message": "You have exceeded a secondary rate limit."},
        )
    )
    run = _sync(project, monkeypatch, waits.append)
    assert _ops(run) == ["create"] * 3
    assert 3.0 in waits
    assert len(fake.issues) == 3


@pytest.mark.parametrize(
    ("status", "message"),
    [(429, "API rate limit exceeded"), (403, "You have exceeded a secondary rate limit.")],
)
def test_a_limit_past_the_wait_budget_stops_cleanly_and_the_next_run_finishes(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, status: int, message: str
) -> None:
    fake.faults.append(
        Fault(
            "POST",
            r"/issues$",
            status=status,
            headers={"Retry-After": "3600"},
            body={"message": message},
        )
    )
    stopped = _sync(project, monkeypatch, lambda seconds: None)
    assert _ops(stopped) == ["create failed"] * 3
    assert any(p.fatal and "wait budget" in p.message for p in stopped.problems)
    assert fake.issues == {}
    finished = _sync(project, monkeypatch)
    assert _ops(finished) == ["create"] * 3
    assert len(fake.issues) == 3


def test_a_marker_planted_in_someone_elses_issue_hijacks_nothing(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync(project, monkeypatch)
    genuine = fake.issues[1]["body"]
    marker = re.search(r"<!-- pmsync:v1 [^>]+-->", genuine)
    assert marker is not None
    fake.add_issue("Hijack", f"Mine now {marker.group(0)}", user="mallory", labels=["pmsync"])
    fake.add_issue("A pull request", genuine, user=fake.bot, labels=["pmsync"], pr=True)
    fake.reset_counts()
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["unchanged"] * 3
    assert fake.writes() == 0
    assert fake.issues[4]["title"] == "Hijack"


def test_a_duplicate_is_closed_with_a_link_and_its_comments_are_pointed_to(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync(project, monkeypatch)
    original = fake.issues[1]
    copy = fake.add_issue(original["title"], original["body"], user=fake.bot, labels=["pmsync"])
    fake.comment_as(copy, "dana", "Started on this one.")
    run = _sync(project, monkeypatch)
    assert [o.action.op for o in run.outcomes].count("close") == 1
    assert fake.issues[copy]["state"] == "closed"
    closing = fake.comments[copy][-1]["body"]
    assert closing.startswith("Closed by pmsync: a duplicate of #1 (https://github.test/")
    (pointer,) = [c["body"] for c in fake.comments[1]]
    assert f"#{copy}" in pointer
    assert "people commented there" in pointer


@pytest.mark.parametrize("status", [404, 409, 422])
def test_a_duplicate_another_run_closed_first_is_no_failure(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """Two runs close the same duplicate; the one that loses is told so by the tracker (a 4xx
    on the close), which is what it wanted: logged at info, not a failure, exit 0."""
    _sync(project, monkeypatch)
    original = fake.issues[1]
    copy = fake.add_issue(original["title"], original["body"], user=fake.bot, labels=["pmsync"])
    fake.faults.append(
        Fault("PATCH", rf"/issues/{copy}$", status=status, body={"message": "already closed"})
    )
    run = _sync(project, monkeypatch)
    (close,) = [o for o in run.outcomes if o.action.op == "close"]
    assert close.ok
    assert run.counts()["failed"] == 0
    assert not run.problems


def test_needs_owner_comes_off_with_one_write_once_an_owner_is_named(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(doc.read_text().replace("| Sam Rivera |", "|  |"))
    _sync(project, monkeypatch)
    labels = {label["name"] for label in fake.issues[2]["labels"]}
    assert {"needs-owner", "needs-refinement"} <= labels  # no owner is an error the check finds
    doc.write_text(doc.read_text().replace("pipeline |  |", "pipeline | Sam Rivera |"))
    fake.reset_counts()
    _sync(project, monkeypatch)
    assert fake.writes() == 1
    assert [a["login"] for a in fake.issues[2]["assignees"]] == ["sam-rivera"]
    state = {"needs-owner", "needs-refinement"}
    assert {label["name"] for label in fake.issues[2]["labels"]} == labels - state
    doc.write_text(doc.read_text().replace("pipeline | Sam Rivera |", "pipeline |  |"))
    fake.reset_counts()
    _sync(project, monkeypatch)
    assert fake.writes() == 1
    assert {label["name"] for label in fake.issues[2]["labels"]} == labels


def test_a_duplicate_whose_close_failed_gets_one_closing_comment(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 on closing a duplicate leaves no comment behind; the next run closes it and
    comments once."""
    _sync(project, monkeypatch)
    original = fake.issues[1]
    copy = fake.add_issue(original["title"], original["body"], user=fake.bot, labels=["pmsync"])
    fake.comment_as(copy, "dana", "Started on this one.")
    fake.faults.append(Fault("PATCH", rf"/issues/{copy}$", status=500, times=20))
    failed = _sync(project, monkeypatch)
    assert [o.ok for o in failed.outcomes if o.action.op == "close"] == [False]
    assert fake.issues[copy]["state"] == "open"
    fake.faults.clear()
    _sync(project, monkeypatch)
    assert fake.issues[copy]["state"] == "closed"
    closing = [c for c in fake.comments[copy] if c["body"].startswith("Closed by pmsync")]
    assert len(closing) == 1
    assert len(fake.comments[1]) == 1  # the pointer to the people's comments, once
    _sync(project, monkeypatch)
    assert len(fake.comments[copy]) == 2  # the person's, and pmsync's closing comment


def test_removed_items_are_closed_as_not_planned(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync(project, monkeypatch)
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(
        "\n".join(line for line in doc.read_text().splitlines() if "Sam Rivera" not in line)
    )
    run = _sync(project, monkeypatch)
    assert "close" in _ops(run)
    assert (fake.issues[2]["state"], fake.issues[2]["state_reason"]) == ("closed", "not_planned")
    assert "no longer in the post-mortem" in fake.comments[2][-1]["body"]


def test_due_dates_as_milestones_due_at_noon_utc(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_text(
        project.read_text().replace(
            "write_interval_seconds = 0", 'write_interval_seconds = 0\ndue_date = "milestone"'
        )
    )
    _sync(project, monkeypatch)
    titles = sorted(m["title"] for m in fake.milestones.values())
    assert titles == ["Due 2026-04-01", "Due 2026-04-15"]
    assert {m["due_on"] for m in fake.milestones.values()} == {
        "2026-04-01T12:00:00Z",
        "2026-04-15T12:00:00Z",
    }
    assert fake.issues[2]["milestone"]["title"] == fake.issues[3]["milestone"]["title"]
    assert "Due: 2026-04-15" in fake.issues[2]["body"]


def test_due_dates_in_an_organisation_issue_field(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_text(
        project.read_text().replace(
            "write_interval_seconds = 0", 'write_interval_seconds = 0\ndue_date = "issue-field"'
        )
    )
    _sync(project, monkeypatch)
    assert fake.field_values[1] == {7: "2026-04-01"}
    assert fake.count()["GET issue fields"] == 1


def test_a_missing_issue_field_is_a_clear_error(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.issue_fields = [{"id": 3, "name": "Priority", "data_type": "single_select"}]
    project.write_text(
        project.read_text().replace(
            "write_interval_seconds = 0", 'write_interval_seconds = 0\ndue_date = "issue-field"'
        )
    )
    run = _sync(project, monkeypatch)
    assert any("no date issue field named 'Target date'" in p.message for p in run.problems)
    assert fake.issues == {}


def test_the_token_never_reaches_the_logs(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    logs.configure("debug", stream=stream, json=True)
    fake.faults.append(Fault("GET", r"/user$", status=401, body={"message": "Bad credentials"}))
    run = _sync(project, monkeypatch)
    structlog.get_logger().info("after_run", problems=[p.message for p in run.problems])
    text = stream.getvalue()
    assert "Bad credentials" in text or "401" in text
    assert "s3cret" not in text
    assert any(p.fatal for p in run.problems)


def test_a_github_app_installation_writes_as_its_bot(fake: FakeGitHub, tmp_path: Path) -> None:
    pem = rsa_private_key_pem()
    options = GithubOptions(
        repo="acme/incidents",
        base_url=fake.url,
        app_id=99,
        private_key=pem,
        installation_id=42,
        write_interval=0,
    )
    from syncer.identity import content_hash
    from syncer.model import IssueDraft

    draft = IssueDraft("0123456789ab", "pm-1", "Add alerting", "Body", (), None, ("pmsync",))
    GithubTracker("gh", options).create(replace(draft, content_hash=content_hash(draft)))
    assert fake.issues[1]["user"]["login"] == "pmsync-app[bot]"
    (snap,) = GithubTracker("gh", options).snapshot()
    assert snap.item_key == "0123456789ab"
    assert fake.count()["POST app token"] >= 1


def test_a_create_that_timed_out_is_looked_up_not_repeated(
    project: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_text(
        project.read_text()
        .replace("retry_backoff_seconds = 0.01", "retry_backoff_seconds = 1.5")
        .replace("write_interval_seconds = 0", "write_interval_seconds = 0\ntimeout_seconds = 1")
    )
    fake.faults.append(Fault("POST", r"/issues$", kind="slow", delay=2.0))
    run = _sync(project, monkeypatch)
    assert _ops(run) == ["create"] * 3
    assert len(fake.issues) == 3
    assert fake.count()["POST issues"] == 3


def test_two_pmsync_processes_in_a_row_make_no_duplicate(project: Path, fake: FakeGitHub) -> None:
    import os
    import subprocess
    import sys

    pmsync = Path(sys.executable).parent / "pmsync"
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "PMSYNC_CONFIG": str(project)}
    outputs = [
        subprocess.run([str(pmsync), "sync"], env=env, capture_output=True, text=True, timeout=60)
        for _ in range(2)
    ]
    assert [o.returncode for o in outputs] == [0, 0], outputs[0].stderr
    assert (
        outputs[0].stdout.rstrip().endswith("created 3, updated 0, unchanged 0, closed 0, failed 0")
    )
    assert (
        outputs[1].stdout.rstrip().endswith("created 0, updated 0, unchanged 3, closed 0, failed 0")
    )
    assert len(fake.issues) == 3
    assert all("s3cret" not in o.stdout + o.stderr for o in outputs)


def test_the_activity_tells_the_first_assignment_and_the_linked_commits(fake: FakeGitHub) -> None:
    from syncer.identity import content_hash
    from syncer.model import IssueDraft

    options = GithubOptions(repo="acme/incidents", base_url=fake.url, token=TOKEN, write_interval=0)
    tracker = GithubTracker("gh", options)
    t0 = datetime(2026, 3, 4, 9, tzinfo=UTC)
    fake.clock = lambda: t0
    draft = IssueDraft("0123456789ab", "pm-1", "Add alerting", "Body", (), None, ("pmsync",))
    ref = tracker.create(replace(draft, content_hash=content_hash(draft)))
    assert tracker.activity(ref).assigned_at is None
    fake.clock = lambda: t0 + timedelta(days=3)
    assigned = replace(draft, assignees=("dana",))
    tracker.update(ref, replace(assigned, content_hash=content_hash(assigned)), {"assignees"})
    fake.clock = lambda: t0 + timedelta(days=6)
    tracker.update(ref, replace(assigned, assignees=("sam-rivera",)), {"assignees"})
    number = int(ref.key.lstrip("#"))
    fake.events[number].append(  # a commit that says "fixes #1", as GitHub records it
        {
            "event": "referenced",
            "actor": {"login": "dana"},
            "created_at": fake.stamp(),
            "commit_id": "9f2c1e0d4b5a69788776655443322110ffeeddcc",
        }
    )
    activity = tracker.activity(ref)
    assert activity.assigned_at == t0 + timedelta(days=3)
    assert activity.changes == ("commit 9f2c1e0d4b5a69788776655443322110ffeeddcc",)
