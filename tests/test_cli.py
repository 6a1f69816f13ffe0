"""End to end through the command line, on copies of the shipped examples and config."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commandline import run_cli as _run

REPO = Path(__file__).resolve().parent.parent


def _sync(capsys: pytest.CaptureFixture[str], config: Path) -> dict[str, object]:
    code, out, err = _run(capsys, "--config", str(config), "sync", "--format", "json")
    assert code == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def _counts(result: dict[str, object]) -> tuple[object, ...]:
    return tuple(result[k] for k in ("created", "updated", "unchanged", "closed", "failed"))


def test_the_demo_files_items_once_and_then_finds_them_unchanged(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _sync(capsys, demo)
    assert _counts(first) == (10, 0, 0, 0, 0)
    second = _sync(capsys, demo)
    assert _counts(second) == (0, 0, 10, 0, 0)
    created = {a["item"]: a["ref"] for a in first["actions"] if a["op"] == "create"}  # type: ignore[attr-defined]
    unchanged = {a["item"]: a["ref"] for a in second["actions"] if a["op"] == "unchanged"}  # type: ignore[attr-defined]
    assert created == unchanged


def test_editing_one_due_date_updates_exactly_that_issue(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sync(capsys, demo)
    doc = demo.parent / "examples" / "2026-03-04-checkout-latency.md"
    doc.write_text(doc.read_text().replace("| @sam | 2026-03-31 |", "| @sam | 2026-04-07 |"))
    result = _sync(capsys, demo)
    assert _counts(result) == (0, 1, 9, 0, 0)
    (update,) = [a for a in result["actions"] if a["op"] == "update"]  # type: ignore[attr-defined]
    assert update["reason"] == "description changed; due 2026-03-31 → 2026-04-07"
    assert update["title"].startswith("Alert when the database connection pool")


def test_deleting_the_store_recreates_each_issue_once(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sync(capsys, demo)
    (demo.parent / ".pmsync" / "local-tracker.sqlite3").unlink()
    assert _counts(_sync(capsys, demo)) == (10, 0, 0, 0, 0)
    assert _counts(_sync(capsys, demo)) == (0, 0, 10, 0, 0)


def test_a_dry_run_writes_nothing(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--config", str(demo), "sync", "--dry-run")
    assert code == 0
    assert out.rstrip().endswith(
        "dry run, would have: created 10, updated 0, unchanged 0, closed 0, failed 0"
    )
    code, out, _ = _run(capsys, "--config", str(demo), "plan", "--format", "json")
    assert json.loads(out)["created"] == 10
    assert not (demo.parent / ".pmsync" / "local-tracker.sqlite3").exists()


def test_removing_an_item_closes_its_issue(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sync(capsys, demo)
    doc = demo.parent / "examples" / "2026-07-02-deploy-freeze.md"
    doc.write_text(doc.read_text().replace("- Improve monitoring\n", ""))
    code, out, _ = _run(capsys, "--config", str(demo), "sync")
    assert code == 0
    assert "no longer in the post-mortem" in out
    assert out.rstrip().endswith("created 0, updated 0, unchanged 9, closed 1, failed 0")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.md", b"\xff\xfe not utf-8 \xc3\x28"),
        ("yaml.md", b"---\ntitle: [oops\n---\n# x\n"),
    ],
)
def test_an_unreadable_document_is_reported_and_the_others_sync(
    demo: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes
) -> None:
    (demo.parent / "examples" / name).write_bytes(content)
    code, out, err = _run(capsys, "--config", str(demo), "sync")
    assert code == 1
    assert f"examples/{name}" in out
    assert "created 10, updated 0, unchanged 0, closed 0, failed 0" in out
    assert '"event": "document_failed"' not in err  # said once, in the output
    code, out, err = _run(capsys, "--config", str(demo), "--log-level", "info", "sync")
    assert '"event": "document_failed"' in err


def test_config_errors_exit_2_naming_every_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[trackers.local]\nkind = "local"\npaht = "x"\n'
        '[trackers.gh]\nkind = "github"\n'
        '[schedule]\nsync_every_minutes = "often"\n'
    )
    code, out, err = _run(capsys, "--config", str(config), "sync")
    assert code == 2
    assert out == ""
    for key in ("trackers.local.paht", "trackers.gh.repo", "schedule.sync_every_minutes"):
        assert f"{config}: {key}:" in err


def test_config_check_prints_settings_with_secrets_masked(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_text(project.read_text() + '\n[trackers.gh]\nkind = "github"\nrepo = "acme/x"\n')
    monkeypatch.setenv("PMSYNC_TRACKERS__GH__TOKEN", "ghp_do-not-show-this-0000000000000000")
    code, out, err = _run(capsys, "config", "check", "--config", str(project))
    assert code == 0
    assert "[trackers.gh]" in out
    assert 'token = "********"' in out
    assert "do-not-show" not in out + err


def test_extract_json_has_the_public_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "extract",
        str(REPO / "examples" / "2026-05-19-dns-resolution.md"),
        "--format",
        "json",
    )
    assert code == 0
    (document,) = json.loads(out)["documents"]
    assert set(document) == {
        "path",
        "id",
        "title",
        "source",
        "link",
        "updated_at",
        "author",
        "template",
        "items",
    }
    assert document["id"] == "PM-2026-021"
    assert document["updated_at"]  # the last commit's time in a checkout, else the file's
    first = document["items"][0]
    assert set(first) == {
        "key",
        "title",
        "owner",
        "due",
        "due_text",
        "tickets",
        "kind",
        "priority",
        "status",
        "placeholder",
        "line",
        "basis",
    }
    assert (first["owner"], first["due"], first["status"]) == ("Lee Park", "2026-06-05", "open")
    assert first["basis"] == "explicit"


def test_lint_reports_path_line_code_and_fails_on_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(REPO / "examples" / "2026-07-02-deploy-freeze.md")
    code, out, _ = _run(capsys, "lint", path)
    assert code == 1
    assert f'{path}:20: error PM101 no owner: "Look into why the deploy failed"' in out
    code, _, _ = _run(capsys, "lint", path, "--select", "PM2")
    assert code == 0
    code, _, _ = _run(capsys, "lint", path, "--select", "PM2", "--fail-on", "warning")
    assert code == 1
    code, _, err = _run(capsys, "lint", path, "--select", "PM9")
    assert code == 2
    assert "'PM9' matches no rule code" in err


def test_a_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "extract", "no/such/file.md")
    assert code == 2
    assert "no such file or folder: no/such/file.md" in err


def test_the_installed_command_runs_from_any_folder(demo: Path) -> None:
    """The console script, as a user runs it: a real process, config from the environment."""
    env = {**os.environ, "PMSYNC_CONFIG": str(demo)}
    pmsync = Path(sys.executable).parent / "pmsync"
    done = subprocess.run(
        [str(pmsync), "sync"], cwd="/", env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("created 10, updated 0, unchanged 0, closed 0, failed 0")
    assert all(json.loads(line)["level"] for line in done.stderr.splitlines())


def test_editing_prose_above_the_items_rewrites_no_issue(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sync(capsys, demo)
    doc = demo.parent / "examples" / "2026-05-19-dns-resolution.md"
    doc.write_text(doc.read_text().replace("## Summary\n", "## Summary\n\nA new paragraph.\n\n"))
    assert _counts(_sync(capsys, demo)) == (0, 0, 10, 0, 0)


def test_extract_reads_every_markdown_flavour_and_html_in_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "---\nid: {id}\n---\n## Action items\n\n- Add a canary for {id}. Owner: Dana\n"
    for name in ("a.md", "b.markdown", "c.mdx", "d.html.md.erb"):
        (tmp_path / name).write_text(body.format(id=name.split(".")[0].upper()))
    (tmp_path / "e.html").write_text("<h2>Action items</h2><ul><li>Add a canary for E</li></ul>")
    (tmp_path / "notes.txt").write_text("## Action items\n\n- not read\n")
    code, out, _ = _run(capsys, "extract", str(tmp_path), "--format", "json")
    assert code == 0
    documents = json.loads(out)["documents"]
    assert [(d["id"], d["items"][0]["title"]) for d in documents] == [
        ("A", "Add a canary for A"),
        ("B", "Add a canary for B"),
        ("C", "Add a canary for C"),
        ("D", "Add a canary for D"),
        ("e.html", "Add a canary for E"),
    ]


def test_config_check_names_a_rule_code_that_matches_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write_text(project.read_text() + '\n[rules]\nignore = ["PM2O1"]\n')
    code, _, err = _run(capsys, "--config", str(project), "config", "check")
    assert code == 2
    assert "ignore: 'PM2O1' matches no rule code" in err


def test_moving_the_checkout_rewrites_no_issue(
    demo: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _sync(capsys, demo)
    moved = tmp_path_factory.mktemp("elsewhere") / "project"
    shutil.copytree(demo.parent, moved)
    assert _counts(_sync(capsys, moved / "config.toml")) == (0, 0, 10, 0, 0)


def test_issues_link_to_the_post_mortem_on_the_web_when_configured(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    demo.write_text(
        demo.read_text().replace(
            "day_first = false",
            'day_first = false\nlink_base_url = "https://git.test/acme/pm/blob/main/"',
        )
    )
    _sync(capsys, demo)
    with sqlite3.connect(demo.parent / ".pmsync" / "local-tracker.sqlite3") as db:
        (body,) = db.execute("SELECT body FROM issues WHERE number = 1").fetchone()
    assert "(https://git.test/acme/pm/blob/main/2026-03-04-checkout-latency.md)" in body


def test_a_folder_reads_extensionless_text_and_issue_forms_and_counts_what_it_skips(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "POSTMORTEM").write_text("## Action items\n- Add alerting on queue depth\n")
    forms = tmp_path / ".github" / "ISSUE_TEMPLATE"
    forms.mkdir(parents=True)
    (forms / "postmortem.yml").write_text(
        "name: Post-mortem\nbody:\n  - type: textarea\n    attributes:\n"
        "      label: Action items\n      placeholder: '- [ ] Add alerting'\n"
    )
    (tmp_path / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "notes.txt").write_bytes(b"\xff\xfe not utf-8")

    code, out, err = _run(capsys, "extract", str(tmp_path), "--format", "json")

    assert code == 0, err
    documents = {d["id"]: d for d in json.loads(out)["documents"]}
    assert [i["title"] for i in documents["POSTMORTEM"]["items"]] == ["Add alerting on queue depth"]
    form = documents[".github/ISSUE_TEMPLATE/postmortem.yml"]
    assert (form["template"], form["items"]) == (True, [])
    assert "2 files skipped, not post-mortems: chart.png, notes.txt" in err


def test_an_offline_plan_needs_no_account_and_reads_no_tracker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pm.md").write_text(
        "---\ndate: 2026-03-04\n---\n# Outage\n\n## Action items\n\n"
        "- [ ] Add an alert on queue depth (owner: Dana Kim)\n"
        "- [ ] Write the failover runbook\n"
    )
    (tmp_path / "config.toml").write_text(
        '[[people]]\nname = "Dana Kim"\ngithub = "dana"\n'
        '[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\n'  # no token anywhere
        'base_url = "http://127.0.0.1:9"\n'  # nothing listens: reading it would fail
        '[routing]\ndefault = "gh"\n[policy.due]\ndefault = "30d"\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("PMSYNC_NOW", "2026-03-10T09:00:00+00:00")
    code, out, err = _run(capsys, "plan", "--offline", "pm.md", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["offline"] is True
    assert payload["dry_run"] is True
    actions = [(a["op"], a["tracker"], a["owner"], a["due"]) for a in payload["actions"]]
    assert actions == [
        ("create", "gh", "Dana Kim", "2026-04-03"),  # 30 days from the incident, by policy
        ("create", "gh", None, "2026-04-03"),
    ]
    assert not (tmp_path / ".pmsync").exists()  # nothing written, not even the state dir


def test_version_and_shell_completion() -> None:
    """`--version`; `completion bash` loads in a real bash and completes commands and options;
    zsh and fish get their own scripts."""
    pmsync = Path(sys.executable).parent / "pmsync"
    done = subprocess.run([str(pmsync), "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert re.fullmatch(r"pmsync \d+\.\d+\.\d+\S*\n", done.stdout)
    env = {**os.environ, "PATH": f"{pmsync.parent}{os.pathsep}{os.environ['PATH']}"}
    script = (
        "source <(pmsync completion bash)\n"
        'complete() { COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=("$@");\n'
        '  COMP_CWORD=$(($# - 1)); _python_argcomplete pmsync "${@: -1}" "${@: -2:1}";\n'
        '  echo "${COMPREPLY[*]}"; }\n'
        "complete pmsync li\ncomplete pmsync c\ncomplete pmsync lint --fo\n"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    lint, c_commands, option = done.stdout.splitlines()
    assert lint.split() == ["lint"]
    assert set(c_commands.split()) == {"check", "config", "completion"}
    assert option.split() == ["--format"]
    for shell, marker in (("zsh", "#compdef pmsync"), ("fish", "complete --command pmsync")):
        done = subprocess.run([str(pmsync), "completion", shell], capture_output=True, text=True)
        assert marker in done.stdout


def test_sync_into_a_pipe_prints_changes_and_the_summary_not_every_unchanged_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """900 unchanged items: a file gets the summary alone; --quiet prints nothing at all
    while nothing changes, and only the change when one does."""
    from bench.common import write_documents

    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    documents = write_documents(tmp_path / "docs", 900)
    (tmp_path / "config.toml").write_text(
        '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[trackers.local]\nkind = "local"\n[routing]\ndefault = "local"\n'
    )
    assert _run(capsys, "sync")[0] == 0
    code, out, _ = _run(capsys, "sync")
    assert code == 0
    assert out.splitlines() == ["created 0, updated 0, unchanged 900, closed 0, failed 0"]
    code, out, _ = _run(capsys, "sync", "--quiet")
    assert (code, out) == (0, "")
    text = documents[0].read_text()
    documents[0].write_text(text.replace("2026-05-01 |", "2026-06-01 |", 1))
    code, out, _ = _run(capsys, "sync", "-q")
    (header, changed) = out.splitlines()
    assert header.split()[:3] == ["OP", "TRACKER", "REF"]
    assert changed.startswith("update")


def test_progress_shows_on_a_terminal_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into a pipe (as here) no bar is drawn; on a terminal a long step draws one."""
    import io

    from syncer import progressbar

    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\n## Action items\n\n- Add an alert on lag\n")
    code, _, err = _run(capsys, "plan", "--offline", "docs")
    assert code == 0
    assert "%|" not in err
    terminal = io.StringIO()
    progressbar.enable(terminal)
    try:
        with progressbar.bar(3, "writing", delay=0) as advance:
            for _ in range(3):
                advance(1)
    finally:
        progressbar.enable(None)
    drawn = terminal.getvalue()
    assert "writing:" in drawn
    assert "/3 [" in drawn


def test_an_empty_source_is_a_warning_and_a_missing_one_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "config.toml").write_text(
        '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[trackers.local]\nkind = "local"\n[routing]\ndefault = "local"\n'
    )
    code, out, _ = _run(capsys, "sync")
    assert code == 0
    assert f"source docs: no documents found in {tmp_path / 'docs'}" in out
    (tmp_path / "docs").rmdir()  # a volume not mounted
    code, out, _ = _run(capsys, "sync")
    assert code == 1
    assert (
        f"problem: source docs: {tmp_path / 'docs'} does not exist (a volume not mounted?)" in out
    )


def test_config_check_says_when_issues_would_link_to_a_path_no_browser_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[sources.docs]\nkind = "markdown-dir"\npath = "."\n')
    code, _, err = _run(capsys, "--config", str(config), "config", "check")
    assert code == 0
    assert "pmsync: warning: sources.docs.link_base_url is not set" in err
    config.write_text(
        '[sources.docs]\nkind = "markdown-dir"\npath = "."\n'
        'link_base_url = "https://github.com/acme/postmortems/blob/main/"\n'
    )
    code, _, err = _run(capsys, "--config", str(config), "config", "check")
    assert (code, err) == (0, "")
