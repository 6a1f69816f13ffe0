"""A week of a post-mortem's ordinary life, on the stateful fake GitHub and on the local
tracker: renamed, moved, read while being written, items taken out and put back, deleted.
Nothing is filed twice, nothing is closed for good by a read that caught a file half written,
and what does happen is said."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connectors.trackers.local import LocalTracker
from syncer.model import IssueSnapshot
from syncer.pipeline import SyncRun, sync
from syncer.report import collect, figures
from syncer.settings import load_settings
from tests.fakes.github import FakeGitHub

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DOC = """# Disk full on the build cache

## Action items

| Action | Owner | Due |
|---|---|---|
| Alert when the cache volume is above 85% | Dana Kim | 2026-12-01 |
| Expire build artefacts older than 30 days | Sam Rivera | 2026-12-08 |
| Add a runbook step to grow the volume online | Dana Kim | 2026-12-15 |
| Load-test the cache with a year of artefacts | Sam Rivera | 2026-12-22 |
"""
PEOPLE = """
[[people]]
name = "Dana Kim"
github = "dana"

[[people]]
name = "Sam Rivera"
github = "sam"
"""
BASE = "https://github.test/acme/postmortems/blob/main/"


@dataclass
class World:
    root: Path
    fake: FakeGitHub | None
    kind: str

    @property
    def docs(self) -> Path:
        return self.root / "pm"

    def sync(self, at: datetime = T0) -> SyncRun:
        return sync(load_settings(self.root / "config.toml"), dry_run=False, now=at)

    def issues(self) -> list[IssueSnapshot]:
        settings = load_settings(self.root / "config.toml")
        store = settings.path(settings.state_dir) / "local-tracker.sqlite3"
        if self.fake is None:
            return list(LocalTracker("t", store, clock=lambda: T0).snapshot())
        from syncer.pipeline import build_trackers

        return list(build_trackers(settings)["t"].snapshot())

    def writes(self) -> int:
        return self.fake.writes() if self.fake else 0

    def reset(self) -> None:
        if self.fake:
            self.fake.reset_counts()


@pytest.fixture(params=["github", "local"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    (tmp_path / "pm").mkdir()
    (tmp_path / "pm" / "e-good.md").write_text(DOC)
    (tmp_path / "people.toml").write_text(PEOPLE)
    config = (
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "pm"\n'
        f'link_base_url = "{BASE}"\n[routing]\ndefault = "t"\n'
    )
    if request.param == "local":
        (tmp_path / "config.toml").write_text(config + '[trackers.t]\nkind = "local"\n')
        yield World(tmp_path, None, "local")
        return
    fake = FakeGitHub(collaborators={"dana", "sam"})
    with fake.running():
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "d0c" * 12)
        (tmp_path / "config.toml").write_text(
            config + f'[trackers.t]\nkind = "github"\nrepo = "acme/incidents"\n'
            f'base_url = "{fake.url}"\nwrite_interval_seconds = 0\n'
        )
        yield World(tmp_path, fake, "github")


def _ops(run: SyncRun) -> list[str]:
    return sorted(o.action.op if o.ok else f"{o.action.op} failed" for o in run.outcomes)


def _counts(run: SyncRun) -> tuple[int, int, int]:
    counts = run.counts()
    return counts["created"], counts["updated"], counts["closed"]


@pytest.mark.parametrize(
    "new_path",
    ["2026-11-20-disk.md", "2026/2026-11-20-disk.md"],
    ids=["renamed", "moved-to-a-sub-folder"],
)
def test_a_moved_document_keeps_its_issues(world: World, new_path: str) -> None:
    assert _counts(world.sync()) == (4, 0, 0)
    keys = sorted(snap.item_key for snap in world.issues())
    target = world.docs / new_path
    target.parent.mkdir(parents=True, exist_ok=True)
    (world.docs / "e-good.md").rename(target)
    world.reset()
    run = world.sync(T0 + timedelta(hours=1))
    assert _counts(run) == (0, 4, 0)  # each issue's link, once
    assert f"moved e-good.md → {new_path}: its issues follow it" in run.notes
    assert all(o.action.reason.startswith("moved e-good.md") for o in run.outcomes)
    if world.fake:
        assert world.writes() == 4
    issues = world.issues()
    assert sorted(snap.item_key for snap in issues) == keys  # the keys they were filed under
    assert all(BASE + new_path in snap.body for snap in issues)
    assert all(snap.state == "open" for snap in issues)
    world.reset()
    again = world.sync(T0 + timedelta(hours=2))
    assert _counts(again) == (0, 0, 0)
    assert world.writes() == 0
    # Every output still counts the post-mortem once, under its title, with its four items.
    report = collect(load_settings(world.root / "config.toml"), now=T0 + timedelta(hours=3))
    assert {(r.postmortem, r.status) for r in report.rows} == {
        ("Disk full on the build cache", "open")
    }
    totals = figures(report)["totals"]
    assert (totals["postmortems"], totals["items"], totals["not_synced"]) == (1, 4, 0)


def test_a_document_renamed_and_edited_keeps_its_issues(world: World) -> None:
    world.sync()
    text = DOC.replace("older than 30 days", "older than 14 days")
    (world.docs / "2026-11-20-disk.md").write_text(text)
    (world.docs / "e-good.md").unlink()
    world.reset()
    run = world.sync(T0 + timedelta(hours=1))
    assert _counts(run) == (0, 4, 0)
    titles = sorted(snap.title for snap in world.issues())
    assert "Expire build artefacts older than 14 days" in titles
    assert len(titles) == 4
    assert _counts(world.sync(T0 + timedelta(hours=2))) == (0, 0, 0)


@pytest.mark.parametrize(
    "cut",
    [
        DOC.index("## Action items"),  # before the table
        DOC.index("| Add a runbook"),  # inside it, at a row's end
        DOC.index("| Add a runbook") + 15,  # inside a row
    ],
    ids=["before-the-table", "between-rows", "inside-a-row"],
)
def test_a_document_read_half_written_closes_nothing_and_files_no_junk(
    world: World, cut: int
) -> None:
    world.sync()
    (world.docs / "e-good.md").write_text(DOC[:cut])
    world.reset()
    run = world.sync(T0 + timedelta(minutes=5))
    assert _counts(run) == (0, 0, 0)
    assert world.writes() == 0
    assert any(note.startswith("warning: e-good.md: read held") for note in run.notes)
    assert all(snap.state == "open" for snap in world.issues())
    (world.docs / "e-good.md").write_text(DOC)  # the writer is done
    world.reset()
    whole = world.sync(T0 + timedelta(minutes=10))
    assert _counts(whole) == (0, 0, 0)
    assert whole.notes == []
    assert world.writes() == 0


def test_a_removal_from_the_end_is_believed_when_read_again(world: World) -> None:
    """Taking out the last rows looks like a file read half written: the first run holds it,
    the next run reads the same content and closes the items."""
    world.sync()
    (world.docs / "e-good.md").write_text(DOC[: DOC.index("| Add a runbook")])
    assert _counts(world.sync(T0 + timedelta(minutes=5))) == (0, 0, 0)
    run = world.sync(T0 + timedelta(minutes=10))
    assert _counts(run) == (0, 0, 2)
    assert sorted(snap.state for snap in world.issues()) == ["closed", "closed", "open", "open"]


def test_an_item_taken_out_and_put_back_is_closed_then_reopened(world: World) -> None:
    world.sync()
    row = "| Expire build artefacts older than 30 days | Sam Rivera | 2026-12-08 |\n"
    (world.docs / "e-good.md").write_text(DOC.replace(row, ""))
    closed = world.sync(T0 + timedelta(hours=1))
    assert _counts(closed) == (0, 0, 1)
    (snap,) = [s for s in world.issues() if s.state == "closed"]
    assert snap.state_reason == "not_planned"
    (world.docs / "e-good.md").write_text(DOC.replace("2026-12-08", "2026-12-09"))
    world.reset()
    back = world.sync(T0 + timedelta(hours=2))
    assert _ops(back).count("reopen") == 1
    assert back.counts()["reopened"] == 1
    assert back.counts()["created"] == 0
    assert all(s.state == "open" for s in world.issues())
    (again,) = [s for s in world.issues() if s.ref == snap.ref]
    assert again.due == date(2026, 12, 9)  # put back with a new date: reopened with it
    if world.fake:
        number = int(snap.ref.key.lstrip("#"))
        said = [c["body"] for c in world.fake.comments[number]]
        assert [b.split(":")[0] for b in said] == ["Closed by pmsync", "Reopened by pmsync"]
    assert _counts(world.sync(T0 + timedelta(hours=3))) == (0, 0, 0)


def test_a_deleted_document_closes_its_issues_only_after_the_grace(world: World) -> None:
    world.sync()
    (world.docs / "e-good.md").unlink()
    first = world.sync(T0 + timedelta(hours=1))
    assert _counts(first) == (0, 0, 0)
    assert any(
        note.startswith("e-good.md is missing from its source: its 4 open issues stay open")
        for note in first.notes
    )
    assert _counts(world.sync(T0 + timedelta(hours=20))) == (0, 0, 0)
    late = world.sync(T0 + timedelta(hours=26))
    assert _counts(late) == (0, 0, 4)
    assert {s.state_reason for s in world.issues()} == {"not_planned"}


def test_a_document_back_within_the_grace_changes_nothing(world: World) -> None:
    world.sync()
    (world.docs / "e-good.md").rename(world.root / "aside.md")
    assert _counts(world.sync(T0 + timedelta(hours=1))) == (0, 0, 0)
    (world.root / "aside.md").rename(world.docs / "e-good.md")
    world.reset()
    assert _counts(world.sync(T0 + timedelta(hours=2))) == (0, 0, 0)
    assert world.writes() == 0
    # Missed again later, the grace starts over.
    (world.docs / "e-good.md").unlink()
    assert _counts(world.sync(T0 + timedelta(hours=30))) == (0, 0, 0)


def test_a_file_moved_unchanged_is_followed_by_its_content() -> None:
    """As Git sees a rename: the very text a vanished document had is the same document,
    whatever its issues are called now (people retitle issues in the tracker)."""
    from syncer.continuity import find_moves
    from syncer.model import ActionItem, DocumentRef, Postmortem, TrackerRef

    ref = DocumentRef("docs", "b.md", "b.md")
    moved = Postmortem("b.md", ref, "Disk", items=(ActionItem("k1", "b.md", "Grow the volume"),))
    renamed_by_people = IssueSnapshot(
        TrackerRef("t", "#1", ""), "k0", "open", "Storage: capacity plan", "", postmortem_id="a.md"
    )
    assert find_moves([moved], [renamed_by_people], {"b.md"}) == []
    (move,) = find_moves([moved], [renamed_by_people], {"b.md"}, same={"b.md": "a.md"})
    assert (move.old, move.new) == ("a.md", "b.md")


def test_git_s_rename_detection_pairs_a_document_whose_items_changed_much(
    tmp_path: Path,
) -> None:
    """Half the items rewritten in the commit that renamed the file: the titles alone do not
    say it is the same post-mortem, Git does. The two kept items keep their issues."""
    import subprocess

    root = tmp_path
    (root / "pm").mkdir()
    (root / "pm" / "e-good.md").write_text(DOC)
    (root / "people.toml").write_text(PEOPLE)
    (root / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "pm"\n'
        '[trackers.t]\nkind = "local"\n[routing]\ndefault = "t"\n'
    )

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
            cwd=root / "pm",
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "Disk post-mortem")
    world = World(root, None, "local")
    world.sync()
    git("mv", "e-good.md", "2026-11-20-disk.md")
    rewritten = DOC.replace(
        "Add a runbook step to grow the volume online", "Page the storage on-call at 95%"
    ).replace("Load-test the cache with a year of artefacts", "Shard the cache per team")
    (root / "pm" / "2026-11-20-disk.md").write_text(rewritten)
    git("commit", "-qam", "Rename, and rewrite two items")
    run = world.sync(T0 + timedelta(hours=1))
    assert "moved e-good.md → 2026-11-20-disk.md: its issues follow it" in run.notes
    assert _counts(run) == (2, 2, 2)  # two new items; two kept (link updated); two removed
    assert sorted(s.state for s in world.issues()) == [
        "closed",
        "closed",
        "open",
        "open",
        "open",
        "open",
    ]


def test_a_document_moved_twice_is_named_by_its_last_path(world: World) -> None:
    world.sync()
    (world.docs / "e-good.md").rename(world.docs / "disk.md")
    assert world.sync(T0 + timedelta(hours=1)).notes == [
        "moved e-good.md → disk.md: its issues follow it"
    ]
    assert world.sync(T0 + timedelta(hours=2)).notes == []  # said once
    (world.docs / "disk.md").rename(world.docs / "2026-disk.md")
    run = world.sync(T0 + timedelta(hours=3))
    assert run.notes == ["moved disk.md → 2026-disk.md: its issues follow it"]
    assert _counts(run) == (0, 4, 0)
    assert all(BASE + "2026-disk.md" in snap.body for snap in world.issues())


def test_a_plan_of_other_files_says_nothing_of_the_configured_post_mortems(
    world: World, tmp_path: Path
) -> None:
    """`pmsync plan FILE` reads that file instead of the configured sources: the post-mortems
    it does not read are not missing, and nothing of theirs closes, however long after."""
    from connectors.sources.folder import MarkdownDirSource

    world.sync()
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "draft.md").write_text(DOC.replace("Disk full", "Draft").replace("85%", "80%"))
    settings = load_settings(world.root / "config.toml")
    for hours in (1, 48):
        run = sync(
            settings,
            dry_run=True,
            now=T0 + timedelta(hours=hours),
            sources=[MarkdownDirSource("cli", other, ["draft.md"], history=False)],
        )
        assert run.notes == []  # neither missing nor moved (its titles are much the same)
        assert {o.action.op for o in run.outcomes} == {"create"}
    assert _counts(world.sync(T0 + timedelta(hours=49))) == (0, 0, 0)
