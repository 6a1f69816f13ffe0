"""The GitLab tracker end to end: whole syncs through the CLI against a fake GitLab on loopback,
with lost answers, 5xx and 429s, and issues somebody else made."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import structlog

from syncer import logs
from syncer.cli import main
from tests.fakes.gitlab import FakeGitLab, Fault

TOKEN = "glpat-" + "s3cret" * 4
OWNERS = ("Dana Kim", "Sam Rivera", "Priya N")
PEOPLE = """
[[people]]
name = "Dana Kim"
gitlab = "dana"

[[people]]
name = "Sam Rivera"
gitlab = "sam"

[[people]]
name = "Priya N"
gitlab = "priya"

[[people]]
name = "Bob Nobody"
gitlab = "bob-not-a-member"
"""


def _document(items: int, start: int = 0) -> str:
    rows = "".join(
        f"| Fix number {n} in the checkout service | {OWNERS[n % 3]} | 2026-04-{1 + n % 28:02d} |\n"
        for n in range(start, start + items)
    )
    return (
        "---\nid: PM-1\ntitle: Checkout latency\ndate: 2026-03-04\n---\n# Checkout latency\n\n"
        "## Action items\n\n| Action | Owner | Due |\n|---|---|---|\n" + rows
    )


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    server = FakeGitLab()
    with server.running():
        yield server


@pytest.fixture
def project(tmp_path: Path, fake: FakeGitLab, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-1.md").write_text(_document(30))
    (tmp_path / "people.toml").write_text(PEOPLE)
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
people_file = "people.toml"
[sources.docs]
kind = "markdown-dir"
path = "docs"
[trackers.lab]
kind = "gitlab"
url = "{fake.url}"
project = "acme/incidents"
milestone = "Post-mortem actions"
labels = ["postmortem"]
write_interval_seconds = 0
retry_backoff_seconds = 0.01
[routing]
default = "lab"
"""
    )
    return config


def _sync(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    capsys.readouterr()
    code = main(["--config", str(config), "sync", "--format", "json"])
    shown = json.loads(capsys.readouterr().out)
    assert code in (0, 1), shown
    return {k: v for k, v in shown.items() if isinstance(v, int) and not isinstance(v, bool)}


def test_thirty_items_become_assigned_issues_with_due_dates_then_nothing_is_written(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sync(project, capsys)["created"] == 30
    assert len(fake.issues) == 30
    for issue in fake.issues.values():
        assert len(issue["assignees"]) == 1
        assert issue["due_date"] is not None
        assert {"pmsync", "postmortem"} <= set(issue["labels"])
        assert issue["milestone"] == {"id": 7, "title": "Post-mortem actions"}
    first = fake.by_title("Fix number 0 in the checkout service")[0]
    assert (first["assignees"][0]["username"], first["due_date"]) == ("dana", "2026-04-01")
    # Usernames are resolved to user ids once per run, not once per issue.
    assert fake.count()["GET users"] == 3

    fake.reset_counts()
    counts = _sync(project, capsys)
    assert (counts["created"], counts["unchanged"]) == (0, 30)
    assert fake.writes() == 0
    assert sum(fake.count().values()) <= 3  # the account, one page of 30, one probe


def test_a_changed_due_date_is_one_edit(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    _sync(project, capsys)
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(
        doc.read_text().replace("| Dana Kim | 2026-04-01 |", "| Dana Kim | 2026-05-01 |")
    )
    fake.reset_counts()
    assert _sync(project, capsys)["updated"] == 1
    assert fake.count()["PUT issue"] == 1
    assert fake.by_title("Fix number 0 in the checkout service")[0]["due_date"] == "2026-05-01"


@pytest.mark.parametrize(
    "fault",
    [
        Fault("POST", r"/issues$", kind="after", status=502, skip=3),  # made, answer lost
        Fault("POST", r"/issues$", kind="drop", skip=5),  # made, connection dropped
        Fault("POST", r"/issues$", status=502, skip=7),  # not made
        Fault("POST", r"/issues$", status=429, headers={"Retry-After": "0"}, skip=9, times=2),
    ],
    ids=["lost-answer", "dropped", "502", "429"],
)
def test_lost_answers_5xx_and_429s_leave_no_duplicate(
    project: Path, fake: FakeGitLab, fault: Fault, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.faults.append(fault)
    counts = _sync(project, capsys)
    assert counts["created"] == 30
    assert counts["failed"] == 0
    titles = [issue["title"] for issue in fake.issues.values()]
    assert len(titles) == len(set(titles)) == 30
    assert _sync(project, capsys)["created"] == 0


def test_a_failed_create_is_finished_by_the_next_run_without_a_duplicate(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.faults.append(Fault("POST", r"/issues$", status=502, skip=2, times=20))
    first = _sync(project, capsys)
    assert first["failed"] >= 1
    second = _sync(project, capsys)
    assert second["failed"] == 0
    titles = [issue["title"] for issue in fake.issues.values()]
    assert len(titles) == len(set(titles)) == 30


def test_a_token_revoked_mid_run_reports_the_issues_made_before_it(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    """Twelve issues are made, then the token is revoked: the run stops, says `created 12`
    in its summary and its JSON, and logs an `issue_created` event for each of the twelve."""
    fake.faults.append(Fault("POST", r"/issues$", status=401, skip=12, times=100))
    capsys.readouterr()
    try:
        code = main(["--config", str(project), "sync", "--format", "json", "--log-level", "info"])
    finally:
        structlog.reset_defaults()
    printed = capsys.readouterr()
    shown = json.loads(printed.out)
    assert code == 3
    assert (shown["created"], shown["failed"]) == (12, 18)
    assert len(fake.issues) == 12
    events = [json.loads(line) for line in printed.err.splitlines() if line.startswith("{")]
    made = [e["ref"] for e in events if e.get("event") == "issue_created"]
    assert sorted(made) == sorted(f"#{issue['iid']}" for issue in fake.issues.values())
    fake.faults.clear()
    assert _sync(project, capsys)["created"] == 18
    assert len(fake.issues) == 30


def test_an_issue_a_person_made_with_a_pasted_marker_is_never_edited(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    _sync(project, capsys)
    ours = fake.by_title("Fix number 0 in the checkout service")[0]
    pasted = fake.add_issue(
        "Copied from the pmsync issue", ours["description"], user="dana", labels=["pmsync"]
    )
    before = dict(fake.issues[pasted])
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(
        doc.read_text().replace("| Dana Kim | 2026-04-01 |", "| Dana Kim | 2026-05-01 |")
    )
    fake.reset_counts()
    counts = _sync(project, capsys)
    assert (counts["updated"], counts["created"]) == (1, 0)
    assert fake.issues[pasted] == before
    assert fake.issues[ours["iid"]]["due_date"] == "2026-05-01"


def test_an_owner_gitlab_does_not_know_is_named_not_dropped(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = project.parent / "docs" / "pm-1.md"
    doc.write_text(_document(1) + "| Rotate the keys | Bob Nobody | 2026-04-20 |\n")
    _sync(project, capsys)
    (issue,) = fake.by_title("Rotate the keys")
    assert issue["assignees"] == []
    assert "needs-owner" in issue["labels"]
    (note,) = [n for n in fake.notes[issue["iid"]] if not n["system"]]
    assert "`bob-not-a-member`" in note["body"]


def test_issues_a_lagging_list_does_not_show_yet_are_found_by_number(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.lag = 60.0  # nothing new shows in lists for a minute
    _sync(project, capsys)
    assert _sync(project, capsys)["created"] == 0
    assert len(fake.issues) == 30


def test_the_project_by_id_and_the_token_from_a_file(
    project: Path,
    fake: FakeGitLab,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITLAB_TOKEN")
    (project.parent / "token").write_text(TOKEN + "\n")
    text = project.read_text().replace('project = "acme/incidents"', 'project = "42"')
    project.write_text(text.replace("[routing]", 'token_file = "token"\n[routing]'))
    assert _sync(project, capsys)["created"] == 30


def test_a_missing_project_and_a_missing_token_are_setting_errors(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_text(project.read_text().replace("acme/incidents", "acme/nothing-here"))
    assert main(["--config", str(project), "sync"]) == 2
    assert "trackers.lab.project: 'acme/nothing-here' not found" in capsys.readouterr().err
    monkeypatch.delenv("GITLAB_TOKEN")
    assert main(["--config", str(project), "sync"]) == 2
    assert "trackers.lab.token: no token" in capsys.readouterr().err


def test_the_token_never_reaches_the_logs(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    logs.configure("debug", json=True, stream=out)
    fake.faults.append(Fault("POST", r"/issues$", status=502, skip=1))
    try:
        main(["--config", str(project), "sync"])
    finally:
        structlog.reset_defaults()
    assert TOKEN not in out.getvalue() + capsys.readouterr().err


def test_check_reads_notes_people_wrote_not_system_notes(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    from connectors.trackers.gitlab import GitlabOptions, GitlabTracker

    _sync(project, capsys)
    tracker = GitlabTracker(
        "lab", GitlabOptions(project=fake.project, url=fake.url, token=TOKEN, write_interval=0)
    )
    (snap,) = [s for s in tracker.snapshot() if s.title.startswith("Fix number 0 ")]
    tracker.add_labels(snap.ref, ["stalled"])  # a system note, by pmsync's account
    fake.issues[int(snap.ref.key[1:])]["author"]["username"] = "pmsync-bot"
    assert tracker.activity(snap.ref).last_human is None
    fake.note_as(int(snap.ref.key[1:]), "dana", "On it.")
    assert tracker.activity(snap.ref).last_human is not None
    assert snap.due == date(2026, 4, 1)


def test_a_429_is_waited_exactly_as_told_and_sent_once_more(fake: FakeGitLab) -> None:
    from connectors.trackers.gitlab import GitlabOptions, GitlabTracker
    from syncer.model import IssueDraft

    waits: list[float] = []
    options = GitlabOptions(project=fake.project, url=fake.url, token=TOKEN, write_interval=0)
    tracker = GitlabTracker("lab", options, sleep=waits.append)
    fake.faults.append(Fault("POST", r"/issues$", status=429, headers={"Retry-After": "7"}))
    draft = IssueDraft("0123456789ab", "pm-1", "Add alerting", "Body", ("dana",), date(2026, 4, 1))
    ref = tracker.create(draft)
    assert waits == [7.0]
    assert [issue["iid"] for issue in fake.issues.values()] == [int(ref.key[1:])]
    assert fake.count()["POST issues"] == 2


@pytest.mark.parametrize("link_header", [True, False])
def test_every_page_is_read_by_its_link_or_its_page_number(
    fake: FakeGitLab, link_header: bool
) -> None:
    from connectors.trackers.gitlab import GitlabApi, GitlabOptions

    fake.link_header = link_header
    iid = fake.add_issue("Notes", "", user="dana", labels=[])
    for n in range(230):
        fake.note_as(iid, "dana", f"note {n}")
    api = GitlabApi("lab", GitlabOptions(project=fake.project, url=fake.url, token=TOKEN))
    notes = list(api.pages(f"{api.project}/issues/{iid}/notes", {"sort": "asc"}))
    assert [n["body"] for n in notes] == [f"note {n}" for n in range(230)]
    assert fake.count()["GET notes"] == 3


def test_a_lost_answer_is_adopted_whatever_the_server_s_clock_says(
    project: Path, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    fake.clock = lambda: datetime(2020, 1, 6, 9, tzinfo=UTC)  # years behind this machine
    fake.lag = 60.0  # and its lists behind its writes
    fake.faults.append(Fault("POST", r"/issues$", kind="after", status=502, skip=4, times=3))
    counts = _sync(project, capsys)
    assert (counts["created"], counts["failed"]) == (30, 0)
    titles = [issue["title"] for issue in fake.issues.values()]
    assert len(titles) == len(set(titles)) == 30
