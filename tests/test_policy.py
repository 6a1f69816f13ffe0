"""Owner and due-date policies: what fills the fields a post-mortem leaves out, what the issue
says about it, and how a person's change in the tracker outranks a policy default."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.extract import extract
from connectors.extract.dates import timeframe_end
from syncer.check import check
from syncer.cli import main
from syncer.errors import ConfigError
from syncer.identity import parse_marker, render_marker
from syncer.model import ActionItem, Document, DocumentRef, Marker, PlannedAction, Postmortem
from syncer.people import Directory, load_directory
from syncer.pipeline import SyncRun, sync
from syncer.policy import Due, Policy
from syncer.settings import PersonSettings, PolicySettings, load_settings
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import FakeJira

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
DOC = """---
id: PM-7
title: Checkout latency
date: 2026-03-04
severity: SEV2
facilitator: Lee Park
---
# Checkout latency

## Action items

| Action | Owner | Due | Priority |
|---|---|---|---|
| Alert when the pool is above 90% for 5 minutes | Dana Kim | 2026-04-01 | P1 |
| Version the settings file and deploy it through the pipeline | Payments team | | P1 |
| Add a canary stage before the full rollout | | before the freeze | |
| Page the on-call when checkout errors exceed 1% | | | |
"""
ALERT, SETTINGS, CANARY, PAGE = (
    "Alert when the pool is above 90% for 5 minutes",
    "Version the settings file and deploy it through the pipeline",
    "Add a canary stage before the full rollout",
    "Page the on-call when checkout errors exceed 1%",
)
POLICY = """
[policy.due]
from = "incident"
by_priority = { P0 = "1w", P1 = "4w", P2 = "8w" }
by_severity = { SEV1 = "4w", SEV2 = "8w" }
default = "12w"

[policy.owner]
fallback = ["team", "postmortem"]
"""


def _postmortem(text: str = DOC, **ref: object) -> Document:
    values: dict[str, object] = {"source": "docs", "id": "pm-7.md", "uri": "docs/pm-7.md"}
    values.update(ref)
    return Document(DocumentRef(**values), "pm-7", text)  # type: ignore[arg-type]


def _titled(pm: Postmortem, title: str) -> ActionItem:
    return next(item for item in pm.items if item.title == title)


def _policy(toml: str = POLICY, people: str = "", tmp_path: Path | None = None) -> Policy:
    assert tmp_path is not None
    config = tmp_path / "policy.toml"
    config.write_text(_PEOPLE_TOML + people + toml)
    settings = load_settings(config)
    return Policy.of(settings, load_directory(settings))


_PEOPLE_TOML = """
[[people]]
name = "Dana Kim"
github = "dana"
jira = "acc-dana"

[[people]]
name = "Sam Rivera"
github = "sam-rivera"
jira = "acc-sam"
team = "payments"
lead = true

[[people]]
name = "Lee Park"
email = "lee@example.com"
github = "priyan"
jira = "acc-lee1"
"""


# --- the policies on their own ---------------------------------------------------------------


def test_the_document_wins_then_team_triage_then_the_postmortem(tmp_path: Path) -> None:
    policy = _policy(tmp_path=tmp_path)
    pm = extract(_postmortem())
    owners = {item.title: policy.owner(item, pm) for item in pm.items}
    assert (owners[ALERT].person.key, owners[ALERT].by_policy) == ("Dana Kim", False)  # type: ignore[union-attr]
    assert owners[ALERT].explain() == ""  # the document named them: nothing to explain
    team = owners[SETTINGS]
    assert team.person is not None
    assert team.person.key == "Sam Rivera"
    assert (team.by_policy, team.team, team.role) == (
        True,
        "payments",
        "the triage person of team payments",
    )
    assert team.reason == "the post-mortem names team payments as the owner"
    canary = owners[CANARY]
    assert canary.person is not None
    assert canary.person.key == "Lee Park"
    assert canary.explain() == "the post-mortem's facilitator, because the item names no owner"


def test_a_team_names_its_triage_person_and_the_chain_says_what_it_tried(tmp_path: Path) -> None:
    teams = '\n[teams.search]\ntriage = "lee@example.com"\n[teams.storage]\n'
    policy = _policy(POLICY + teams, tmp_path=tmp_path)
    text = DOC.replace("facilitator: Lee Park", "team: Search")
    pm = extract(_postmortem(text))
    canary = _titled(pm, CANARY)
    owner = policy.owner(canary, pm)
    assert owner.person is not None
    assert owner.person.key == "Lee Park"
    assert owner.role == "the triage person of team search"
    nobody = extract(_postmortem(text.replace("team: Search", "team: storage")))
    owner = policy.owner(_titled(nobody, CANARY), nobody)
    assert owner.person is None
    assert owner.explain() == (
        "the item names no owner; team storage has no triage person; "
        "the post-mortem names no owner, facilitator or author"
    )
    unknown = extract(_postmortem(text.replace("team: Search", "team: Growth")))
    owner = policy.owner(_titled(unknown, CANARY), unknown)
    assert "its team 'Growth' is not a known team" in owner.explain()
    # An owner a source gives with no role (a page's owner) is the post-mortem's owner.
    owned = dataclasses.replace(unknown, owner="Zed Stranger", owner_role=None)
    owner = policy.owner(_titled(owned, CANARY), owned)
    assert "its owner 'Zed Stranger' is not in the people directory" in owner.explain()


def test_the_last_author_where_the_source_knows_it(tmp_path: Path) -> None:
    policy = _policy(tmp_path=tmp_path)
    pm = extract(_postmortem(DOC.replace("facilitator: Lee Park\n", ""), author="Lee Park"))
    owner = policy.owner(_titled(pm, PAGE), pm)
    assert owner.person is not None
    assert owner.role == "the post-mortem's last author"
    strangers = extract(_postmortem(DOC.replace("Lee Park", "Zed Stranger")))
    owner = policy.owner(_titled(strangers, PAGE), strangers)
    assert owner.person is None
    assert "its facilitator 'Zed Stranger' is not in the people directory" in owner.explain()


def test_due_by_priority_then_severity_then_default_from_the_incident(tmp_path: Path) -> None:
    policy = _policy(tmp_path=tmp_path)
    pm = extract(_postmortem())
    due = {item.title: policy.due(item, pm, NOW.date()) for item in pm.items}
    assert (due[ALERT].day, due[ALERT].by_policy) == (date(2026, 4, 1), False)
    assert due[SETTINGS].day == date(2026, 4, 1)
    assert due[SETTINGS].why == "P1 priority policy, 4 weeks after the incident on 2026-03-04"
    assert due[PAGE].day == date(2026, 4, 29)
    assert due[PAGE].why == "SEV2 severity policy, 8 weeks after the incident on 2026-03-04"
    # Text pmsync could not read as a date is kept beside the policy's date.
    assert due[CANARY].day == date(2026, 4, 29)
    assert due[CANARY].why.endswith("; the post-mortem says 'before the freeze'")
    no_severity = extract(_postmortem(DOC.replace("severity: SEV2\n", "")))
    page = _titled(no_severity, PAGE)
    by_default = policy.due(page, no_severity, NOW.date())
    assert (by_default.day, by_default.why) == (
        date(2026, 5, 27),
        "default policy, 12 weeks after the incident on 2026-03-04",
    )
    # A priority written without its P, as a priority column may hold it.
    bare = extract(_postmortem(DOC.replace("| 2026-04-01 | P1 |", "| | 0 |")))
    alert = _titled(bare, ALERT)
    assert policy.due(alert, bare, NOW.date()).why.startswith("P0 priority policy, 1 week after")


@pytest.mark.parametrize(
    ("severity", "weeks"),
    [("SEV2", 8), ("sev-2", 8), ("Sev 2", 8), ("2", 8), ("SEV_1", 4), ("SEV3", 12)],
)
def test_a_severity_matches_its_policy_however_it_is_written(
    tmp_path: Path, severity: str, weeks: int
) -> None:
    """Case, spaces, dashes and underscores do not matter, nor the SEV prefix; a severity with
    no rule of its own takes the default."""
    policy = _policy(tmp_path=tmp_path)
    pm = extract(_postmortem(DOC.replace("severity: SEV2", f"severity: {severity}")))
    page = _titled(pm, PAGE)
    assert policy.due(page, pm, NOW.date()).day == date(2026, 3, 4) + timedelta(weeks=weeks)


@pytest.mark.parametrize(
    "written",
    [
        "payments",
        "Payments team",
        "@acme/payments",
        "@acme/finance/payments",  # a subgroup's team, as GitLab names it
        "@payments",
        "payments-team",
        "PAYMENTS_TEAM",
        " Payments. ",
    ],
)
def test_a_team_is_known_however_the_post_mortem_writes_its_name(
    tmp_path: Path, written: str
) -> None:
    policy = _policy(POLICY + '\n[teams.payments]\ntriage = "Sam Rivera"\n', tmp_path=tmp_path)
    assert policy.team_of(written) == "payments"
    assert policy.team_of("payment") is None
    assert policy.team_of("@acme/payments/team-x") is None


def test_team_names_match_whatever_their_case_and_first_letter(tmp_path: Path) -> None:
    teams = '\n[teams.xray]\ntriage = "Sam Rivera"\n[teams.Atlas]\ntriage = "Sam Rivera"\n'
    policy = _policy(POLICY + teams, tmp_path=tmp_path)
    assert policy.team_of("XRay team") == "xray"
    assert policy.team_of("@acme/ATLAS") == "Atlas"


def test_an_item_no_due_date_rule_covers_says_so(tmp_path: Path) -> None:
    only_p1 = (
        '[policy]\npreset = "off"\n[policy.due]\nfrom = "incident"\nby_priority = { P1 = "4w" }\n'
    )
    policy = _policy(only_p1, tmp_path=tmp_path)
    pm = extract(_postmortem())
    dues = {item.title: policy.due(item, pm, None) for item in pm.items}
    assert dues[PAGE] == Due(None, "none in the post-mortem, and no policy applies")
    said = "the post-mortem says 'before the freeze', and no policy applies"
    assert dues[CANARY] == Due(None, said)


def test_a_policy_date_is_moved_only_when_sooner_than_the_window_after_filing(
    tmp_path: Path,
) -> None:
    policy = _policy(tmp_path=tmp_path)
    pm = extract(_postmortem())
    page = _titled(pm, PAGE)  # SEV2: 8 weeks, 2026-04-29
    in_a_week = policy.due(page, pm, date(2026, 4, 22))  # due a week after filing: kept
    assert in_a_week == Due(
        date(2026, 4, 29), "SEV2 severity policy, 8 weeks after the incident on 2026-03-04", True
    )
    assert policy.due(page, pm, date(2026, 4, 23)).day == date(2026, 4, 30)  # moved


def test_an_item_naming_a_team_goes_to_its_triage_person_whatever_the_fallback(
    tmp_path: Path,
) -> None:
    facilitator_only = POLICY.replace(
        'fallback = ["team", "postmortem"]', 'fallback = ["postmortem"]'
    )
    policy = _policy(facilitator_only, tmp_path=tmp_path)
    pm = extract(_postmortem())
    owner = policy.owner(_titled(pm, SETTINGS), pm)
    assert owner.person is not None
    assert (owner.person.key, owner.role, owner.team) == (
        "Sam Rivera",
        "the triage person of team payments",
        "payments",
    )


def test_an_item_naming_a_team_with_no_triage_person_falls_back_not_to_another_team(
    tmp_path: Path,
) -> None:
    policy = _policy(POLICY + "\n[teams.storage]\n", tmp_path=tmp_path)
    text = DOC.replace("Payments team", "Storage team").replace("severity: SEV2", "team: payments")
    pm = extract(_postmortem(text))
    owner = policy.owner(_titled(pm, SETTINGS), pm)
    assert owner.person is not None
    assert (owner.person.key, owner.team) == ("Lee Park", "storage")  # the facilitator
    assert owner.explain() == (
        "the post-mortem's facilitator, because the post-mortem names team storage as the owner"
    )


def test_a_period_with_a_clear_end_is_its_last_day_not_a_policy(tmp_path: Path) -> None:
    policy = _policy(tmp_path=tmp_path)
    pm = extract(_postmortem(DOC.replace("| before the freeze |", "| H2 |")))
    canary = _titled(pm, CANARY)
    due = policy.due(canary, pm, NOW.date())
    assert (due.day, due.by_policy) == (date(2026, 12, 31), False)
    assert due.why == "the end of 'H2', as the post-mortem says"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q2 2026", date(2026, 6, 30)),
        ("Q1", date(2027, 3, 31)),  # the next first quarter after a November incident
        ("end of Q4", date(2026, 12, 31)),
        ("H1", date(2027, 6, 30)),
        ("H2 2027", date(2027, 12, 31)),
        ("2027", date(2027, 12, 31)),
        ("next month", date(2026, 12, 31)),
        ("next quarter", date(2027, 3, 31)),
        ("this week", date(2026, 12, 6)),
        ("before the freeze", None),
        ("next sprint", None),
    ],
)
def test_the_end_of_a_named_period(text: str, expected: date | None) -> None:
    assert timeframe_end(text, date(2026, 11, 30)) == expected


def test_from_filed_counts_from_the_day_the_issue_was_filed(tmp_path: Path) -> None:
    policy = _policy(POLICY.replace('from = "incident"', 'from = "filed"'), tmp_path=tmp_path)
    pm = extract(_postmortem())
    page = _titled(pm, PAGE)
    due = policy.due(page, pm, date(2026, 3, 31))
    assert due.day == date(2026, 5, 26)
    assert due.why == "SEV2 severity policy, 8 weeks after the issue was filed on 2026-03-31"


def test_without_an_incident_date_the_documents_first_commit_counts(tmp_path: Path) -> None:
    policy = _policy(tmp_path=tmp_path)
    text = DOC.replace("date: 2026-03-04\n", "")
    pm = extract(_postmortem(text, created_at=datetime(2026, 2, 2, 23, tzinfo=UTC)))
    page = _titled(pm, PAGE)
    assert policy.due(page, pm, NOW.date()).why.endswith("first written on 2026-02-02")


def test_months_end_on_the_last_day_of_a_short_month(tmp_path: Path) -> None:
    policy = _policy(POLICY.replace('default = "12w"', 'default = "1mo"'), tmp_path=tmp_path)
    text = DOC.replace("date: 2026-03-04", "date: 2026-01-31").replace("severity: SEV2\n", "")
    pm = extract(_postmortem(text))
    page = _titled(pm, PAGE)
    assert policy.due(page, pm, date(2026, 1, 31)).day == date(2026, 2, 28)


def test_no_policy_fills_nothing() -> None:
    people = Directory.from_entries([PersonSettings(name="Lee Park")])
    policy = Policy(people, PolicySettings(preset="off"))
    assert Policy(people).active is False  # none given: none
    pm = extract(_postmortem())
    page = _titled(pm, PAGE)
    assert policy.owner(page, pm).person is None
    assert policy.due(page, pm, NOW.date()).day is None
    assert not policy.active


def test_the_marker_records_what_policy_set() -> None:
    marker = Marker("0123456789ab", "f" * 16, "pm/7.md", (("assignee", "acc:lee 1"), ("due", "")))
    assert parse_marker(f"body\n{render_marker(marker)}") == marker


# --- bad configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[policy.due]\nby_priority = { P1 = "4 weeks-ish" }', "policy.due.by_priority.P1:"),
        ('[policy.due]\ndefault = "soon"', "policy.due.default:"),
        ('[policy.due]\nfrom = "yesterday"', "policy.due.from:"),
        ('[policy.owner]\nfallback = ["team", "boss"]', "policy.owner.fallback.1:"),
        ('[teams.search]\ntriage = "Nobody Known"', "teams.search.triage: 'Nobody Known'"),
    ],
)
def test_bad_policy_input_is_a_configuration_error_naming_the_key(
    tmp_path: Path, toml: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC)
    config = tmp_path / "config.toml"
    config.write_text(
        _PEOPLE_TOML + '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n' + toml
    )
    assert main(["sync", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / ".pmsync" / "local-tracker.sqlite3").exists()  # nothing written


def test_a_triage_person_missing_from_the_people_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[teams.search]\ntriage = "Lee Park"\n')
    with pytest.raises(ConfigError) as caught:
        load_directory(load_settings(config))
    assert "teams.search.triage: 'Lee Park' is not in the people directory" in str(caught.value)


# --- through the trackers ---------------------------------------------------------------------


@dataclass
class Backend:
    """A tracker behind a sync, with a person's hand on it and a count of pmsync's writes."""

    section: str
    issues: Callable[[], dict[str, tuple[tuple[str, ...], date | None]]]  # title -> fields
    reassign: Callable[[str, str], None]  # title, handle
    redate: Callable[[str, date], None]
    writes: Callable[[], list[str]]  # what pmsync wrote since the last call: "PATCH due" …
    comments: Callable[[str], list[str]]
    handles: dict[str, str]  # person -> handle


@contextmanager
def _local(tmp_path: Path) -> Iterator[Backend]:
    store = tmp_path / ".pmsync" / "local-tracker.sqlite3"
    seen: dict[int, tuple[object, ...]] = {}

    def rows() -> list[tuple[object, ...]]:
        with sqlite3.connect(store) as db:
            return db.execute("SELECT number, title, assignees, due, body FROM issues").fetchall()

    def issues() -> dict[str, tuple[tuple[str, ...], date | None]]:
        return {
            str(title): (
                tuple(json.loads(str(people))),
                date.fromisoformat(str(due)) if due else None,
            )
            for _, title, people, due, _ in rows()
        }

    def edit(title: str, column: str, value: str) -> None:
        with sqlite3.connect(store) as db:
            db.execute(f"UPDATE issues SET {column} = ? WHERE title = ?", (value, title))
        snapshot()

    def snapshot() -> None:
        seen.clear()
        seen.update({int(str(row[0])): row for row in rows()})

    def writes() -> list[str]:
        now = {int(str(row[0])): row for row in rows()}
        changed = []
        for number, row in now.items():
            before = seen.get(number)
            if before is None:
                changed.append("create")
            else:
                changed += [
                    f"write {name}"
                    for name, a, b in zip(
                        ("", "title", "assignees", "due", "body"), before, row, strict=True
                    )
                    if a != b
                ]
        seen.clear()
        seen.update(now)
        return changed

    def comments(title: str) -> list[str]:
        with sqlite3.connect(store) as db:
            found = db.execute(
                "SELECT c.body FROM comments c JOIN issues i ON i.number = c.number "
                "WHERE i.title = ? ORDER BY c.id",
                (title,),
            ).fetchall()
        return [str(body) for (body,) in found]

    yield Backend(
        '[trackers.local]\nkind = "local"\n',
        issues,
        lambda title, handle: edit(title, "assignees", json.dumps([handle])),
        lambda title, day: edit(title, "due", day.isoformat()),
        writes,
        comments,
        {"Dana Kim": "Dana Kim", "Lee Park": "Lee Park", "Sam Rivera": "Sam Rivera"},
    )


@contextmanager
def _github(tmp_path: Path) -> Iterator[Backend]:
    fake = FakeGitHub(collaborators={"dana", "sam-rivera", "priyan"})
    fake.clock = lambda: NOW
    with fake.running():

        def issue(title: str) -> dict[str, object]:
            (found,) = fake.by_title(title)
            return found

        def issues() -> dict[str, tuple[tuple[str, ...], date | None]]:
            from connectors.trackers.github import _due_of

            return {
                str(i["title"]): (tuple(a["login"] for a in i["assignees"]), _due_of(i))
                for i in fake.issues.values()
            }

        def redate(title: str, day: date) -> None:
            found = issue(title)
            body = str(found["body"])
            old = _due_line(body)
            found["body"] = body.replace(old, f"Due: {day.isoformat()}")

        def writes() -> list[str]:
            done = []
            for method, kind, payload in fake.payloads:
                if method == "PATCH" and kind == "issue":
                    body = str(payload.get("body", ""))
                    done += [f"PATCH {name}" for name in sorted(payload) if name != "body"]
                    done.append(f"PATCH body due={_due_line(body)}")
                elif method == "POST" and kind == "issues":
                    done.append("create")
                elif method == "POST" and kind == "comments":
                    done.append("comment")
                else:
                    done.append(f"{method} {kind}")
            fake.reset_counts()
            return done

        def comments(title: str) -> list[str]:
            return [str(c["body"]) for c in fake.comments[int(str(issue(title)["number"]))]]

        yield Backend(
            f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
            'token = "ghp_test"\nwrite_interval_seconds = 0\nmax_writes_per_minute = 0\n'
            '[routing]\ndefault = "gh"\n',
            issues,
            lambda title, handle: issue(title).update(assignees=[{"login": handle}]),
            redate,
            writes,
            comments,
            {"Dana Kim": "dana", "Lee Park": "priyan", "Sam Rivera": "sam-rivera"},
        )


def _due_line(body: str) -> str:
    return next(line for line in reversed(body.splitlines()) if line.startswith("Due: "))


@contextmanager
def _jira(tmp_path: Path) -> Iterator[Backend]:
    fake = FakeJira(deployment="cloud")
    fake.clock = lambda: NOW
    with fake.running():

        def issue(title: str) -> dict[str, object]:
            (found,) = [i for i in fake.issues.values() if i["fields"]["summary"] == title]
            return found

        def issues() -> dict[str, tuple[tuple[str, ...], date | None]]:
            found = {}
            for i in fake.issues.values():
                fields = i["fields"]
                people = (fields["assignee"]["accountId"],) if fields["assignee"] else ()
                due = date.fromisoformat(fields["duedate"]) if fields["duedate"] else None
                found[str(fields["summary"])] = (people, due)
            return found

        def writes() -> list[str]:
            done = []
            for method, path, _, payload in fake.requests:
                if method == "GET":
                    continue
                if method == "PUT" and isinstance(payload, dict):
                    fields = payload.get("fields", {})
                    done += [f"PUT {name}" for name in sorted(fields) if name != "description"]
                    done.append("PUT description")
                elif path.endswith("/comment"):
                    done.append("comment")
                else:
                    done.append(f"{method} {path.rsplit('/', 1)[-1]}")
            fake.reset_counts()
            return done

        def comments(title: str) -> list[str]:
            found = issue(title)["fields"]["comment"]["comments"]  # type: ignore[index]
            return [json.dumps(c["body"]) for c in found]

        yield Backend(
            f'[trackers.jira]\nkind = "jira"\nurl = "{fake.url}"\ndeployment = "cloud"\n'
            'project = "OPS"\nemail = "pmsync@acme.test"\napi_token = "jira-api-token"\n'
            'bulk_create = false\nretry_backoff_seconds = 0.01\n[routing]\ndefault = "jira"\n',
            issues,
            lambda title, handle: issue(title)["fields"].update(  # type: ignore[attr-defined]
                assignee={"accountId": handle, "displayName": handle}
            ),
            lambda title, day: issue(title)["fields"].update(duedate=day.isoformat()),  # type: ignore[attr-defined]
            writes,
            comments,
            {"Dana Kim": "acc-dana", "Lee Park": "acc-lee1", "Sam Rivera": "acc-sam"},
        )


@pytest.fixture(params=[_local, _github, _jira], ids=["local", "github", "jira"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with request.param(tmp_path) as made:
        yield made


def _project(tmp_path: Path, backend: Backend, policy: str = POLICY) -> Path:
    """The post-mortem in `docs/` and a configuration filing it to `backend`."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC)
    config = tmp_path / "config.toml"
    source = '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
    config.write_text(_PEOPLE_TOML + source + backend.section + policy)
    return config


@pytest.fixture
def project(tmp_path: Path, backend: Backend) -> Path:
    return _project(tmp_path, backend)


def _sync(config: Path) -> SyncRun:
    run = sync(load_settings(config), dry_run=False, now=NOW)
    assert not run.problems, run.problems
    return run


def _action(run: SyncRun, title: str) -> PlannedAction:
    """The run's one action for the item titled `title`."""
    (action,) = [o.action for o in run.outcomes if o.action.item and o.action.item.title == title]
    return action


def test_every_item_is_filed_with_an_owner_and_a_due_date_that_say_why(
    project: Path, backend: Backend
) -> None:
    _sync(project)
    issues = backend.issues()
    handle = backend.handles
    assert issues == {
        ALERT: ((handle["Dana Kim"],), date(2026, 4, 1)),
        SETTINGS: ((handle["Sam Rivera"],), date(2026, 4, 1)),
        CANARY: ((handle["Lee Park"],), date(2026, 4, 29)),
        PAGE: ((handle["Lee Park"],), date(2026, 4, 29)),
    }
    # One hand-over comment to each person a policy assigned, none to a named owner.
    assert backend.comments(ALERT) == []
    (note,) = backend.comments(CANARY)
    assert "the post-mortem's facilitator" in note
    assert "please reassign it" in note
    (note,) = backend.comments(SETTINGS)
    assert "the triage person of team payments" in note
    backend.writes()
    run = _sync(project)
    assert [o.action.op for o in run.outcomes] == ["unchanged"] * 4
    assert backend.writes() == []  # and no second hand-over comment


def test_the_issue_body_says_where_owner_and_due_date_came_from(tmp_path: Path) -> None:
    with _local(tmp_path) as backend:
        _sync(_project(tmp_path, backend))
    with sqlite3.connect(tmp_path / ".pmsync" / "local-tracker.sqlite3") as db:
        body, labels = db.execute(
            "SELECT body, labels FROM issues WHERE title = ?", (SETTINGS,)
        ).fetchone()
    assert (
        "| Owner | Sam Rivera: the triage person of team payments, assigned by policy because "
        "the post-mortem names team payments as the owner. Please reassign it to whoever "
        "should own it. |"
    ) in body
    assert (
        "| Due | 2026-04-01: P1 priority policy, 4 weeks after the incident on 2026-03-04 |" in body
    )
    assert "PM105" not in body
    assert "PM205" not in body
    assert "payments" in json.loads(labels)  # the team the post-mortem named stays a label
    marker = parse_marker(body)
    assert marker is not None
    assert dict(marker.policy) == {"assignee": "Sam Rivera", "due": "2026-04-01"}


def test_a_persons_change_in_the_tracker_outranks_the_policy(
    project: Path, backend: Backend
) -> None:
    _sync(project)
    backend.reassign(CANARY, backend.handles["Dana Kim"])
    backend.redate(PAGE, date(2026, 6, 1))
    backend.writes()
    run = _sync(project)
    assert [o.action.op for o in run.outcomes] == ["unchanged"] * 4
    assert backend.writes() == []
    # The policy changes: the dates it set and nobody changed move, once; nothing else.
    project.write_text(project.read_text().replace('SEV2 = "8w"', 'SEV2 = "6w"'))
    run = _sync(project)
    ops = {o.action.item.title: o.action.op for o in run.outcomes if o.action.item}
    assert ops == {ALERT: "unchanged", SETTINGS: "unchanged", CANARY: "update", PAGE: "unchanged"}
    issues = backend.issues()
    assert issues[CANARY] == ((backend.handles["Dana Kim"],), date(2026, 4, 15))
    assert issues[PAGE] == ((backend.handles["Lee Park"],), date(2026, 6, 1))
    written = backend.writes()
    assert not any("assignee" in w for w in written), written
    _sync(project)
    assert backend.writes() == []


def test_the_documents_own_due_date_still_wins_over_everything(
    project: Path, backend: Backend
) -> None:
    _sync(project)
    backend.redate(PAGE, date(2026, 6, 1))
    doc = project.parent / "docs" / "pm-7.md"
    doc.write_text(doc.read_text().replace(f"| {PAGE} | | | |", f"| {PAGE} | | 2026-05-05 | |"))
    backend.writes()
    _sync(project)
    assert backend.issues()[PAGE][1] == date(2026, 5, 5)
    assert backend.writes()
    _sync(project)
    assert backend.writes() == []


def test_plan_shows_the_policys_result_per_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC)
    config = tmp_path / "config.toml"
    config.write_text(
        _PEOPLE_TOML + '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n' + POLICY
    )
    monkeypatch.setenv("PMSYNC_NOW", "2026-03-10T09:30")
    assert main(["plan", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Sam Rivera (policy)  2026-04-01 (policy)" in out
    assert (
        f"  {CANARY}: due 2026-04-29, SEV2 severity policy, 8 weeks after the incident on "
        "2026-03-04; the post-mortem says 'before the freeze'"
    ) in out
    assert main(["plan", "--config", str(config), "--format", "json"]) == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    page = next(a for a in actions if a["title"] == PAGE)
    assert page["owner"] == "Lee Park"
    assert page["owner_why"] == "the post-mortem's facilitator, because the item names no owner"
    assert (page["due"], page["due_why"]) == (
        "2026-04-29",
        "SEV2 severity policy, 8 weeks after the incident on 2026-03-04",
    )


Findings = list[dict[str, Any]]


@pytest.fixture
def lint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, str], Findings]:
    """`pmsync lint --format json` on a post-mortem under a config, on 2026-03-10: its findings."""
    monkeypatch.setenv("PMSYNC_NOW", "2026-03-10T09:30")

    def run(doc: str, config: str) -> Findings:
        (tmp_path / "pm-7.md").write_text(doc)
        (tmp_path / "config.toml").write_text(config)
        path, config_path = str(tmp_path / "pm-7.md"), str(tmp_path / "config.toml")
        main(["lint", path, "--config", config_path, "--format", "json"])
        findings: Findings = json.loads(capsys.readouterr().out)["findings"]
        return findings

    return run


def test_lint_reports_what_the_policy_would_fill_as_information(
    lint: Callable[[str, str], Findings],
) -> None:
    findings = lint(DOC, _PEOPLE_TOML + POLICY)
    info = {(f["code"], f["line"]): f["message"] for f in findings if f["severity"] == "info"}
    assert info[("PM105", 16)] == (
        "would be assigned to Lee Park by policy: the post-mortem's facilitator, because the "
        "item names no owner"
    )
    assert info[("PM205", 17)] == (
        "would be due 2026-04-29 (SEV2 severity policy, 8 weeks after the incident on 2026-03-04)"
    )
    assert ("PM105", 14) not in info  # Dana Kim is named


def test_lint_knows_the_configured_teams_and_people_and_counts_from_today_without_an_incident(
    lint: Callable[[str, str], Findings],
) -> None:
    # A team from [rules] teams, one from [teams], one from the people file; nobody's name.
    doc = DOC.replace("date: 2026-03-04\n", "").replace("| Payments team |", "| payments |")
    doc = doc.replace("| Dana Kim | 2026-04-01 | P1 |", "| checkout | 2026-04-01 | P1 |")
    doc += (
        "| Move the cron job to the scheduler | incident-command | 2026-04-01 | |\n"
        "| Add a runbook for the pool alarm | Morgan Lee | 2026-04-01 | |\n"
        "| Rotate the signing key | Dana Kim | 2026-06-08 | |\n"
        "| Rotate the backup key | Dana Kim | 2026-06-09 | |\n"
        "| Socialise the pool limits with the vendor | Dana Kim | 2026-04-01 | |\n"
    )
    findings = lint(
        doc,
        _PEOPLE_TOML
        + '[rules]\nteams = ["incident-command"]\nmax_due_days = 90\n'
        + 'vague_phrases = [{ phrase = "socialise", rewrite = "name who must agree" }]\n'
        + '[teams.checkout]\ntriage = "Dana Kim"\n'
        + '[policy]\npreset = "off"\n[policy.due]\nfrom = "filed"\nby_priority = { P1 = "4w" }\n',
    )
    found = {(f["code"], f["line"]): f["message"] for f in findings}
    for line, team in ((13, "checkout"), (14, "payments"), (17, "incident-command")):
        assert found[("PM102", line)].startswith(f'owner "{team}" is a team or role'), line
    assert found[("PM104", 18)] == 'owner "Morgan Lee" is not in the people directory'
    assert ("PM104", 19) not in found
    # No incident date: the 90 days of max_due_days count from today, when it would be filed.
    assert ("PM204", 19) not in found
    assert found[("PM204", 20)] == (
        "due 2026-06-09 is 91 days after today; split it into steps due within 90 days"
    )
    vague = [message for (code, line), message in found.items() if line == 21]
    assert any("socialise" in m and "name who must agree" in m for m in vague), vague
    # Filed today under the P1 rule; nothing for the item no rule covers.
    assert found[("PM205", 14)] == (
        "would be due 2026-04-07 (P1 priority policy, 4 weeks after the issue was filed on "
        "2026-03-10)"
    )
    assert ("PM205", 16) not in found


def test_lint_without_a_people_file_calls_no_owner_unknown(
    lint: Callable[[str, str], Findings],
) -> None:
    codes = {f["code"] for f in lint(DOC, "[rules]\nteams = []\n")}
    assert "PM104" not in codes
    assert "PM102" in codes  # "Payments team" is still a team


def test_check_lists_what_no_policy_could_own_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC.replace("facilitator: Lee Park\n", ""))
    config = tmp_path / "config.toml"
    config.write_text(
        _PEOPLE_TOML + '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n' + POLICY
    )
    _sync(config)
    run = check(load_settings(config), now=NOW, dry_run=True)
    unowned = sorted(f.message for f in run.findings if f.code == "PM504")
    assert (
        unowned
        == [
            "unowned: nobody is assigned: the item names no owner; the post-mortem names no team; "
            "the post-mortem names no owner, facilitator or author"
        ]
        * 2
    )


def test_with_the_preset_off_nothing_is_filled(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC)
    config = tmp_path / "config.toml"
    people = _PEOPLE_TOML.replace("lead = true\n", "")
    config.write_text(
        people + '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n[policy]\npreset = "off"\n'
    )
    run = _sync(config)
    actions = {o.action.item.title: o.action for o in run.outcomes if o.action.item}
    assert (actions[PAGE].owner, actions[PAGE].due) == ("", "")  # the plan shows none
    assert actions[PAGE].due_why == "none in the post-mortem"
    assert actions[CANARY].due_why == "the post-mortem says 'before the freeze'"
    drafts = {o.action.item.title: o.action.draft for o in run.outcomes if o.action.item}
    assert drafts[PAGE] is not None
    assert drafts[PAGE].assignees == ()
    assert drafts[PAGE].due is None
    assert drafts[PAGE].policy == ()
    assert "| Owner | none named in the post-mortem |" in drafts[PAGE].body


@pytest.mark.parametrize(
    ("handle", "owner", "why"),
    [
        ("someone-else", "", ""),
        ("Dana Kim", "Dana Kim", "changed in the tracker after pmsync set it by policy"),
    ],
)
def test_a_policy_owner_is_recorded_by_handle_not_guessed_back(
    tmp_path: Path, handle: str, owner: str, why: str
) -> None:
    """A hand-picked assignee is kept, shown by handle, and is the item's owner when the
    directory knows them."""
    with _local(tmp_path) as backend:
        config = _project(tmp_path, backend)
        _sync(config)
        backend.reassign(CANARY, handle)
        doc = tmp_path / "docs" / "pm-7.md"
        doc.write_text(
            doc.read_text().replace("| before the freeze | |", "| before the freeze | P2 |")
        )
        run = _sync(config)
        assert backend.issues()[CANARY] == ((handle,), date(2026, 4, 29))
        action = _action(run, CANARY)
        assert action.op == "update"
        assert "assignees" not in action.changes
        assert action.owner == owner
        assert action.owner_why == why
        assert action.draft is not None
        assert (
            f"| Owner | {handle}: changed in the tracker after pmsync assigned it"
            in action.draft.body
        )
        assert backend.comments(CANARY)[1:] == []  # no hand-over for a person's own choice


def test_a_due_date_changed_in_the_tracker_is_kept_and_reported_as_a_persons(
    tmp_path: Path,
) -> None:
    with _local(tmp_path) as backend:
        config = _project(tmp_path, backend)
        _sync(config)
        backend.redate(PAGE, date(2026, 6, 1))
        doc = tmp_path / "docs" / "pm-7.md"
        doc.write_text(doc.read_text().replace(f"| {PAGE} | | | |", f"| {PAGE} | | | P1 |"))
        run = _sync(config)
        assert backend.issues()[PAGE] == (("Lee Park",), date(2026, 6, 1))
        action = _action(run, PAGE)
        assert (action.op, action.due) == ("update", "2026-06-01")
        assert action.due_why == "changed in the tracker after pmsync set it by policy"
        assert action.draft is not None
        assert (
            "| Due | 2026-06-01: changed in the tracker after pmsync set it by policy |"
            in action.draft.body
        )


def test_when_the_policy_chooses_someone_else_they_are_assigned_and_told(tmp_path: Path) -> None:
    with _local(tmp_path) as backend:
        config = _project(tmp_path, backend)
        _sync(config)
        doc = tmp_path / "docs" / "pm-7.md"
        doc.write_text(doc.read_text().replace("facilitator: Lee Park", "facilitator: Dana Kim"))
        _sync(config)
        assert backend.issues()[CANARY][0] == ("Dana Kim",)
        first, second = backend.comments(CANARY)
        assert first.startswith("@Lee Park pmsync assigned this action item to you as the post")
        assert second == first.replace("@Lee Park", "@Dana Kim")


def test_an_owner_set_in_the_tracker_before_any_policy_is_kept_until_taken_away(
    tmp_path: Path,
) -> None:
    with _local(tmp_path) as backend:
        off = '[policy]\npreset = "off"\n'
        config = _project(tmp_path, backend, off)
        _sync(config)
        assert backend.issues()[PAGE] == ((), None)
        backend.reassign(PAGE, "Dana Kim")
        config.write_text(config.read_text().replace(off, POLICY))  # a policy comes later
        _sync(config)
        assert backend.issues()[PAGE] == (("Dana Kim",), date(2026, 4, 29))
        assert backend.comments(PAGE) == []
        with sqlite3.connect(tmp_path / ".pmsync" / "local-tracker.sqlite3") as db:
            db.execute("UPDATE issues SET assignees = '[]' WHERE title = ?", (PAGE,))
        _sync(config)  # with nobody assigned, the policy's owner is
        assert backend.issues()[PAGE] == (("Lee Park",), date(2026, 4, 29))
        (note,) = backend.comments(PAGE)
        assert "the post-mortem's facilitator" in note


def test_the_corpus_is_filed_with_owners_and_due_dates_or_listed_with_the_reason(
    tmp_path: Path,
) -> None:
    """Real post-mortems: every filed item gets a due date; an item gets an owner when the
    post-mortem names one, and otherwise `check` lists it as unowned, saying why."""
    corpus = Path(__file__).parent / "corpus" / "docs"
    reading = [
        extract(Document(DocumentRef("c", p.name, str(p)), p.stem, p.read_text()))
        for p in sorted(corpus.iterdir())
    ]
    # One person per name, whatever its case (`DevEx` and `DevEX` are one team).
    owners = sorted(
        {
            i.owner.casefold(): i.owner
            for pm in reading
            for i in pm.items
            if i.owner and "\n" not in i.owner
        }.values()
    )
    people = "".join(f"[[people]]\nname = {json.dumps(name)}\n" for name in owners)
    config = tmp_path / "config.toml"
    config.write_text(
        people + f'[sources.corpus]\nkind = "markdown-dir"\npath = "{corpus}"\n' + POLICY
    )
    settings = load_settings(config)
    run = sync(settings, dry_run=False, now=NOW)
    filed = [o.action for o in run.outcomes if o.ok and o.action.op == "create"]
    assert len(filed) > 100
    assert all(action.draft and action.draft.due for action in filed)
    unowned = {a.item.key for a in filed if a.item and a.draft and not a.draft.assignees}
    assert unowned == {a.item.key for a in filed if a.item and not a.item.owner}
    findings = check(settings, now=NOW, dry_run=True).findings
    listed = {f.item_key: f.message for f in findings if f.code == "PM504"}
    assert set(listed) == unowned
    assert all("nobody is assigned: the item names no owner; " in m for m in listed.values())


def test_a_policy_due_date_makes_an_item_overdue_like_any_other(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC)
    config = tmp_path / "config.toml"
    config.write_text(
        _PEOPLE_TOML + '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n' + POLICY
    )
    _sync(config)
    later = datetime(2026, 5, 4, 0, 30, tzinfo=UTC)  # a Monday, past the 8 weeks of SEV2
    run = check(load_settings(config), now=later, dry_run=False)
    overdue = {f.item_key for f in run.findings if f.code == "PM501"}
    keys = {o.action.item_key for o in run.outcomes if o.action.op == "label"}
    pm = extract(_postmortem())
    by_title = {item.title: item.key for item in pm.items}
    # P1 items (4 weeks) and the SEV2 ones (8 weeks) are all past their day by now.
    assert overdue == keys == {by_title[t] for t in (ALERT, SETTINGS, CANARY, PAGE)}


# --- the standard preset --------------------------------------------------------------------


def test_without_a_policy_section_the_standard_preset_fills_owners_and_dates(
    tmp_path: Path,
) -> None:
    """A post-mortem of a year ago with no owners and no dates: every item is filed with an
    owner and a due date, none due before the filing day plus a week, and each says why."""
    (tmp_path / "docs").mkdir()
    old = DOC.replace("date: 2026-03-04", "date: 2025-03-04")
    (tmp_path / "docs" / "pm-7.md").write_text(old)
    config = tmp_path / "config.toml"
    config.write_text(_PEOPLE_TOML + '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n')
    run = _sync(config)
    drafts = {o.action.item.title: o for o in run.outcomes if o.action.item and o.action.draft}
    assert set(drafts) == {ALERT, SETTINGS, CANARY, PAGE}
    filed = NOW.date()
    for title, outcome in drafts.items():
        draft = outcome.action.draft
        assert draft is not None
        assert draft.assignees, title
        assert draft.due is not None, title
        assert draft.due >= filed + timedelta(weeks=1) or title == ALERT, title
    assert drafts[ALERT].action.draft.due == date(2026, 4, 1)  # type: ignore[union-attr]  # the document's own
    page = drafts[PAGE].action
    assert page.owner == "Lee Park"  # the post-mortem's facilitator
    assert page.due == "2026-03-17"
    assert page.due_why == (
        "SEV2 severity policy, 8 weeks after the incident on 2025-03-04 would be 2025-04-29, "
        "already past or too soon when filed on 2026-03-10; due 2026-03-17, 1 week after "
        "filing ([policy.due] min_window)"
    )
    assert "| Due | 2026-03-17: SEV2 severity policy" in page.draft.body  # type: ignore[union-attr]


def test_the_preset_is_overridden_key_by_key(tmp_path: Path) -> None:
    policy = _policy('[policy.due]\nby_severity = { SEV2 = "2w" }\n', tmp_path=tmp_path)
    pm = extract(_postmortem())
    page = _titled(pm, PAGE)
    settings = _titled(pm, SETTINGS)
    assert policy.due(page, pm, date(2026, 3, 4)).day == date(2026, 3, 18)  # SEV2 = 2w
    assert policy.due(settings, pm, date(2026, 3, 4)).day == date(2026, 4, 1)  # P1: the preset's 4w


def test_a_default_owner_takes_what_nobody_else_can(tmp_path: Path) -> None:
    toml = '[policy]\npreset = "off"\n[policy.owner]\ndefault_owner = "Dana Kim"\n'
    policy = _policy(toml, tmp_path=tmp_path)
    pm = extract(_postmortem())
    page = _titled(pm, PAGE)
    owner = policy.owner(page, pm)
    assert (owner.person.key if owner.person else None, owner.role) == (
        "Dana Kim",
        "the default owner",
    )
    # The default owner takes an item for a team with nobody to triage; the team stays its.
    teams = '[teams.storage]\n[policy.owner]\nfallback = ["team"]\ndefault_owner = "Dana Kim"\n'
    policy = _policy(teams, tmp_path=tmp_path)
    pm = extract(_postmortem(DOC.replace("Payments team", "Storage team")))
    owner = policy.owner(_titled(pm, SETTINGS), pm)
    assert (owner.person.key if owner.person else None, owner.team) == ("Dana Kim", "storage")
    policy = _policy(teams.replace('default_owner = "Dana Kim"\n', ""), tmp_path=tmp_path)
    owner = policy.owner(_titled(pm, SETTINGS), pm)
    assert (owner.person, owner.team) == (None, "storage")  # nobody: still the team's item


def test_the_run_ends_with_what_no_policy_could_fill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMSYNC_NOW", NOW.isoformat())
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-7.md").write_text(DOC.replace("facilitator: Lee Park\n", ""))
    config = tmp_path / "config.toml"
    base = '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
    config.write_text(base + '[policy]\npreset = "off"\n')
    argv = ["--config", str(config), "plan"]
    assert main(argv) in (0, 1)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == (
        "4 items would go out with no owner; 3 items would go out with no due date; "
        "see docs/policies.md"
    )
    config.write_text(base)  # the standard preset: dates for all, but nobody to own them
    assert main(argv) in (0, 1)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("4 items would go out with no owner (")
    assert "the post-mortem names no owner, facilitator or author" in last
    assert "no due date" not in last
