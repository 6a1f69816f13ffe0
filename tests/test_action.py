"""The GitHub Action (action.yml): its steps' commands, run here as the runner would run them,
on a repository of real post-mortems (the corpus). No network: the steps that fetch actions
or install pmsync are the runner's, and pmsync is already installed here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
SARIF_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text())
STEPS = {step.get("name", step.get("uses")): step for step in ACTION["runs"]["steps"]}
EXPRESSION = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


def _run_step(name: str, workspace: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    """The step's script under bash, with its environment as the runner would fill it."""
    step = STEPS[name]
    given = {key: str(spec.get("default", "")) for key, spec in ACTION["inputs"].items()}
    given |= {key.replace("_", "-"): value for key, value in inputs.items()}
    env = {
        key: EXPRESSION.sub(lambda m: given[m[1]], str(value))
        for key, value in step.get("env", {}).items()
    }
    summary = workspace / "summary.md"
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=workspace, env=env, capture_output=True, text=True
    )


def test_scripts_take_inputs_from_the_environment_only() -> None:
    """No `${{ inputs.* }}` inside a script: an input can never be run as shell code."""
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", "")
        for value in step.get("env", {}).values():
            for name in EXPRESSION.findall(str(value)):
                assert name in ACTION["inputs"]


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "tests" / "corpus" / "docs", tmp_path / "postmortems")
    return tmp_path


def test_lint_annotates_writes_sarif_and_a_job_summary(repository: Path) -> None:
    done = _run_step("Lint", repository, paths="postmortems")
    assert done.returncode == 1, done.stderr  # the corpus has error findings
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) > 100
    assert all(re.match(r"^::(error|warning|notice) file=postmortems/", a) for a in annotations)
    log: dict[str, Any] = json.loads((repository / "pmsync.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (run,) = log["runs"]
    assert len(run["results"]) == len(annotations)
    assert all(rule["helpUri"] for rule in run["tool"]["driver"]["rules"])
    summary = (repository / "summary.md").read_text()
    assert summary.startswith("## pmsync lint")
    assert f"{len(annotations)} findings in" in summary


def test_lint_passes_when_no_finding_reaches_fail_on(repository: Path) -> None:
    done = _run_step("Lint", repository, paths="postmortems", fail_on="info")
    assert done.returncode == 1
    (repository / "pmsync.sarif").unlink()
    clean = repository / "clean"
    clean.mkdir()
    (clean / "pm.md").write_text(
        "---\ndate: 2026-03-04\n---\n# Outage\n\n## Root cause\n\nA full disk.\n\n"
        "## What went well\n\nPaging.\n\n## Action items\n\n"
        "- [ ] Alert when the disk is 80% full (owner: @dana, due: 2026-04-01)\n"
    )
    done = _run_step("Lint", repository, paths="clean", fail_on="error")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repository / "pmsync.sarif").is_file()


def test_sync_files_with_the_config_and_refuses_without(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copy(ROOT / "config.example.toml", tmp_path / "pmsync.toml")
    done = _run_step("Sync", tmp_path, config="pmsync.toml", token="")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "created 10" in done.stdout
    done = _run_step("Sync", tmp_path, config="")
    assert done.returncode == 2
    assert done.stdout.startswith("::error title=pmsync::sync needs a configuration file")
