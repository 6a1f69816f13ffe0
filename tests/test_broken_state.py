"""Broken local state and odd answers: each ends with one problem line naming the file or the
endpoint, no traceback, and no duplicate on the next run."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from syncer.cli import main
from tests import openapi_check
from tests.fakes.github import FakeGitHub, Fault
from tests.fakes.jira import FakeJira

DOC = """---
id: PM-1
date: 2026-03-04
---
# Outage

## Action items

- [ ] Add an alert on the queue depth (Owner: Dana Kim, Due: 2026-04-01)
- [ ] Write the failover runbook (Owner: Dana Kim, Due: 2026-04-15)
"""
PEOPLE = '[[people]]\nname = "Dana Kim"\ngithub = "dana"\njira = "acc-dana"\n'


def _config(tmp_path: Path, tracker: str = "") -> Path:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "pm-1.md").write_text(DOC)
    config = tmp_path / "config.toml"
    config.write_text(PEOPLE + '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n' + tracker)
    return config


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not a database at all" * 100, b"SQLite format 3\x00" + b"\x00" * 50],
    ids=["empty", "garbage", "half-written"],
)
def test_a_damaged_local_store_is_one_problem_with_a_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], garbage: bytes
) -> None:
    config = _config(tmp_path)
    store = tmp_path / ".pmsync" / "local-tracker.sqlite3"
    store.parent.mkdir()
    store.write_bytes(garbage)
    code, text = _run(capsys, "sync", "--config", str(config))
    if garbage == b"":  # SQLite takes an empty file as a new database
        assert code == 0
        return
    assert code == 3
    assert "Traceback" not in text
    (line,) = [line for line in text.splitlines() if line.startswith("problem:")]
    assert "local-tracker.sqlite3" in line
    assert "move it aside" in line


def test_a_damaged_row_of_the_local_store_names_the_issue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert _run(capsys, "sync", "--config", str(config))[0] == 0
    store = tmp_path / ".pmsync" / "local-tracker.sqlite3"
    with sqlite3.connect(store) as db:
        db.execute("UPDATE issues SET labels = '{not json' WHERE number = 2")
    code, text = _run(capsys, "sync", "--config", str(config))
    assert code == 3
    assert "Traceback" not in text
    (line,) = [line for line in text.splitlines() if line.startswith("problem:")]
    assert "issue #2 is damaged" in line
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM issues").fetchone() == (2,)  # nothing filed twice


@pytest.mark.parametrize(
    "state",
    [
        "[1, 2, 3]",
        '{"recipients": {"ops": ["not", "an", "object"]}}',
        '{"recipients": {"ops": {"periods": []}}}',
        '{"recipients": {"ops": {"periods": {"2026-03-09": {"sent": 5}}}}}',
        '{"recipients": {"ops": {"periods": {"2026-03-02": {"open": 5, "at": "yesterday"}}}}}',
        "{half",
    ],
)
def test_a_digest_state_of_the_wrong_shape_is_started_afresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], state: str
) -> None:
    config = _config(tmp_path)
    config.write_text(
        config.read_text() + '[digest.lists.ops]\nchannels = ["json://127.0.0.1:9/"]\n'
    )
    (tmp_path / ".pmsync").mkdir()
    (tmp_path / ".pmsync" / "digest-state.json").write_text(state)
    _run(capsys, "sync", "--config", str(config))
    code, text = _run(capsys, "digest", "--config", str(config), "--now", "2026-03-09T10:00")
    assert "Traceback" not in text
    assert code == 1  # the channel does not answer; the state did no harm


def test_a_source_state_of_the_wrong_shape_only_costs_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    (tmp_path / ".pmsync" / "sources").mkdir(parents=True)
    (tmp_path / ".pmsync" / "sources" / "docs.json").write_text('["a", "list"]')
    code, text = _run(capsys, "sync", "--config", str(config))
    assert code == 0
    assert "Traceback" not in text


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(collaborators={"dana"})
    with fake.running():
        yield fake


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (r"/issues$", {"unexpected": "shape"}),
        (r"/issues$", [{"no": "number"}]),
        (r"/user$", ["not", "a", "user"]),
    ],
)
def test_an_odd_github_answer_is_one_problem_and_files_nothing_twice(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    github: FakeGitHub,
    path: str,
    body: object,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "0" * 36)
    config = _config(
        tmp_path,
        f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{github.url}"\n'
        'write_interval_seconds = 0\nmax_writes_per_minute = 0\n[routing]\ndefault = "gh"\n',
    )
    github.faults.append(Fault("GET", path, kind="status", status=200, body=body))  # type: ignore[arg-type]
    code, text = _run(capsys, "sync", "--config", str(config))
    assert code in (1, 3)
    assert "Traceback" not in text
    assert [line for line in text.splitlines() if line.startswith("problem: tracker gh")]
    assert github.writes() == 0  # nothing is created without knowing what exists
    assert _run(capsys, "sync", "--config", str(config))[0] == 0
    assert _run(capsys, "sync", "--config", str(config))[0] == 0
    assert len(github.issues) == 2


def test_an_odd_jira_search_answer_is_one_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeJira(deployment="cloud")
    with fake.running():
        config = _config(
            tmp_path,
            f'[trackers.jira]\nkind = "jira"\nurl = "{fake.url}"\ndeployment = "cloud"\n'
            'project = "OPS"\nemail = "pmsync@acme.test"\napi_token = "t"\n'
            'retry_backoff_seconds = 0.01\n[routing]\ndefault = "jira"\n',
        )
        fake.faults.append(
            Fault("GET", r"/search/jql$", kind="status", status=200, body=["a", "list"])  # type: ignore[arg-type]
        )
        code, text = _run(capsys, "sync", "--config", str(config))
        assert code == 3
        assert "Traceback" not in text
        (line,) = [line for line in text.splitlines() if line.startswith("problem: tracker jira")]
        assert "search/jql" in line
        assert fake.writes() == 0
        assert _run(capsys, "sync", "--config", str(config))[0] == 0
        assert len(fake.issues) == 2
        json.dumps(fake.issues)  # the store is intact


@contextmanager
def _closed_port() -> Iterator[int]:
    """A port nothing answers on: bound by this test, never listening, so that connections
    are refused and no other process can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@pytest.mark.parametrize("command", [["sync"], ["config", "check", "--online"]])
def test_a_wrong_address_repository_or_project_is_a_config_error_naming_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    github: FakeGitHub,
    command: list[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "0" * 36)
    jira = FakeJira(deployment="cloud")
    with jira.running(), _closed_port() as port:
        cases = [
            (
                f'kind = "github"\nrepo = "acme/incidents"\nbase_url = "http://127.0.0.1:{port}"',
                f"trackers.t.base_url: no answer from 127.0.0.1:{port}",
            ),
            (
                f'kind = "github"\nrepo = "acme/incidents"\nbase_url = "{github.url}/nothing"',
                "trackers.t.base_url: ",
            ),
            (
                f'kind = "github"\nrepo = "acme/nowhere"\nbase_url = "{github.url}"',
                "trackers.t.repo: 'acme/nowhere' not found at 127.0.0.1:",
            ),
            (
                f'kind = "jira"\nurl = "{jira.url}"\nproject = "NOPE"\nemail = "a@b.test"\n'
                'api_token = "t"',
                "trackers.t.project: project 'NOPE' not found at 127.0.0.1:",
            ),
        ]
        for index, (tracker, message) in enumerate(cases):
            folder = tmp_path / str(index)
            folder.mkdir()
            config = _config(
                folder,
                f"[trackers.t]\n{tracker}\nretry_backoff_seconds = 0.01\n"
                '[routing]\ndefault = "t"\n',
            )
            with openapi_check.refused_on_purpose() as refused:
                code, text = _run(capsys, *command, "--config", str(config))
            assert all(" /nothing/" in r for r in refused), refused  # that is no GitHub path
            assert code == 2, (tracker, text)
            assert message in text, text
            assert "Traceback" not in text
    assert github.writes() == 0


def test_config_check_finds_a_missing_token_as_sync_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    config = _config(
        tmp_path,
        '[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\n[routing]\ndefault = "gh"\n',
    )
    results = [
        _run(capsys, *command, "--config", str(config))
        for command in (["config", "check"], ["sync"])
    ]
    assert [code for code, _ in results] == [2, 2]
    for _, text in results:
        assert "trackers.gh.token: no token" in text
