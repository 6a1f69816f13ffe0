"""Six weeks of follow-up on the fake GitHub and Jira servers, their clocks moved day by day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from syncer.check import check
from syncer.pipeline import sync
from syncer.settings import Settings, load_settings
from tests import openapi_check
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.test_followup import DOC, T0


@dataclass
class World:
    settings: Settings
    set_clock: Callable[[datetime], None]
    comment_as: Callable[[str, str], None]  # (issue, body) as a person
    close_as: Callable[[str], None]
    comments: Callable[[str], list[str]]
    issues: Callable[[], dict[str, dict[str, object]]]
    keys: tuple[str, str, str]
    manager: str
    linked: Callable[[str], bool]  # whether an item's issue points at its review
    api_problems: Callable[[], list[str]] = list  # requests the published API would refuse


def _config(tmp_path: Path, tracker: str, people: str) -> Settings:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC)
    (tmp_path / "people.toml").write_text(people)
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        f'{tracker}\n[routing]\ndefault = "t"\n'
        "[followup]\nstale_after_days = 7\nnudge_every_days = 7\nescalate_after = 2\n"
    )
    return load_settings(tmp_path / "config.toml")


def _people(field: str, handles: tuple[str, str, str, str]) -> str:
    names = ("Dana Kim", "Sam Rivera", "Priya N", "Lee Park")
    return "".join(
        f'[[people]]\nname = "{name}"\n{field} = "{handle}"\n'
        + ('manager = "Lee Park"\n' if name != "Lee Park" else "")
        + "\n"
        for name, handle in zip(names, handles, strict=True)
    )


@pytest.fixture(params=["github", "jira", "gitlab"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    if request.param == "gitlab":
        yield from _gitlab_world(tmp_path, monkeypatch)
        return
    if request.param == "github":
        fake = FakeGitHub(collaborators={"dana", "sam", "priya", "lee"})
        with fake.running():
            monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
            settings = _config(
                tmp_path,
                f'[trackers.t]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
                "write_interval_seconds = 0",
                _people("github", ("dana", "sam", "priya", "lee")),
            )

            def close_github(key: str) -> None:
                issue = fake.issues[int(key.lstrip("#"))]
                issue.update(state="closed", state_reason="completed", updated_at=fake.stamp())

            def set_github_clock(moment: datetime) -> None:
                fake.clock = lambda: moment

            yield World(
                settings,
                set_github_clock,
                lambda key, body: fake.comment_as(int(key.lstrip("#")), "sam", body),
                close_github,
                lambda key: [c["body"] for c in fake.comments[int(key.lstrip("#"))]],
                lambda: {f"#{n}": i for n, i in fake.issues.items()},
                ("#1", "#2", "#3"),
                "@lee",
                lambda key: any(
                    c["body"].startswith("Follow-up review of this item: #4")
                    for c in fake.comments[int(key.lstrip("#"))]
                ),
            )
        return
    jira = FakeJira(deployment="cloud")
    with jira.running():
        settings = _config(
            tmp_path,
            f'[trackers.t]\nkind = "jira"\nurl = "{jira.url}"\ndeployment = "cloud"\nproject = "OPS"\n'
            'email = "bot@acme.test"\napi_token = "t"\nretry_backoff_seconds = 0.01',
            _people("jira", ("acc-dana", "acc-sam", "acc-lee1", "acc-lee2")),
        )

        def comment_jira(key: str, body: str) -> None:
            jira.issues[key]["fields"]["comment"]["comments"].append(
                {"body": body, "author": {"accountId": "acc-sam"}, "created": jira.stamp()}
            )
            jira.issues[key]["fields"]["updated"] = jira.stamp()

        def close_jira(key: str) -> None:
            fields = jira.issues[key]["fields"]
            fields["status"] = {"name": "Done", "statusCategory": {"key": "done"}}
            fields["updated"] = jira.stamp()

        def set_jira_clock(moment: datetime) -> None:
            jira.clock = lambda: moment

        from connectors.trackers.jira_format import adf_text

        yield World(
            settings,
            set_jira_clock,
            comment_jira,
            close_jira,
            lambda key: [
                adf_text(c["body"]) for c in jira.issues[key]["fields"]["comment"]["comments"]
            ],
            lambda: dict(jira.issues),
            ("OPS-1", "OPS-2", "OPS-3"),
            "acc-lee2",
            lambda key: ("Relates", key, "OPS-4") in jira.links,
            lambda: [
                p
                for m, path, q, body in jira.requests
                for p in openapi_check.JIRA.problems(m, path, q, body)
            ],
        )


def _gitlab_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    lab = FakeGitLab()
    with lab.running():
        monkeypatch.setenv("GITLAB_TOKEN", "glpat-" + "t" * 20)
        settings = _config(
            tmp_path,
            f'[trackers.t]\nkind = "gitlab"\nurl = "{lab.url}"\nproject = "acme/incidents"\n'
            "write_interval_seconds = 0",
            _people("gitlab", ("dana", "sam", "priya", "lee")),
        )

        def set_clock(moment: datetime) -> None:
            lab.clock = lambda: moment

        yield World(
            settings,
            set_clock,
            lambda key, body: lab.note_as(int(key.lstrip("#")), "sam", body),
            lambda key: lab.close_as(int(key.lstrip("#")), "sam"),
            lambda key: [n["body"] for n in lab.notes[int(key.lstrip("#"))] if not n["system"]],
            lambda: {f"#{n}": i for n, i in lab.issues.items()},
            ("#1", "#2", "#3"),
            "@lee",
            lambda key: any(
                n["body"].startswith("Follow-up review of this item: #4")
                for n in lab.notes[int(key.lstrip("#"))]
            ),
        )


def test_six_weeks_of_follow_up_on_a_real_tracker_api(world: World) -> None:
    world.set_clock(T0)
    sync(world.settings, dry_run=False)
    first, second, third = world.keys
    nudges: dict[str, list[int]] = {first: [], second: [], third: []}
    cleared: dict[str, list[int]] = {first: [], second: [], third: []}
    opened: list[int] = []
    for day in range(1, 43):
        now = T0 + timedelta(days=day)
        world.set_clock(now)
        if day % 7 == 5:
            world.comment_as(second, "Making progress.")
        if day == 20:
            world.close_as(third)
        run = check(world.settings, now=now, dry_run=False)
        for outcome in run.outcomes:
            assert outcome.ok, outcome.error
            ref = outcome.ref or outcome.action.ref
            assert ref is not None
            if outcome.action.op == "nudge":
                nudges[ref.key].append(day)
            elif outcome.action.op == "unlabel":
                cleared[ref.key].append(day)
            elif outcome.action.op == "review-open":
                opened.append(day)
        world.set_clock(now + timedelta(hours=1))
        assert check(world.settings, now=now + timedelta(hours=1), dry_run=False).outcomes == []

    assert nudges == {first: [7, 14, 21, 28, 35, 42], second: [42], third: [7, 14]}
    assert cleared[third] == [20]
    assert opened == [28]
    escalation = next(c for c in world.comments(first) if "reminder 3" in c)
    assert world.manager in escalation
    assert world.linked(first)
    assert world.api_problems() == []


def test_an_outage_mid_check_is_reported_and_the_next_run_completes_without_doubles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from syncer.cli import main
    from tests.fakes.github import Fault

    fake = FakeGitHub(collaborators={"dana", "sam", "priya", "lee"})
    with fake.running():
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        settings = _config(
            tmp_path,
            f'[trackers.t]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
            "write_interval_seconds = 0\nretry_backoff_seconds = 0.01",
            _people("github", ("dana", "sam", "priya", "lee")),
        )
        fake.clock = lambda: T0
        sync(settings, dry_run=False)
        day8 = T0 + timedelta(days=8)
        fake.clock = lambda: day8
        fake.faults.append(Fault("GET", r"/issues/2/comments$", status=502, times=20))
        code = main(
            ["--config", settings.origin, "check", "--now", day8.isoformat(), "--format", "json"]
        )
        import json

        first = json.loads(capsys.readouterr().out)
        assert code == 1
        assert first["not_checked"] == ["#2"]
        assert (first["flagged"], first["nudged"]) == (2, 2)
        fake.faults.clear()
        code = main(
            ["--config", settings.origin, "check", "--now", day8.isoformat(), "--format", "json"]
        )
        second = json.loads(capsys.readouterr().out)
        assert code == 0
        assert [(a["ref"], a["op"]) for a in second["actions"]] == [
            ("#2", "label"),
            ("#2", "nudge"),
        ]
        assert [len(fake.comments[n]) for n in (1, 2, 3)] == [1, 1, 1]


def test_the_report_measures_first_assignment_and_items_closed_with_no_linked_change(
    world: World,
) -> None:
    """Two items closed, one with a comment linking the pull request that did it; `check`
    reads their history once and keeps it; the report then counts one closed with no linked
    change, and the first assignments when the issues were filed (0 days)."""
    from syncer.report import collect, figures

    world.set_clock(T0)
    sync(world.settings, dry_run=False, now=T0)
    world.set_clock(T0 + timedelta(days=3))
    world.comment_as(world.keys[1], "Fixed by https://github.com/acme/app/pull/42 today")
    world.close_as(world.keys[1])
    world.close_as(world.keys[0])
    later = T0 + timedelta(days=4)
    world.set_clock(later)
    check(world.settings, now=later, dry_run=False)
    numbers = figures(collect(world.settings, now=later))
    (bare,) = [r for r in numbers["unverified"] if r["group"] == "all"]
    assert (bare["closed"], bare["unverified"], bare["unknown"]) == (2, 1, 0)
    # Recounted from the tracker's own issues: those with someone assigned.
    assigned = [
        i
        for i in world.issues().values()
        if i.get("assignees") or (i.get("fields") or {}).get("assignee")  # type: ignore[union-attr]
    ]
    (first,) = [r for r in numbers["time_to_assignment"] if r["group"] == "all"]
    assert first["assigned"] == len(assigned) > 0
    assert first["median_days"] == first["p90_days"] == 0.0
    assert world.api_problems() == []
