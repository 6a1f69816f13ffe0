"""What a newcomer sees in the first hour: the demo's issues, output a person can act on, and a
log that does not repeat it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commandline import run_cli as _run

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_issues_can_be_listed(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "--config", str(demo), "sync")[0] == 0
    code, out, err = _run(capsys, "--config", str(demo), "issues")
    assert code == 0
    assert err == ""  # the result once, on stdout; no log lines besides
    lines = out.splitlines()
    assert lines[0].split() == ["REF", "STATE", "ASSIGNEE", "DUE", "LABELS", "TITLE"]
    assert lines[-1] == "10 open issues in tracker local"
    assert any("Dana Kim" in line and "2026-04-15" in line for line in lines)
    code, out, _ = _run(capsys, "--config", str(demo), "issues", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["tracker"] == "local"
    assert len(data["issues"]) == 10
    assert {"ref", "title", "assignees", "due", "state", "labels"} <= set(data["issues"][0])


def test_without_a_config_issues_shows_the_default_local_tracker(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(capsys, "--config", str(demo), "sync")
    monkeypatch.chdir(demo.parent)
    monkeypatch.delenv("PMSYNC_CONFIG", raising=False)
    demo.rename(demo.parent / "example.toml")  # no ./config.toml: the built-in defaults
    code, out, _ = _run(capsys, "issues")
    assert code == 0
    assert out.splitlines()[-1] == "10 open issues in tracker local"


def test_the_demo_files_every_item_with_an_owner_and_a_due_date(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of the box: each of the ten items has an owner and a due date, none due before the
    day it is filed, and each filled value says why."""
    monkeypatch.setenv("PMSYNC_NOW", "2026-12-07T09:30:00+00:00")
    code, out, _ = _run(capsys, "--config", str(demo), "sync", "--format", "json")
    assert code == 0
    filed = [a for a in json.loads(out)["actions"] if a["op"] == "create"]
    assert len(filed) == 10
    for action in filed:
        assert action["owner"], action["title"]
        assert action["due"], action["title"]
    by_policy = [a for a in filed if a["due_why"]]
    assert by_policy
    assert all(a["due"] >= "2026-12-14" for a in by_policy)  # a week after filing, at least
    defaulted = [a for a in filed if (a["owner_why"] or "").startswith("the default owner")]
    assert len(defaulted) == 3  # the weak example's items: no owner, or a team nobody triages


def test_check_names_items_and_post_mortems_and_lists_the_unowned(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "--config", str(demo), "sync")
    code, out, err = _run(
        capsys, "--config", str(demo), "check", "--dry-run", "--now", "2026-07-01T10:00"
    )
    assert code == 0  # a dry run: nothing failed
    assert err == ""
    header = out.splitlines()[0].split()
    assert header == ["OP", "TRACKER", "REF", "ITEM", "POST-MORTEM", "REASON"]
    assert "Checkout latency during the spring sale" in out
    unowned = [line for line in out.splitlines() if "PM504" in line or "unowned:" in line]
    assert unowned == []  # the shipped policy found everyone an owner


def test_run_once_prints_what_each_job_did(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--config", str(demo), "run", "--once")
    assert code == 0
    (line,) = out.splitlines()
    assert line.startswith("sync: created 10; check: ")
    assert "; digest: " in line


def test_messages_count_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "one.md").write_text("# One\n\n## Action items\n\n- Improve monitoring\n")
    _, out, _ = _run(capsys, "lint", str(tmp_path / "one.md"))
    assert out.splitlines()[-1].endswith("in 1 document")
    _, out, _ = _run(capsys, "extract", str(tmp_path / "one.md"))
    assert "— 1 item" in out


def test_argument_mistakes_are_not_config_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "lint", str(tmp_path / "missing.md"))
    assert code == 2
    assert err == f"pmsync: error: no such file or folder: {tmp_path / 'missing.md'}\n"
    code, _, err = _run(capsys, "lint", "--select", "PM9", str(tmp_path))
    assert code == 2
    assert err.startswith("pmsync: error: --select/--ignore: ")
    assert "config error" not in err


def test_a_document_error_names_the_path_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "latin1.md").write_bytes(b"# Title\n\n## Action items\n- Caf\xe9 menu\n")
    code, out, err = _run(capsys, "lint", str(tmp_path / "latin1.md"))
    assert code == 1
    assert (
        out == f"{tmp_path / 'latin1.md'}:4: error PM400 not UTF-8 text\n1 finding in 1 document\n"
    )
    assert err == ""
    code, out, err = _run(capsys, "lint", "--ignore", "PM400", str(tmp_path / "latin1.md"))
    assert code == 1  # ignored as a finding, it is still a problem on stderr
    assert err == f"{tmp_path / 'latin1.md'}:4: error: not UTF-8 text\n"


def test_a_date_that_does_not_exist_is_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "feb.md").write_text(
        "---\ndate: 2026-02-01\n---\n# Feb\n\n## Action items\n\n"
        "- Add the alert (Owner: Dana, Due: 2026-02-30)\n"
    )
    _, out, _ = _run(capsys, "lint", str(tmp_path / "feb.md"))
    assert "PM202 due date 2026-02-30 does not exist" in out


def test_the_rules_list_the_follow_up_codes_too(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "rules")
    assert [line.split()[0] for line in out.splitlines() if line.startswith("PM5")] == [
        f"PM50{n}" for n in range(1, 7)
    ]
    assert "## PM504" in (ROOT / "docs" / "rules.md").read_text()


def test_a_reader_that_goes_away_ends_the_output_quietly() -> None:
    corpus = ROOT / "tests" / "corpus" / "docs"
    command = f'"{sys.executable}" -m syncer extract "{corpus}" --format json | head -1'
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    assert done.stdout == "{\n"
    assert done.stderr == ""
