"""Trackers whose issues are numbered one after another (GitHub, GitLab, and Jira's keys): what
reading pmsync's issues past a lagging list, and adopting an issue whose creation answer was
lost, cost in requests when other people file issues too."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.base import Tracker
from connectors.trackers.github import GithubOptions, GithubTracker
from connectors.trackers.gitlab import GitlabOptions, GitlabTracker
from connectors.trackers.jira import JiraTracker
from syncer.errors import FatalError
from syncer.identity import content_hash
from syncer.model import IssueDraft
from tests.fakes.github import FakeGitHub, Fault
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.test_tracker_contract import jira_options

OTHERS = 40  # issues other people file between two of pmsync's


@dataclass
class World:
    fake: Any  # FakeGitHub, FakeGitLab or FakeJira
    make: Callable[[], Tracker]  # a tracker as a new run makes it, with nothing kept in memory
    create_path: str  # the path of the create request, for faults
    tracker: Tracker = field(init=False)

    def __post_init__(self) -> None:
        self.tracker = self.make()

    def others_file(self, count: int) -> None:
        for n in range(count):
            if isinstance(self.fake, FakeJira):
                self.fake.add_issue(f"Someone's issue {n}", [], creator="mallory")
            else:
                self.fake.add_issue(f"Someone's issue {n}", "", user="mallory", labels=[])

    def made(self) -> dict[Any, float]:
        """When each issue was made (monotonic), which the fake's lag goes by."""
        return self.fake._created_at if isinstance(self.fake, FakeJira) else self.fake._made  # type: ignore[no-any-return]

    def keys_titled(self, title: str) -> list[str]:
        if isinstance(self.fake, FakeJira):
            issues = self.fake.issues.items()
            return [key for key, issue in issues if issue["fields"]["summary"] == title]
        return [f"#{i.get('number', i.get('iid'))}" for i in self.fake.by_title(title)]

    def creations(self) -> int:
        count = self.fake.count()
        return int(count["POST issues"] + count["POST issue"])

    def reads(self) -> int:
        """Single issues read by number (or key)."""
        count = self.fake.count()
        return int(count["GET issue"] + count["GET issue/{key}"])

    def lists(self) -> int:
        count = self.fake.count()
        return int(count["GET issues"] + count["GET search/jql"] + count["GET search"])


@contextmanager
def _github(write_interval: float = 0.0, **timing: Any) -> Iterator[World]:
    """`timing`: the tracker's `sleep` and `clock`."""
    fake = FakeGitHub()
    with fake.running():
        options = GithubOptions(
            repo="acme/incidents",
            base_url=fake.url,
            token="ghp_" + "0" * 36,
            write_interval=write_interval,
            max_writes_per_minute=0,
            backoff=0.01,
        )
        yield World(fake, lambda: GithubTracker("t", options, **timing), r"/issues$")


@contextmanager
def _gitlab(write_interval: float = 0.0, **timing: Any) -> Iterator[World]:
    fake = FakeGitLab(users={"pmsync-bot": 1, "dana": 2, "mallory": 6})
    with fake.running():
        options = GitlabOptions(
            project="acme/incidents",
            url=fake.url,
            token="glpat-" + "0" * 20,
            write_interval=write_interval,
            backoff=0.01,
        )
        yield World(fake, lambda: GitlabTracker("t", options, **timing), r"/issues$")


def _jira(deployment: str) -> Any:
    @contextmanager
    def world() -> Iterator[World]:
        fake = FakeJira(deployment=deployment)
        with fake.running():
            options = dataclasses.replace(jira_options(fake), backoff=0.01)
            yield World(fake, lambda: JiraTracker("t", options), r"/issue$")

    return world


@pytest.fixture(params=[_github, _gitlab], ids=["github", "gitlab"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with request.param() as made:
        yield made


@pytest.fixture(
    params=[_github, _gitlab, _jira("cloud"), _jira("datacenter")],
    ids=["github", "gitlab", "jira-cloud", "jira-datacenter"],
)
def any_world(request: pytest.FixtureRequest) -> Iterator[World]:
    with request.param() as made:
        yield made


def _draft(title: str, key: str) -> IssueDraft:
    draft = IssueDraft(
        key, "pm-1", title, f"{title}\n\nDetails.", (), date(2026, 4, 1), ("pmsync",)
    )
    return IssueDraft(
        **{**{k: getattr(draft, k) for k in draft.__slots__}, "content_hash": content_hash(draft)}
    )


def test_issues_the_list_does_not_show_yet_are_read_past_other_peoples(any_world: World) -> None:
    """The list lags: pmsync's newest issue is not in it, nor the three of other people's filed
    after it, and the next run (on another machine: nothing kept) reads. After its newest
    listed issue come forty of other people's; it reads the first, asks once for the newest
    number, and reads on from there, not forty issues one by one."""
    world = any_world
    world.fake.clock = lambda: datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    first = world.tracker.create(_draft("Add alerting", "0123456789ab"))
    world.others_file(OTHERS)
    made = world.made()
    for number in list(made):  # an hour old: listed
        made[number] -= 3600
    world.fake.clock = lambda: datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    world.fake.lag = 60.0
    newest = world.tracker.create(_draft("Add a runbook", "ba9876543210"))
    world.others_file(3)
    world.fake.reset_counts()
    titles = {snap.title: snap.ref.key for snap in world.make().snapshot()}
    assert titles == {"Add alerting": first.key, "Add a runbook": newest.key}
    # The first after the list; the newest listed, pmsync's newest, the three after it and the
    # number after those.
    assert world.reads() <= 7
    assert world.lists() <= 3  # pmsync's issues (one page), the newest number


def test_a_lost_creation_answer_is_adopted_past_other_peoples_issues(any_world: World) -> None:
    """Forty of other people's issues come between pmsync's last issue and the one whose
    creation answer is lost, which the list already shows as the project's newest. GitHub and
    GitLab find it on the newest page of pmsync's issues; Jira reads the key after pmsync's
    last, then skips ahead to the newest, and reads it."""
    world = any_world
    world.others_file(OTHERS)
    world.tracker.create(_draft("Add alerting", "0123456789ab"))
    world.others_file(OTHERS)
    world.fake.faults.append(Fault("POST", world.create_path, kind="after", status=502))
    world.fake.reset_counts()
    ref = world.tracker.create(_draft("Add a runbook", "ba9876543210"))
    assert world.keys_titled("Add a runbook") == [ref.key]  # adopted, not filed twice
    assert world.creations() == 1
    assert world.reads() <= (3 if isinstance(world.fake, FakeJira) else 1)
    assert world.lists() <= 1


def test_more_of_pmsyncs_issues_than_a_page_are_read_a_page_at_a_time(any_world: World) -> None:
    """A hundred and five of pmsync's issues after a hundred and twenty of other people's: the
    list is read in two pages of pmsync's issues (never the others'), each issue once, and
    nothing is read one by one but the number after the newest."""
    world = any_world
    world.fake.clock = lambda: datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    world.others_file(120)
    keys = {world.tracker.create(_draft(f"Action {n}", f"{n:012x}")).key for n in range(105)}
    for number in list(world.made()):  # an hour old: listed
        world.made()[number] -= 3600
    world.fake.clock = lambda: datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    world.fake.reset_counts()
    snaps = world.tracker.snapshot()
    assert sorted(snap.ref.key for snap in snaps) == sorted(keys)
    assert {snap.title for snap in snaps} == {f"Action {n}" for n in range(105)}
    assert world.lists() == 2
    assert world.reads() <= 1


@pytest.mark.parametrize("made", [_github, _gitlab], ids=["github", "gitlab"])
def test_creations_are_spaced_by_the_write_interval_and_reads_are_not(made: Any) -> None:
    """By a clock that does not move, the second creation waits the whole interval."""
    waits: list[float] = []
    with made(1.5, sleep=waits.append, clock=lambda: 100.0) as world:
        world.tracker.snapshot()
        world.tracker.create(_draft("Add alerting", "0123456789ab"))
        world.tracker.snapshot()
        world.tracker.create(_draft("Add a runbook", "ba9876543210"))
        world.tracker.snapshot()
    assert waits == [1.5]


def test_a_creation_answered_without_its_number_is_found_not_taken_as_made(world: World) -> None:
    """A proxy answers 201 with a body that is no issue: pmsync looks for what it may have made,
    finds nothing, and files once more; the issue it names is the one filed."""
    world.fake.faults.append(Fault("POST", world.create_path, status=201, body={"ok": True}))
    ref = world.tracker.create(_draft("Add alerting", "0123456789ab"))
    assert world.keys_titled("Add alerting") == [ref.key]


@pytest.mark.parametrize("made", [_github, _gitlab], ids=["github", "gitlab"])
def test_a_lost_creation_is_adopted_when_others_file_many_issues_while_pmsync_waits(
    made: Any,
) -> None:
    """The creation's answer is lost; while pmsync waits before looking for it, other people
    file forty issues. pmsync's own newest issues still show it: one issue, adopted."""
    worlds: list[World] = []
    with made(sleep=lambda seconds: worlds[0].others_file(OTHERS)) as world:
        worlds.append(world)
        world.fake.faults.append(Fault("POST", world.create_path, kind="after", status=502))
        ref = world.tracker.create(_draft("Add a runbook", "ba9876543210"))
        assert world.keys_titled("Add a runbook") == [ref.key]
        assert world.creations() == 1


def test_a_listed_entry_with_no_number_is_an_unexpected_answer_named(world: World) -> None:
    world.fake.faults.append(
        Fault("GET", r"/issues$", status=200, body=[{"title": "no number"}])  # type: ignore[arg-type]
    )
    with pytest.raises(FatalError, match=r"cannot be listed \(unexpected answer: \"\{'title'"):
        world.tracker.snapshot()


def test_the_first_issue_of_a_new_project_is_adopted_when_its_answer_is_lost(
    any_world: World,
) -> None:
    """Nothing is listed yet (the list lags): the number read first is 1."""
    world = any_world
    world.fake.lag = 60.0
    world.fake.faults.append(Fault("POST", world.create_path, kind="after", status=502))
    ref = world.tracker.create(_draft("Add alerting", "0123456789ab"))
    assert world.keys_titled("Add alerting") == [ref.key]
    assert world.creations() == 1
