"""`pmsync lint` output formats: SARIF that validates against the 2.1.0 schema, workflow
commands GitHub Actions accepts, JSON, statistics, and the rule catalogue with its docs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest
import yaml

from syncer.cli import main
from syncer.commands.rules import rules_markdown

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text())
CORPUS = ROOT / "tests" / "corpus" / "docs"


def _lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sarif_validates_against_the_2_1_0_schema(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = _lint(capsys, str(CORPUS), str(ROOT / "examples"), "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(
        SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == 23
    assert len(run["results"]) > 100
    driver = run["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    assert driver["semanticVersion"] == driver["version"]
    for rule in rules:
        assert rule["helpUri"].endswith(f"/docs/rules.md#{rule['id'].lower()}")
    root = run["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert root == ROOT.as_uri() + "/"  # the folder the command ran in (the checkout)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] >= 1
        artifact = location["artifactLocation"]
        assert " " not in artifact["uri"]
        # Absolute paths on the command line, made relative to the checkout.
        assert artifact["uriBaseId"] == "SRCROOT"
        assert not artifact["uri"].startswith(("/", "file:"))
        assert (ROOT / unquote(artifact["uri"])).is_file()


def test_sarif_locations_point_at_the_finding(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    path = "examples/2026-07-02-deploy-freeze.md"
    _, out, _ = _lint(capsys, str(ROOT / path), "--select", "PM101", "--format", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    assert [
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in results
    ] == [("PM101", "error", 20), ("PM101", "error", 22)]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == path


# GitHub's workflow command syntax: ::command key=value,key=value::message, where values
# escape % \r \n : , and the message escapes % \r \n.
WORKFLOW_COMMAND = re.compile(
    r"^::(error|warning|notice) file=(?P<file>[^,:\r\n]+),line=(?P<line>[1-9]\d*),"
    r"title=(?P<title>[^,:\r\n]+)::(?P<message>[^\r\n]+)$"
)


def test_github_annotations_follow_the_workflow_command_syntax(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = _lint(capsys, str(CORPUS), "--format", "github")
    lines = out.splitlines()
    assert len(lines) > 100
    for line in lines:
        assert WORKFLOW_COMMAND.match(line), line
    levels = {line.split(" ", 1)[0] for line in lines}
    assert levels == {"::error", "::warning", "::notice"}


def test_github_annotations_escape_what_would_break_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "a, b: c%.md"
    doc.write_text("---\ndate: 2026-03-04\n---\n## Action items\n\n- Fix 100% of it, now: ok\n")
    _, out, _ = _lint(capsys, str(doc), "--select", "PM101", "--format", "github")
    (line,) = out.splitlines()
    match = WORKFLOW_COMMAND.match(line)
    assert match is not None
    assert match["file"].endswith("a%2C b%3A c%25.md")
    assert match["message"] == 'no owner: "Fix 100%25 of it, now: ok"'


def test_json_output_and_statistics(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _lint(capsys, str(CORPUS), "--format", "json", "--statistics")
    payload = json.loads(out)
    stats = payload["statistics"]
    assert (stats["documents"], stats["templates"], stats["items"]) == (58, 7, 308)
    assert stats["codes"]["PM101"]["items"] == sum(
        1 for f in payload["findings"] if f["code"] == "PM101"
    )
    assert set(payload["findings"][0]) == {"code", "severity", "message", "path", "line", "item"}


def test_text_statistics_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, err = _lint(capsys, str(CORPUS), "--statistics", "--select", "PM101")
    assert out.rstrip().endswith("documents")
    assert err.startswith("308 action items in 58 documents (7 templates left out)")
    assert re.search(r"PM101 no-owner\s+\d+ items\s+\d+\.\d%", err)


def test_rules_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 29
    assert lines[0].startswith("PM101  no-owner")
    assert main(["rules", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rules"]) == 29


def test_docs_rules_md_is_generated_from_the_catalogue() -> None:
    written = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert written == rules_markdown(), "run: pmsync rules --format markdown > docs/rules.md"


HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def test_the_pre_commit_hooks_run_lint_and_the_offline_plan() -> None:
    assert HOOKS["pmsync-lint"]["entry"] == "pmsync lint"
    assert HOOKS["pmsync-sync-check"]["entry"] == "pmsync plan --offline"
    assert {hook["language"] for hook in HOOKS.values()} == {"python"}


def test_pre_commit_hands_every_kind_of_post_mortem_to_the_hooks(tmp_path: Path) -> None:
    """A real `pre-commit run --all-files` in a post-mortem repository, with the hooks as the
    manifest declares them (run from this environment: no network)."""
    doc = "# Outage\n\n## Action items\n\n- [ ] Add an alert on queue depth (owner: @dana)\n"
    names = ["a.md", "b.mdx", "c.html.md.erb", "d.markdown", "e.html"]
    for name in names:
        html = "<h1>Outage</h1><h2>Action items</h2><ul><li>Add an alert on queue depth</li></ul>"
        (tmp_path / name).write_text(html if name.endswith(".html") else doc)
    (tmp_path / "app.rb.erb").write_text("<%= 1 %>\n")  # a template, not a post-mortem
    (tmp_path / "notes.txt").write_text("not a post-mortem\n")
    pmsync = Path(sys.executable).parent / "pmsync"
    hooks = [
        {**hook, "language": "system", "entry": hook["entry"].replace("pmsync", str(pmsync), 1)}
        for hook in HOOKS.values()
    ]
    (tmp_path / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]})
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / ".cache"), "HOME": str(tmp_path)}
    for command in (["init", "-q"], ["add", "."]):
        subprocess.run(["git", *command], cwd=tmp_path, check=True, env=env)
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--verbose"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    found = (re.match(r"(.+?):\d+: \w+ PM\d{3} ", line) for line in done.stdout.splitlines())
    linted = {match.group(1) for match in found if match}
    assert linted == {"a.md", "b.mdx", "c.html.md.erb", "d.markdown", "e.html"}, done.stdout
    assert "offline (no tracker read), a merge would have: created 5" in done.stdout


def test_a_document_that_cannot_be_read_is_a_finding_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad YAML, text that is not UTF-8: a PM400 finding with its file and line, in text,
    JSON, SARIF (valid) and GitHub annotations, and in the job summary; not stderr alone."""
    monkeypatch.chdir(tmp_path)
    Path("docs").mkdir()
    Path("docs/yaml.md").write_text("---\ntitle: Outage: DNS\n---\n# Outage\n")
    Path("docs/latin1.md").write_bytes(b"# Title\n\n## Action items\n- Caf\xe9 menu\n")
    code, out, err = _lint(capsys, "docs", "--summary-out", "summary.md")
    assert code == 1
    assert err == ""
    assert "docs/yaml.md:2: error PM400 front matter is not valid YAML: mapping values" in out
    assert "docs/latin1.md:4: error PM400 not UTF-8 text" in out
    assert out.endswith("2 findings in 2 documents\n")
    assert "PM400" in Path("summary.md").read_text()
    code, out, _ = _lint(capsys, "docs", "--format", "json")
    found = {(f["path"], f["line"], f["code"]) for f in json.loads(out)["findings"]}
    assert found == {("docs/yaml.md", 2, "PM400"), ("docs/latin1.md", 4, "PM400")}
    code, out, _ = _lint(capsys, "docs", "--format", "sarif")
    log = json.loads(out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    results = log["runs"][0]["results"]
    assert sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results
    ) == [
        "docs/latin1.md",
        "docs/yaml.md",
    ]
    assert {r["ruleId"] for r in results} == {"PM400"}
    code, out, _ = _lint(capsys, "docs", "--format", "github")
    assert "::error file=docs/latin1.md,line=4,title=PM400 document-unreadable::not UTF-8" in out


def test_lint_with_no_path_reads_the_configured_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _lint(capsys)
    assert code == 2
    assert "name a file or folder to read: there is no config file" in err
    Path("config.toml").write_text('[sources.docs]\nkind = "markdown-dir"\npath = "pm"\n')
    Path("pm").mkdir()
    Path("pm/a.md").write_text("# Outage\n\n## Action items\n\n- Fix the thing\n")
    code, out, _ = _lint(capsys, "--format", "json")
    assert code == 1
    assert {f["path"] for f in json.loads(out)["findings"]} == {str(Path("pm/a.md").resolve())}
