"""The contract every Tracker keeps; each tracker kind joins the `harness` parameters.

A harness gives the tracker under test and a way to file an issue as somebody else, so the
suite can check that only pmsync's own markers are trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors.base import Tracker
from connectors.trackers.github import GithubOptions, GithubTracker
from connectors.trackers.gitlab import GitlabOptions, GitlabTracker
from connectors.trackers.jira import JiraOptions, JiraTracker
from connectors.trackers.linear import LinearOptions, LinearTracker
from connectors.trackers.local import LocalTracker
from syncer.identity import (
    content_hash,
    render_marker,
    render_nudge_marker,
    render_remark_marker,
)
from syncer.model import IssueDraft, TrackerRef, outcome_of
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.linear import FakeLinear


@dataclass
class Harness:
    tracker: Tracker
    create_as_someone_else: Callable[[IssueDraft], None]
    comment_as_someone_else: Callable[[TrackerRef, str], None]
    people: tuple[str, str] = ("dana", "sam-rivera")  # two assignable handles in this tracker


def _clock() -> datetime:
    return datetime(2026, 3, 5, 12, tzinfo=UTC)


@contextmanager
def _local(tmp_path: Path) -> Iterator[Harness]:
    path = tmp_path / "store.sqlite3"
    mallory = LocalTracker("t", path, user="mallory", clock=_clock)

    def create_as_mallory(draft: IssueDraft) -> None:
        mallory.create(draft)

    def comment_as_mallory(ref: TrackerRef, body: str) -> None:
        mallory.comment(ref, body)

    yield Harness(LocalTracker("t", path, clock=_clock), create_as_mallory, comment_as_mallory)


@contextmanager
def _github(tmp_path: Path) -> Iterator[Harness]:
    fake = FakeGitHub()
    with fake.running():
        options = GithubOptions(
            repo="acme/incidents", base_url=fake.url, token="ghp_" + "0" * 36, write_interval=0
        )

        def create_as_mallory(draft: IssueDraft) -> None:
            body = f"{draft.body}\n\n{render_marker(draft.marker)}"
            fake.add_issue(draft.title, body, user="mallory", labels=["pmsync"])

        def comment_as_mallory(ref: TrackerRef, body: str) -> None:
            fake.comment_as(int(ref.key.lstrip("#")), "mallory", body)

        yield Harness(GithubTracker("t", options), create_as_mallory, comment_as_mallory)


def jira_options(fake: FakeJira) -> JiraOptions:
    """Options for the project OPS of a running fake Jira, signed in as its deployment wants:
    an e-mail and API token on Cloud, a personal access token on Data Center."""
    cloud = fake.deployment == "cloud"
    return JiraOptions(
        url=fake.url,
        project="OPS",
        deployment="cloud" if cloud else "datacenter",
        email="bot@acme.test" if cloud else None,
        api_token="api-token" if cloud else None,
        token=None if cloud else "pat-token",
    )


def _jira(deployment: str) -> Callable[[Path], AbstractContextManager[Harness]]:
    @contextmanager
    def harness(tmp_path: Path) -> Iterator[Harness]:
        fake = FakeJira(deployment=deployment)
        with fake.running():
            cloud = deployment == "cloud"
            options = jira_options(fake)

            def create_as_mallory(draft: IssueDraft) -> None:
                labels = ["pmsync", f"pmsync-{draft.item_key}"]
                text = f"{draft.body}\n\n{render_marker(draft.marker)}"
                fake.add_issue(draft.title, labels, creator="mallory", description=text)

            def comment_as_mallory(ref: TrackerRef, body: str) -> None:
                issue = fake.issues[ref.key]
                issue["fields"]["comment"]["comments"].append(
                    {
                        "body": body,
                        "author": {"accountId": "mallory", "name": "mallory"},
                        "created": "2026-03-06T10:00:00.000+0000",
                    }
                )

            people = ("acc-dana", "acc-sam") if cloud else ("dana", "sam")
            yield Harness(JiraTracker("t", options), create_as_mallory, comment_as_mallory, people)

    return harness


@contextmanager
def _gitlab(tmp_path: Path) -> Iterator[Harness]:
    fake = FakeGitLab(users={"pmsync-bot": 1, "dana": 2, "sam-rivera": 3, "mallory": 6})
    with fake.running():
        options = GitlabOptions(
            project="acme/incidents", url=fake.url, token="glpat-" + "0" * 20, write_interval=0
        )

        def create_as_mallory(draft: IssueDraft) -> None:
            text = f"{draft.body}\n\n{render_marker(draft.marker)}"
            fake.add_issue(draft.title, text, user="mallory", labels=["pmsync"])

        def comment_as_mallory(ref: TrackerRef, body: str) -> None:
            fake.note_as(int(ref.key.lstrip("#")), "mallory", body)

        yield Harness(GitlabTracker("t", options), create_as_mallory, comment_as_mallory)


@contextmanager
def _linear(tmp_path: Path) -> Iterator[Harness]:
    fake = FakeLinear()
    with fake.running():
        options = LinearOptions(team="OPS", url=fake.url, api_key=fake.api_key, write_interval=0)

        def create_as_mallory(draft: IssueDraft) -> None:
            text = f"{draft.body}\n\n{render_marker(draft.marker)}"
            fake.add_issue_as(fake.mallory, draft.title, text)

        def comment_as_mallory(ref: TrackerRef, body: str) -> None:
            fake.comment_as(fake.mallory, fake.by_identifier(ref.key)["id"], body)

        people = ("dana@acme.test", "sam@acme.test")
        yield Harness(LinearTracker("t", options), create_as_mallory, comment_as_mallory, people)


# Each tracker kind of connectors.registry has at least one harness, named after it.
HARNESSES = {
    "local": _local,
    "github": _github,
    "jira-cloud": _jira("cloud"),
    "jira-datacenter": _jira("datacenter"),
    "gitlab": _gitlab,
    "linear": _linear,
}


@pytest.fixture(params=list(HARNESSES.values()), ids=list(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    with request.param(tmp_path) as made:
        yield made


def _draft(harness: Harness, title: str = "Add alerting", **fields: object) -> IssueDraft:
    values: dict[str, object] = {
        "item_key": "0123456789ab",
        "postmortem_id": "pm-1",
        "title": title,
        "body": f"{title}\n\nDetails.",
        "assignees": (harness.people[0],),
        "due": date(2026, 4, 1),
        "labels": ("pmsync", "postmortem"),
    }
    values.update(fields)
    draft = IssueDraft(**values)  # type: ignore[arg-type]
    return IssueDraft(**{**values, "content_hash": content_hash(draft)})  # type: ignore[arg-type]


def test_a_new_tracker_has_no_synced_issues(harness: Harness) -> None:
    assert list(harness.tracker.snapshot()) == []


def test_a_created_issue_is_found_again_by_its_marker(harness: Harness) -> None:
    draft = _draft(harness)
    ref = harness.tracker.create(draft)
    (snap,) = harness.tracker.snapshot()
    assert snap.ref == ref
    assert (snap.item_key, snap.postmortem_id, snap.synced_hash) == (
        "0123456789ab",
        "pm-1",
        draft.content_hash,
    )
    assert (snap.title, snap.state, snap.assignees, snap.due) == (
        "Add alerting",
        "open",
        (harness.people[0],),
        date(2026, 4, 1),
    )
    assert {"pmsync", "postmortem"} <= set(snap.labels)
    assert snap.body.startswith("Add alerting\n\nDetails.")
    assert harness.tracker.activity(ref).last_human is None


def test_update_writes_only_the_named_fields_and_refreshes_the_marker(harness: Harness) -> None:
    ref = harness.tracker.create(_draft(harness))
    changed = _draft(
        harness, "Add alerting on the pool", assignees=(harness.people[1],), labels=("needs-owner",)
    )
    harness.tracker.update(ref, changed, {"title", "body", "labels"})
    (snap,) = harness.tracker.snapshot()
    assert snap.title == "Add alerting on the pool"
    assert snap.assignees == (harness.people[0],)
    assert snap.synced_hash == changed.content_hash
    assert {"pmsync", "postmortem", "needs-owner"} <= set(snap.labels)


def test_a_changed_due_date_is_read_back(harness: Harness) -> None:
    ref = harness.tracker.create(_draft(harness))
    harness.tracker.update(ref, _draft(harness, due=date(2026, 5, 1)), {"body", "due"})
    (snap,) = harness.tracker.snapshot()
    assert snap.due == date(2026, 5, 1)


def test_close_records_the_reason(harness: Harness) -> None:
    """Every tracker tells an issue closed without being done (dropped) from a done one."""
    ref = harness.tracker.create(_draft(harness))
    done = harness.tracker.create(_draft(harness, "Add a runbook", item_key="ba9876543210"))
    harness.tracker.close(ref, "not_planned", "Removed from the post-mortem.")
    harness.tracker.close(done, "completed")
    snaps = {snap.ref: snap for snap in harness.tracker.snapshot()}
    assert (snaps[ref].state, snaps[ref].status_category) == ("closed", "done")
    assert snaps[ref].state_reason == "not_planned"
    assert (outcome_of(snaps[ref]), outcome_of(snaps[done])) == ("dropped", "done")


def test_labels_are_added_and_removed_one_by_one(harness: Harness) -> None:
    ref = harness.tracker.create(_draft(harness))
    harness.tracker.add_labels(ref, ["stalled", "overdue"])
    harness.tracker.remove_labels(ref, ["stalled", "never-there"])
    (snap,) = harness.tracker.snapshot()
    assert {"pmsync", "postmortem", "overdue"} <= set(snap.labels)
    assert not {"stalled", "never-there"} & set(snap.labels)


def test_a_dropped_issue_is_reopened_with_a_comment(harness: Harness) -> None:
    ref = harness.tracker.create(_draft(harness))
    harness.tracker.close(ref, "not_planned", "Removed from the post-mortem.")
    harness.tracker.reopen(ref, "Back in the post-mortem.")
    (snap,) = harness.tracker.snapshot()
    assert (snap.state, outcome_of(snap)) == ("open", "open")
    assert "not-planned" not in snap.labels
    harness.tracker.close(ref, "completed")
    (snap,) = harness.tracker.snapshot()
    assert outcome_of(snap) == "done"  # closed again as done: not read as dropped


def test_state_labels_follow_the_draft_and_people_s_labels_stay(harness: Harness) -> None:
    """`needs-owner` and `needs-refinement` come off when the draft no longer has them and go
    back on when it has them again; a label a person added stays."""
    lacking = ("needs-owner", "needs-refinement", "pmsync", "postmortem")
    ref = harness.tracker.create(_draft(harness, assignees=(), labels=lacking))
    harness.tracker.add_labels(ref, ["triaged"])
    harness.tracker.snapshot()
    fields = {"body", "assignees", "labels"}
    harness.tracker.update(ref, _draft(harness), fields)
    (snap,) = harness.tracker.snapshot()
    assert {"pmsync", "postmortem", "triaged"} <= set(snap.labels)
    assert not {"needs-owner", "needs-refinement"} & set(snap.labels)
    harness.tracker.update(ref, _draft(harness, assignees=(), labels=lacking[:1]), fields)
    (snap,) = harness.tracker.snapshot()
    assert {"needs-owner", "pmsync", "triaged"} <= set(snap.labels)
    assert "needs-refinement" not in snap.labels


def test_comments_do_not_disturb_the_issue(harness: Harness) -> None:
    ref = harness.tracker.create(_draft(harness))
    harness.tracker.comment(ref, "Any progress on this?")
    (snap,) = harness.tracker.snapshot()
    assert (snap.state, snap.title) == ("open", "Add alerting")


def test_markers_in_issues_filed_by_anyone_else_are_ignored(harness: Harness) -> None:
    harness.create_as_someone_else(_draft(harness))
    assert list(harness.tracker.snapshot()) == []


def test_every_issue_created_is_listed_once(harness: Harness) -> None:
    refs = [harness.tracker.create(_draft(harness, item_key=f"{n:012d}")) for n in range(25)]
    snaps = harness.tracker.snapshot()
    assert sorted(s.ref.key for s in snaps) == sorted(r.key for r in refs)


def test_only_other_peoples_comments_count_as_human_activity(harness: Harness) -> None:
    ref = harness.tracker.create(_draft(harness))
    harness.tracker.comment(ref, "A note from pmsync")
    assert harness.tracker.activity(ref).last_human is None
    harness.comment_as_someone_else(ref, "Working on it")
    assert harness.tracker.activity(ref).last_human is not None


def test_nudges_are_read_back_from_their_markers(harness: Harness) -> None:
    ref = harness.tracker.create(_draft(harness))
    harness.tracker.comment(ref, f"Any news? {render_nudge_marker('stalled', 1, False)}")
    harness.tracker.comment(ref, f"Still stuck. {render_nudge_marker('overdue', 2, True)}")
    harness.comment_as_someone_else(ref, f"Fake: {render_nudge_marker('stalled', 9, False)}")
    nudges = harness.tracker.activity(ref).nudges
    assert [(n.kind, n.count, n.escalated) for n in nudges] == [
        ("stalled", 1, False),
        ("overdue", 2, True),
    ]


def test_notes_of_items_promised_again_are_read_back_from_their_markers(
    harness: Harness,
) -> None:
    ref = harness.tracker.create(_draft(harness))
    note = "pmsync: this action item was promised again in the post-mortem [B](b.md): #9."
    harness.tracker.comment(ref, f"{note}\n\n{render_remark_marker('a3043043cdb8')}")
    harness.comment_as_someone_else(ref, f"Fake: {render_remark_marker('ffffffffffff')}")
    assert harness.tracker.activity(ref).remarks == ("a3043043cdb8",)
