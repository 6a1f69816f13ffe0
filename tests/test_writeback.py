"""Write-back: post-mortems record each item's issue (and, if asked, that it is done) with the
smallest edit, byte for byte; a second run changes nothing; links become the items' identity."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.extract import extract, extract_file
from connectors.extract.writeback import Filed, edit_markdown, edit_storage
from connectors.sources.markdown_dir import format_of
from syncer.model import ActionItem, Document, DocumentRef, Postmortem, TrackerRef
from syncer.pipeline import sync
from syncer.settings import Settings, load_settings
from tests.fakes.github import FakeGitHub

CORPUS = Path(__file__).parent / "corpus" / "docs"
STORAGE = Path(__file__).parent / "fixtures" / "sources" / "confluence"
SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def gh(n: int) -> TrackerRef:
    return TrackerRef("gh", f"#{n}", f"https://github.com/acme/actions/issues/{n}")


def read(text: str, name: str) -> Postmortem:
    ref = DocumentRef("t", name, name)
    return extract(Document(ref, name, text, format_of(name)))


def facts(item: ActionItem) -> tuple[object, ...]:
    return (item.key, item.title, item.owner, item.due, item.kind, item.priority, item.description)


def filed_for(pm: Postmortem) -> dict[str, Filed]:
    """Every real item filed; every third one closed as completed."""
    return {
        item.key: Filed(gh(100 + n), done=n % 3 == 0)
        for n, item in enumerate(pm.items)
        if not item.placeholder
    }


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_corpus_round_trip(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    before = read(text, path.name)
    filed = filed_for(before)
    edited = edit_markdown(text, before.items, filed, status=True)
    after = read(edited, path.name)

    # The same items, each with its issue among its tickets, the done ones done.
    assert [facts(i) for i in after.items] == [facts(i) for i in before.items]
    for old, new in zip(before.items, after.items, strict=True):
        if old.key in filed:
            assert set(old.tickets) <= set(new.tickets)
            assert filed[old.key].ref.url in new.tickets
            boxed = re.match(r"\s*(?:[-*+]|\d+[.)])\s+\[ \]", text.splitlines()[old.line - 1])
            if filed[old.key].done and boxed:
                assert new.is_done
            elif not filed[old.key].done:
                assert new.status == old.status
        else:
            assert new.tickets == old.tickets

    # Only the items' own lines change (and a table's header and separator, for a new column).
    old_lines, new_lines = text.splitlines(keepends=True), edited.splitlines(keepends=True)
    assert len(new_lines) == len(old_lines)
    allowed = {i.line - 1 for i in before.items} | {i.end_line - 1 for i in before.items}
    allowed |= {n for n, line in enumerate(old_lines) if SEPARATOR.match(line)}
    allowed |= {n - 1 for n, line in enumerate(old_lines) if SEPARATOR.match(line)}
    changed = {n for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b}
    assert changed <= allowed
    assert bool(changed) == any(not i.placeholder for i in before.items)

    # A second run changes nothing.
    assert edit_markdown(edited, after.items, filed, status=True) == edited


def edit(text: str, status: bool = True, done: bool = False, name: str = "pm.md") -> str:
    pm = read(text, name)
    filed = {item.key: Filed(gh(7), done=done) for item in pm.items}
    return edit_markdown(text, pm.items, filed, status=status)


HEAD = "# Outage\n\n## Action items\n\n"
LINK = "[acme/actions#7](https://github.com/acme/actions/issues/7)"


def test_a_ticket_cell_is_filled_and_an_occupied_one_keeps_its_ticket() -> None:
    table = "| Action | Owner | Ticket |\n|---|---|---|\n| Add a probe | Dana |  |\n"
    assert edit(HEAD + table) == HEAD + table.replace("|  |\n", f"| {LINK} |\n")
    busy = "| Action | Owner | Ticket |\n|---|---|---|\n| Add a probe | Dana | OPS-1 |\n"
    assert edit(HEAD + busy).endswith(f"| Add a probe | Dana | OPS-1, {LINK} |\n")


def test_a_table_without_a_ticket_column_gets_one() -> None:
    table = (
        "| Action | Owner |\n| :--- | --- |\n| Add a probe | Dana |\n| Alert on lag | Sam |\n"
        "\nAfter the table.\n"
    )
    assert edit(HEAD + table) == HEAD + (
        "| Action | Owner | Ticket |\n| :--- | --- | --- |\n"
        f"| Add a probe | Dana | {LINK} |\n| Alert on lag | Sam | {LINK} |\n\nAfter the table.\n"
    )
    bare = "Action | Owner\n--- | ---\nAdd a probe | Dana\n"
    assert edit(HEAD + bare) == HEAD + (
        f"Action | Owner | Ticket |\n--- | --- | --- |\nAdd a probe | Dana | {LINK} |\n"
    )


def test_done_sets_the_status_cell_or_ticks_the_box_only_with_status() -> None:
    table = "| Action | Status |\n|---|---|\n| Add a probe | In progress |\n"
    assert edit(HEAD + table, done=True).endswith(f"| Add a probe | Done | {LINK} |\n")
    assert "In progress" in edit(HEAD + table, status=False, done=True)
    task = "- [ ] Add a probe (owner: dana)\n"
    assert edit(HEAD + task, done=True) == HEAD + f"- [x] Add a probe (owner: dana) ({LINK})\n"
    assert edit(HEAD + task, status=False, done=True).startswith(HEAD + "- [ ] ")


def test_list_items_get_the_link_after_their_first_paragraph() -> None:
    text = HEAD + "1. Add a probe for the queue\n   depth, owner: Dana  \n   more\n2. Next\r\n"
    assert edit(text) == HEAD + (
        f"1. Add a probe for the queue\n   depth, owner: Dana  \n   more ({LINK})\n"
        f"2. Next ({LINK})\r\n"
    )


def test_issues_without_a_web_address_are_not_written() -> None:
    text = HEAD + "- Add a probe\n"
    pm = read(text, "pm.md")
    local = TrackerRef("local", "#3", "file:///srv/pmsync/local-tracker.sqlite3#3")
    assert edit_markdown(text, pm.items, {pm.items[0].key: Filed(local)}, status=True) == text


@pytest.mark.parametrize("path", sorted(STORAGE.glob("*.xml")), ids=lambda p: p.name)
def test_confluence_storage_round_trip(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    before = extract_file(path)
    filed = {i.key: Filed(gh(n), done=True) for n, i in enumerate(before.items)}
    edited = edit_storage(text, before.items, filed, status=True)
    after = read(edited, path.name)
    assert [facts(i) for i in after.items] == [facts(i) for i in before.items]
    assert all(filed[i.key].ref.url in i.tickets for i in after.items)
    tasks = [i for i in after.items if i.status in ("open", "done")]
    assert all(i.is_done for i in tasks)
    assert edit_storage(edited, after.items, filed, status=True) == edited


# --- through `pmsync sync`: a checkout, the GitHub fake -------------------------------------


DOC = """# 2026-03-04 Checkout latency

## Action items

| Action | Owner | Due |
|--------|-------|-----|
| Add a p99 latency alert on checkout | Dana Kim | 2026-04-01 |

### Process

- [ ] Load-test checkout at twice last year's peak (owner: Sam Rivera, due 2026-04-15)
- Write the checkout failover runbook, owner: Dana Kim, due 2026-05-01
"""


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Dana Kim", "-c", "user.email=dana@acme.test", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGitHub, Path]]:
    fake = FakeGitHub(collaborators={"dana", "sam"})
    repo = tmp_path / "postmortems"
    repo.mkdir()
    (repo / "2026-03-04-checkout.md").write_text(DOC)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "Add the checkout post-mortem")
    (tmp_path / "people.toml").write_text(
        '[[people]]\nname = "Dana Kim"\ngithub = "dana"\n'
        '[[people]]\nname = "Sam Rivera"\ngithub = "sam"\n'
    )
    with fake.running():
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        (tmp_path / "config.toml").write_text(
            'people_file = "people.toml"\n'
            '[sources.docs]\nkind = "markdown-dir"\npath = "postmortems"\n'
            'write_back = "links+status"\ncommit = true\n'
            f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
            'write_interval_seconds = 0\n[routing]\ndefault = "gh"\n'
        )
        yield fake, repo


def settings_of(repo: Path) -> Settings:
    return load_settings(repo.parent / "config.toml")


def test_sync_writes_links_into_the_checkout_and_commits_them(
    world: tuple[FakeGitHub, Path],
) -> None:
    _fake, repo = world
    path = repo / "2026-03-04-checkout.md"
    dry = sync(settings_of(repo), dry_run=True)
    assert path.read_text() == DOC  # a dry run writes nothing
    assert dry.write_back.edits == []  # nothing filed yet, so nothing to link
    assert dry.write_back.unfiled == 3

    run = sync(settings_of(repo), dry_run=False)
    assert run.counts()["created"] == 3
    assert not run.problems
    text = path.read_text()
    for number in (1, 2, 3):
        assert f"(https://github.test/acme/incidents/issues/{number})" in text
    assert text.splitlines()[0:4] == DOC.splitlines()[0:4]
    log = git(repo, "log", "--format=%s%n%b", "-1")
    assert log.startswith("pmsync: link post-mortem action items to their issues")
    assert "2026-03-04-checkout.md: 3 links" in log
    assert git(repo, "status", "--porcelain") == ""

    again = sync(settings_of(repo), dry_run=False)
    assert again.counts()["created"] == 0
    assert again.write_back.edits == []
    assert path.read_text() == text
    assert len(git(repo, "log", "--oneline").splitlines()) == 2


def test_a_linked_item_keeps_its_issue_when_retitled(world: tuple[FakeGitHub, Path]) -> None:
    fake, repo = world
    sync(settings_of(repo), dry_run=False)
    path = repo / "2026-03-04-checkout.md"
    path.write_text(
        path.read_text().replace(
            "Load-test checkout at twice last year's peak",
            "Run a load test of the whole purchase flow at 3x the busiest hour",
        )
    )
    run = sync(settings_of(repo), dry_run=False)
    assert run.counts()["created"] == 0
    assert run.counts()["updated"] == 1
    assert len(fake.issues) == 3
    assert fake.issues[2]["title"].startswith("Run a load test of the whole purchase flow")


def test_an_issue_closed_as_completed_ticks_the_box_and_the_dry_run_shows_it(
    world: tuple[FakeGitHub, Path],
) -> None:
    fake, repo = world
    sync(settings_of(repo), dry_run=False)
    fake.issues[2].update(state="closed", state_reason="completed", updated_at=fake.stamp())
    path = repo / "2026-03-04-checkout.md"
    before = path.read_text()

    dry = sync(settings_of(repo), dry_run=True)
    (edit,) = dry.write_back.edits
    assert edit.summary == "1 marked done"
    assert path.read_text() == before
    from syncer.writeback import diff

    assert "-- [ ] Load-test" in diff(edit)
    assert "+- [x] Load-test" in diff(edit)

    sync(settings_of(repo), dry_run=False)
    assert "- [x] Load-test checkout" in path.read_text()
    assert sync(settings_of(repo), dry_run=True).write_back.edits == []


def test_a_file_edited_after_it_was_read_keeps_the_edit(world: tuple[FakeGitHub, Path]) -> None:
    _fake, repo = world
    settings = settings_of(repo)
    from syncer import writeback

    original_write = writeback.write

    def someone_edits_first(*args: object, **kwargs: object) -> writeback.WriteBack:
        path = repo / "2026-03-04-checkout.md"
        path.write_text(path.read_text() + "\nReviewed on 2026-03-10.\n")
        return original_write(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writeback, "write", someone_edits_first)
        sync(settings, dry_run=False)
    text = (repo / "2026-03-04-checkout.md").read_text()
    assert text.endswith("\nReviewed on 2026-03-10.\n")
    assert text.count("https://github.test/acme/incidents/issues/") == 3
