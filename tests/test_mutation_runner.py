"""`make mutation` names mutmut only the selected mutants that have no result yet."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests import mutation

PATTERNS = ["syncer.planner.*", "connectors.trackers.jira.x?JiraTracker?snapshot__*"]


def _mutmut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listing: str) -> Path:
    """A stand-in for mutmut that prints `listing` for `results` and records `run`'s names."""
    script = tmp_path / "mutmut"
    runs = tmp_path / "runs"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = results ]; then cat {tmp_path / "listing"}; '
        f'else shift; echo "$@" >> {runs}; fi\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "listing").write_text(listing)
    (tmp_path / "mutants").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mutation, "MUTMUT", str(script))
    return runs


LISTING = """\
    syncer.planner.x_plan__mutmut_1: killed
    syncer.planner.x_plan__mutmut_2: caught by type check
    syncer.planner.x_plan__mutmut_3: not checked
    syncer.policy.x_rule_context__mutmut_1: not checked
    connectors.trackers.jira.xǁJiraTrackerǁsnapshot__mutmut_7: not checked
    connectors.trackers.jira.xǁJiraTrackerǁ_post__mutmut_1: not checked
"""


def test_only_the_selected_mutants_without_a_result_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _mutmut(tmp_path, monkeypatch, LISTING)
    assert mutation.to_run(PATTERNS, first=True) == [
        "syncer.planner.x_plan__mutmut_3",
        "connectors.trackers.jira.xǁJiraTrackerǁsnapshot__mutmut_7",
    ]
    # A run that leaves the same ones without a result (interrupted) is not repeated.
    assert mutation.main(PATTERNS) == 0
    assert runs.read_text() == (
        "syncer.planner.x_plan__mutmut_3 connectors.trackers.jira.xǁJiraTrackerǁsnapshot__mutmut_7\n"
    )


def test_with_every_result_in_the_first_round_names_one_the_type_checker_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _mutmut(tmp_path, monkeypatch, LISTING.replace("not checked", "survived"))
    assert mutation.to_run(PATTERNS, first=True) == ["syncer.planner.x_plan__mutmut_2"]
    assert mutation.to_run(PATTERNS, first=False) == []
    assert mutation.main(["--max-children", "3", *PATTERNS]) == 0
    # One round: afterwards there is still nothing without a result.
    assert runs.read_text() == "--max-children 3 syncer.planner.x_plan__mutmut_2\n"


def test_before_a_first_run_the_patterns_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert mutation.to_run(PATTERNS, first=True) == PATTERNS
