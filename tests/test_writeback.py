"""Write-back: post-mortems record each item's issue (and, if asked, that it is done) with the
smallest edit, byte for byte; a second run changes nothing; links become the items' identity."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from connectors.extract import extract, extract_file, format_of
from connectors.extract.writeback import Filed, edit_markdown, edit_storage
from syncer import writeback
from syncer.cli import main
from syncer.errors import ConfigError
from syncer.model import ActionItem, Document, DocumentRef, Postmortem, TrackerRef
from syncer.pipeline import sync
from syncer.settings import Settings, load_settings
from tests.fakes.github import FakeGitHub
from tests.fakes.sources import FakeConfluence, FakeGithubRepo, Page

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
    statuses = [i for i, old in zip(after.items, before.items, strict=True) if old.status]
    assert all(i.is_done for i in statuses)  # status macros in table rows say DONE
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


def tracker_toml(fake: FakeGitHub) -> str:
    """The GitHub fake as the tracker every post-mortem goes to."""
    return (
        f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
        'write_interval_seconds = 0\n[routing]\ndefault = "gh"\n'
    )


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
            'write_back = "links+status"\ncommit = true\n' + tracker_toml(fake)
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
    assert "-- [ ] Load-test" in writeback.diff(edit)
    assert "+- [x] Load-test" in writeback.diff(edit)

    sync(settings_of(repo), dry_run=False)
    assert "- [x] Load-test checkout" in path.read_text()
    assert sync(settings_of(repo), dry_run=True).write_back.edits == []


def test_a_file_edited_after_it_was_read_keeps_the_edit(world: tuple[FakeGitHub, Path]) -> None:
    _fake, repo = world
    settings = settings_of(repo)
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


# --- a pull request on a github-repo source ---------------------------------------------------


@pytest.fixture
def repo_world(
    tmp_path: Path, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeGithubRepo, FakeGitHub, Settings]]:
    source = FakeGithubRepo({"postmortems/2026-03-04-checkout.md": DOC.encode(), "README.md": b"x"})
    source.register(mock)
    tracker = FakeGitHub(collaborators={"dana", "sam"})
    with tracker.running():
        mock.add_passthru(tracker.url)
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        (tmp_path / "config.toml").write_text(
            '[sources.repo]\nkind = "github-repo"\nrepo = "acme/postmortems"\n'
            f'path = "postmortems"\ntoken = "{source.token}"\nwrite_back = "links+status"\n'
            + tracker_toml(tracker)
        )
        yield source, tracker, load_settings(tmp_path / "config.toml")


def test_write_back_opens_one_pull_request_and_updates_it_in_place(
    repo_world: tuple[FakeGithubRepo, FakeGitHub, Settings],
) -> None:
    source, tracker, settings = repo_world
    path = "postmortems/2026-03-04-checkout.md"
    first = sync(settings, dry_run=False)
    assert not first.problems
    assert list(source.pulls) == [1]
    pull = source.pulls[1]
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("pmsync/write-back", "main")
    assert "`postmortems/2026-03-04-checkout.md`: 3 links" in pull["body"]
    proposed = source.files_at("pmsync/write-back")[path].decode()
    assert proposed.count("https://github.test/acme/incidents/issues/") == 3
    assert source.files[path] == DOC.encode()  # the default branch is untouched

    writes = len(source.writes)
    sync(settings, dry_run=False)  # nothing changed: the pull request is left as it is
    assert len(source.writes) == writes

    # Someone adds an item on the default branch; the next run updates the same pull request.
    source.files[path] += (
        b"- Page the payments on-call when checkout errors pass 1%, owner: Sam Rivera\n"
    )
    sync(settings, dry_run=False)
    assert list(source.pulls) == [1]
    assert source.pulls[1]["state"] == "open"
    proposed = source.files_at("pmsync/write-back")[path].decode()
    assert proposed.count("https://github.test/acme/incidents/issues/") == 4
    assert "Page the payments on-call" in proposed
    assert source.writes[writes:] == ["POST tree", "POST commit", "PATCH ref", "PATCH pull"]

    # Merged: the links are on the default branch; nothing more to propose.
    source.merge(1)
    writes = len(source.writes)
    merged = sync(settings, dry_run=False)
    assert merged.write_back.edits == []
    assert len(source.writes) == writes
    assert len(tracker.issues) == 4


def test_a_closed_issue_is_marked_done_in_the_pull_request(
    repo_world: tuple[FakeGithubRepo, FakeGitHub, Settings],
) -> None:
    source, tracker, settings = repo_world
    sync(settings, dry_run=False)
    source.merge(1)
    tracker.issues[2].update(state="closed", state_reason="completed", updated_at=tracker.stamp())
    sync(settings, dry_run=False)
    assert [p["state"] for p in source.pulls.values()] == ["closed", "open"]
    proposed = source.files_at("pmsync/write-back")["postmortems/2026-03-04-checkout.md"]
    assert b"- [x] Load-test checkout at twice last year's peak" in proposed
    assert "1 marked done" in source.pulls[2]["body"]


# --- a Confluence page ------------------------------------------------------------------------


@pytest.fixture
def wiki_world(
    tmp_path: Path, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeConfluence, FakeGitHub, Settings]]:
    body = (STORAGE / "10001.xml").read_text(encoding="utf-8")
    wiki = FakeConfluence({"10001": Page("Payments API outage", body, version=4)})
    wiki.register(mock)
    tracker = FakeGitHub(collaborators={"dana", "sam"})
    (tmp_path / "token").write_text("atl-api-token-0123456789")
    with tracker.running():
        mock.add_passthru(tracker.url)
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        (tmp_path / "config.toml").write_text(
            f'[sources.wiki]\nkind = "confluence"\nurl = "{wiki.site}"\nspace = "SRE"\n'
            'email = "pmsync@acme.test"\napi_token_file = "token"\nwrite_back = "links+status"\n'
            + tracker_toml(tracker)
        )
        yield wiki, tracker, load_settings(tmp_path / "config.toml")


def test_confluence_pages_get_links_as_the_next_version(
    wiki_world: tuple[FakeConfluence, FakeGitHub, Settings],
) -> None:
    wiki, tracker, settings = wiki_world
    run = sync(settings, dry_run=False)
    assert not run.problems
    assert wiki.updates == [("10001", 5)]
    page = wiki.pages["10001"].body
    assert page.count('href="https://github.test/acme/incidents/issues/') == len(tracker.issues)
    again = sync(settings, dry_run=False)
    assert again.write_back.edits == []
    assert wiki.updates == [("10001", 5)]


def test_an_edit_made_between_read_and_write_is_kept(
    wiki_world: tuple[FakeConfluence, FakeGitHub, Settings],
) -> None:
    wiki, tracker, settings = wiki_world

    def someone_edits(page_id: str) -> None:
        page = wiki.pages[page_id]
        page.body = page.body.replace(
            "<h2>Root cause</h2>", "<h2>Root cause</h2><p>Added by Priya during review.</p>"
        )
        page.version += 1

    wiki.before_update = someone_edits
    run = sync(settings, dry_run=False)
    assert not run.problems
    assert wiki.conflicts == 1
    assert wiki.updates == [("10001", 6)]
    page = wiki.pages["10001"].body
    assert "<p>Added by Priya during review.</p>" in page
    assert page.count('href="https://github.test/acme/incidents/issues/') == len(tracker.issues)


def test_closed_tasks_are_completed_on_the_page(
    wiki_world: tuple[FakeConfluence, FakeGitHub, Settings],
) -> None:
    wiki, tracker, settings = wiki_world
    sync(settings, dry_run=False)
    tracker.issues[1].update(state="closed", state_reason="completed", updated_at=tracker.stamp())
    sync(settings, dry_run=False)
    page = wiki.pages["10001"].body
    first_task = page[page.index("<ac:task>") : page.index("</ac:task>")]
    assert "<ac:task-status>complete</ac:task-status>" in first_task
    assert "Version the payments settings file" in first_task


def test_sync_dry_run_prints_the_diff_it_would_write(
    world: tuple[FakeGitHub, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, repo = world
    config = str(repo.parent / "config.toml")
    assert main(["--config", config, "sync"]) == 0
    fake.issues[2].update(state="closed", state_reason="completed", updated_at=fake.stamp())
    capsys.readouterr()
    before = (repo / "2026-03-04-checkout.md").read_text()
    assert main(["--config", config, "sync", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would write back to {repo / '2026-03-04-checkout.md'}: 1 marked done" in out
    assert "--- a/2026-03-04-checkout.md\n+++ b/2026-03-04-checkout.md\n" in out
    assert "\n+- [x] Load-test checkout" in out
    assert (repo / "2026-03-04-checkout.md").read_text() == before
    assert main(["--config", config, "plan", "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["write_back"]
    assert entry["change"] == "1 marked done"
    assert "+- [x] Load-test checkout" in entry["diff"]


def test_google_drive_cannot_be_written_back(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[sources.d]\nkind = "google-drive"\nfolder_id = "abc"\nwrite_back = "links"\n'
    )
    with pytest.raises(ConfigError, match=r"sources\.d\.write_back: .*read only"):
        load_settings(tmp_path / "config.toml")


def test_a_file_changed_on_the_branch_after_reading_is_edited_as_it_is_now(
    repo_world: tuple[FakeGithubRepo, FakeGitHub, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _tracker, settings = repo_world
    path = "postmortems/2026-03-04-checkout.md"
    original_write = writeback.write

    def someone_pushes_first(*args: object, **kwargs: object) -> writeback.WriteBack:
        source.files[path] = source.files[path].replace(b"# 2026-03-04", b"# 2026-03-04 (SEV-2)")
        return original_write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writeback, "write", someone_pushes_first)
    assert not sync(settings, dry_run=False).problems
    proposed = source.files_at("pmsync/write-back")[path].decode()
    assert proposed.startswith("# 2026-03-04 (SEV-2) Checkout latency\n")
    assert proposed.count("https://github.test/acme/incidents/issues/") == 3


def test_a_page_that_keeps_changing_is_reported_and_left_for_the_next_run(
    wiki_world: tuple[FakeConfluence, FakeGitHub, Settings],
) -> None:
    wiki, _tracker, settings = wiki_world

    def always_someone_first(page_id: str) -> None:
        wiki.pages[page_id].version += 1
        wiki.before_update = always_someone_first

    wiki.before_update = always_someone_first
    run = sync(settings, dry_run=False)
    assert [p.message for p in run.problems] == [
        "write-back: https://acme.atlassian.net/wiki/spaces/SRE/pages/10001: the page kept "
        "changing while pmsync wrote; the next run tries again"
    ]
    assert wiki.updates == []
    wiki.before_update = None
    assert not sync(settings, dry_run=False).problems
    assert len(wiki.updates) == 1
