"""The `linear` tracker end to end, against the stateful fake Linear on loopback: items become
issues with assignee, due date, priority and labels, exactly once through lost answers, two
machines at once and rate limits; follow-up, the report, and `config check --online`."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from connectors.trackers.linear import issue_id
from syncer import logs
from syncer.check import check
from syncer.cli import main
from syncer.pipeline import SyncRun, sync
from syncer.report import collect, figures
from syncer.settings import load_settings
from tests.fakes.linear import FakeLinear, Fault

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PRIORITIES = ("P0", "P1", "P2", "P3", "")


def _document(count: int = 30, due_shift: int = 0) -> str:
    owners = ("Dana Kim", "Sam Rivera", "Lee Park")
    rows = [
        f"| Harden step {n} of the checkout failover | {owners[n % 3]} "
        f"| 2026-04-{(n + due_shift) % 28 + 1:02d} | {PRIORITIES[n % 5]} |"
        for n in range(count)
    ]
    return (
        "---\nid: PM-7\ntitle: Checkout failover\ndate: 2026-03-04\n---\n# Checkout failover\n\n"
        "## Action items\n\n| Action | Owner | Due | Priority |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )


PEOPLE = """
[[people]]
name = "Dana Kim"
linear = "dana@acme.test"

[[people]]
name = "Sam Rivera"
linear = "sam@acme.test"

[[people]]
name = "Lee Park"
linear = "lee@acme.test"
"""


@pytest.fixture
def fake() -> Iterator[FakeLinear]:
    server = FakeLinear()
    server.clock = lambda: NOW
    with server.running():
        yield server


def _project(folder: Path, fake: FakeLinear, key: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs").mkdir(exist_ok=True)
    (folder / "docs" / "pm-7.md").write_text(_document())
    (folder / "people.toml").write_text(PEOPLE)
    (folder / "key.txt").write_text((key or fake.api_key) + "\n")
    config = folder / "config.toml"
    config.write_text(
        f"""
people_file = "people.toml"
[sources.docs]
kind = "markdown-dir"
path = "docs"
[trackers.lin]
kind = "linear"
team = "OPS"
url = "{fake.url}"
api_key_file = "key.txt"
labels = ["postmortem"]
write_interval_seconds = 0
retry_backoff_seconds = 0.01
[routing]
default = "lin"
"""
    )
    return config


@pytest.fixture
def project(tmp_path: Path, fake: FakeLinear) -> Path:
    return _project(tmp_path, fake)


def _sync(config: Path, sleep: object = None, at: datetime = NOW) -> SyncRun:
    return sync(load_settings(config), dry_run=False, now=at, sleep=sleep)  # type: ignore[arg-type]


def _ops(run: SyncRun) -> list[str]:
    return sorted(o.action.op if o.ok else f"{o.action.op} failed" for o in run.outcomes)


def _open(fake: FakeLinear) -> list[dict[str, object]]:
    return [i for i in fake.issues.values() if fake.state_type(i) not in ("completed", "canceled")]


def test_thirty_items_become_issues_once_and_a_changed_due_date_makes_one_update(
    project: Path, fake: FakeLinear
) -> None:
    run = _sync(project)
    assert _ops(run) == ["create"] * 30
    assert len(fake.issues) == 30
    by_title = {i["title"]: i for i in fake.issues.values()}
    first = by_title["Harden step 0 of the checkout failover"]
    assert fake.users[first["assigneeId"]]["email"] == "dana@acme.test"
    assert first["dueDate"] == "2026-04-01"
    assert first["priority"] == 1  # P0: urgent
    assert by_title["Harden step 3 of the checkout failover"]["priority"] == 4  # P3: low
    assert {"pmsync", "postmortem"} <= fake.label_names(first)
    assert first["id"] == issue_id("OPS", run.outcomes[0].action.draft.item_key)  # type: ignore[union-attr]
    lee = by_title["Harden step 2 of the checkout failover"]  # not a member of the team
    assert lee["assigneeId"] is None
    assert "needs-owner" in fake.label_names(lee)
    assert any("lee@acme.test" in c["body"] for c in fake.comments[lee["id"]])
    urls = {a["url"] for a in fake.attachments}
    assert len(urls) == 30  # each issue carries its item's address
    assert len({lb["name"] for lb in fake.labels.values()}) == len(fake.labels)  # made once
    fake.reset_counts()
    assert _ops(_sync(project)) == ["unchanged"] * 30
    assert fake.writes() == 0
    text = (project.parent / "docs" / "pm-7.md").read_text()
    changed = text.replace("| 2026-04-01 | P0 |", "| 2026-04-20 | P0 |")
    (project.parent / "docs" / "pm-7.md").write_text(changed)
    fake.reset_counts()
    again = _sync(project)
    assert _ops(again) == ["unchanged"] * 29 + ["update"]
    assert fake.writes() == 1
    assert fake.by_title("Harden step 0 of the checkout failover")[0]["dueDate"] == "2026-04-20"


@pytest.mark.parametrize("kind", ["after", "drop"])
def test_a_lost_answer_to_a_create_leaves_no_duplicate(
    project: Path, fake: FakeLinear, kind: str
) -> None:
    fake.faults.append(Fault("issueCreate", kind=kind, status=502, times=3))
    run = _sync(project)
    assert run.counts()["failed"] == 0
    assert len(fake.issues) == 30
    assert _ops(_sync(project)) == ["unchanged"] * 30
    assert len(fake.issues) == 30


def test_two_machines_syncing_at_once_leave_no_duplicate(tmp_path: Path, fake: FakeLinear) -> None:
    configs = [_project(tmp_path / name, fake) for name in ("a", "b")]
    runs: list[SyncRun] = []
    threads = [
        threading.Thread(target=lambda c=config: runs.append(_sync(c))) for config in configs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.issues) == 30
    assert len(_open(fake)) == 30
    assert all(run.counts()["failed"] == 0 for run in runs)
    assert _ops(_sync(configs[1])) == ["unchanged"] * 30


LIMITED = {"errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]}


def test_a_rate_limit_is_waited_out_until_its_reset(project: Path, fake: FakeLinear) -> None:
    fake.faults.append(Fault("issueCreate", status=400, body=LIMITED, reset_in=30))
    waits: list[float] = []
    run = _sync(project, sleep=waits.append)
    assert _ops(run) == ["create"] * 30
    assert len(waits) == 1
    assert 29 <= waits[0] <= 32  # until the reset Linear named, and a second more
    assert len(fake.issues) == 30


def test_a_rate_limit_past_the_wait_budget_stops_and_the_next_run_files_the_rest(
    project: Path, fake: FakeLinear
) -> None:
    fake.faults.append(Fault("issueCreate", status=400, body=LIMITED, reset_in=7200))
    stopped = _sync(project, sleep=lambda seconds: None)
    assert any(p.fatal and "wait budget" in p.message for p in stopped.problems)
    finished = _sync(project)
    assert finished.counts()["failed"] == 0
    assert len(fake.issues) == 30
    assert _ops(_sync(project)) == ["unchanged"] * 30


def test_a_removed_item_is_canceled_and_a_completed_issue_counts_as_done(
    project: Path, fake: FakeLinear
) -> None:
    _sync(project)
    done = fake.by_title("Harden step 1 of the checkout failover")[0]
    fake.move(done["id"], "completed")
    lines = _document().splitlines(keepends=True)
    text = "".join(line for line in lines if "Harden step 15 " not in line)  # taken out
    (project.parent / "docs" / "pm-7.md").write_text(text)
    run = _sync(project, at=NOW + timedelta(hours=1))
    closes = [o for o in run.outcomes if o.action.op == "close"]
    assert len(closes) == 1
    gone = fake.by_title("Harden step 15 of the checkout failover")[0]
    assert fake.state_type(gone) == "canceled"
    totals = figures(collect(load_settings(project), now=NOW + timedelta(hours=2)))["totals"]
    assert totals["done"] == 1
    assert totals["dropped"] == 1


def test_follow_up_nudges_a_stalled_issue_once(project: Path, fake: FakeLinear) -> None:
    _sync(project)
    later = NOW + timedelta(days=20)
    fake.clock = lambda: later
    first = check(load_settings(project), now=later, dry_run=False)
    nudged = [o for o in first.outcomes if o.ok and o.action.op == "nudge"]
    assert nudged
    fake.reset_counts()
    second = check(load_settings(project), now=later + timedelta(hours=1), dry_run=False)
    assert not [o for o in second.outcomes if o.ok and o.action.op == "nudge"]


def test_the_key_never_shows_in_logs_state_or_output(
    project: Path,
    fake: FakeLinear,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMSYNC_NOW", NOW.isoformat())
    stream = io.StringIO()
    logs.configure("debug", json=True, stream=stream)
    try:
        fake.faults.append(Fault("issueCreate", kind="after", status=502))
        code = main(["--config", str(project), "sync"])
    finally:
        structlog.reset_defaults()
    out = capsys.readouterr()
    assert code == 0
    seen = stream.getvalue() + out.out + out.err
    seen += "".join(p.read_text() for p in (project.parent / ".pmsync").rglob("*.json"))
    assert fake.api_key not in seen


def test_config_check_online_names_a_wrong_key_team_or_person(
    tmp_path: Path, fake: FakeLinear, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_key = _project(tmp_path / "key", fake, key="lin_api_wrong")
    assert main(["--config", str(wrong_key), "config", "check", "--online"]) == 2
    assert "trackers.lin.api_key: Linear rejected the key" in capsys.readouterr().err
    wrong_team = _project(tmp_path / "team", fake)
    wrong_team.write_text(wrong_team.read_text().replace('team = "OPS"', 'team = "NOPE"'))
    assert main(["--config", str(wrong_team), "config", "check", "--online"]) == 2
    assert "trackers.lin.team: Linear has no team with key 'NOPE'" in capsys.readouterr().err
    fine = _project(tmp_path / "people", fake)
    assert main(["--config", str(fine), "config", "check", "--online"]) == 2
    err = capsys.readouterr().err
    assert "linear = 'lee@acme.test' is no member of team 'OPS'" in err
    assert "dana@acme.test" not in err
    assert json.dumps(fake.api_key) not in err


def test_people_named_by_user_id_are_assigned_and_a_re_sync_writes_nothing(
    project: Path, fake: FakeLinear
) -> None:
    dana = next(uid for uid, user in fake.users.items() if user["email"] == "dana@acme.test")
    people = project.parent / "people.toml"
    people.write_text(people.read_text().replace('"dana@acme.test"', f'"{dana}"'))
    _sync(project)
    first = fake.by_title("Harden step 0 of the checkout failover")[0]
    assert first["assigneeId"] == dana
    fake.reset_counts()
    assert _ops(_sync(project)) == ["unchanged"] * 30
    assert fake.writes() == 0


def test_config_check_online_says_whether_linear_s_webhook_points_here(
    project: Path, fake: FakeLinear, capsys: pytest.CaptureFixture[str]
) -> None:
    people = PEOPLE.split("[[people]]")
    (project.parent / "people.toml").write_text("[[people]]".join(people[:3]))  # no Lee
    (project.parent / "hook-secret").write_text("lin_wh_secret\n")
    text = project.read_text().replace(
        "write_interval_seconds = 0",
        'write_interval_seconds = 0\nwebhook_secret_file = "hook-secret"',
    )
    project.write_text(text + '[serve]\npublic_url = "https://pmsync.acme.test"\n')
    assert main(["--config", str(project), "config", "check", "--online"]) == 0
    assert "no webhook delivers issue events to https://pmsync.acme.test/webhooks/lin" in (
        capsys.readouterr().err
    )
    url = "https://pmsync.acme.test/webhooks/lin"
    fake.webhooks.append({"id": "w1", "url": url, "enabled": True, "resourceTypes": ["Issue"]})
    assert main(["--config", str(project), "config", "check", "--online"]) == 0
    assert f"its webhook delivers to {url}" in capsys.readouterr().err
