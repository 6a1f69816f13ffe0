"""What each document source does beyond the shared contract: how it pages, where its links
point, which export it asks for, how it reads its settings, and what a malformed answer gives."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses

from connectors.sources import git_history
from connectors.sources.confluence import ConfluenceOptions, ConfluenceSource, confluence_cql
from connectors.sources.folder import MarkdownDirSource
from connectors.sources.github_repo import GithubRepoSource, RepoOptions
from connectors.sources.google_drive import WORD_MIME, DriveOptions, GoogleDriveSource
from connectors.sources.repository import matches
from connectors.trackers.github import GithubOptions
from syncer.cli import main
from syncer.errors import ConfigError
from syncer.pipeline import build_sources, read_configured
from syncer.reading import read_documents
from syncer.settings import load_settings, secret_values
from tests.fakes.keys import service_account_file
from tests.fakes.sources import (
    DOC,
    DriveFile,
    Failure,
    FakeConfluence,
    FakeDrive,
    FakeGithubRepo,
    Page,
)
from tests.test_source_contract import FIXTURES, no_sleep

PM = b"# Outage\n\n## Action items\n\n- [ ] Add a probe for the queue depth (owner: dana, due 2026-12-01)\n"


def repo_source(fake: FakeGithubRepo, **options: object) -> GithubRepoSource:
    auth = GithubOptions(repo=fake.repo, base_url=fake.api, token=fake.token, backoff=0.0)
    return GithubRepoSource("repo", RepoOptions(auth, **options), sleep=no_sleep)  # type: ignore[arg-type]


# --- github-repo -------------------------------------------------------------------------------


def test_globs_follow_path_rules() -> None:
    assert matches("a.md", ["**/*.md"])
    assert matches("x/y/a.md", ["**/*.md"])
    assert not matches("x/a.md", ["*.md"])
    assert matches("2026/a.md", ["20??/*.md"])
    assert not matches("a.mdx", ["**/*.md"])
    assert matches("drafts/a.md", ["drafts/**"])


def test_repository_reads_the_default_branch_in_one_listing(mock: responses.RequestsMock) -> None:
    files = {f"pm/{n:03}.md": PM.replace(b"queue", f"queue {n}".encode()) for n in range(250)}
    files |= {"pm/drafts/wip.md": PM, "README.md": b"# Repo\n"}
    fake = FakeGithubRepo(files, branch="trunk")
    fake.register(mock)
    source = repo_source(fake, path="pm/", exclude=("drafts/**",))
    refs = source.list()
    assert len(refs) == 250
    assert refs[0].id == "000.md"
    assert fake.requests == 2
    assert fake.tree_requests == 1
    assert refs[0].link == "https://github.com/acme/postmortems/blob/trunk/pm/000.md"
    assert refs[0].uri == "acme/postmortems:pm/000.md"


def test_a_truncated_listing_is_completed_by_walking_the_folder(
    mock: responses.RequestsMock,
) -> None:
    files = {f"pm/{y}/{n}.md": PM for y in (2024, 2025) for n in range(30)}
    files |= {f"src/{n}.py": b"pass\n" for n in range(100)}
    fake = FakeGithubRepo(files)
    fake.truncate = True
    fake.register(mock)
    refs = repo_source(fake, branch="main", path="pm").list()
    assert {ref.id for ref in refs} == {f"{y}/{n}.md" for y in (2024, 2025) for n in range(30)}
    # One cut-short listing, then the root, `pm` and its two year folders; never `src`.
    assert fake.tree_requests == 5


def test_enterprise_server_links_point_at_its_own_host(mock: responses.RequestsMock) -> None:
    fake = FakeGithubRepo({"a b.md": PM}, api="https://git.acme.test/api/v3")
    fake.register(mock)
    ref = repo_source(fake, branch="main").list()[0]
    assert ref.link == "https://git.acme.test/acme/postmortems/blob/main/a%20b.md"
    assert read_documents([repo_source(fake, branch="main")]).postmortems[0].items


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"\xff\xfe not utf-8", "not UTF-8 text"), (b"x" * (5 * 1024 * 1024 + 1), "5 MiB limit")],
)
def test_unreadable_files_are_reported_by_path(
    mock: responses.RequestsMock, content: bytes, says: str
) -> None:
    fake = FakeGithubRepo({"bad.md": content, "good.md": PM})
    fake.register(mock)
    reading = read_documents([repo_source(fake, branch="main")])
    (problem,) = reading.problems
    assert re.fullmatch(r"acme/postmortems:bad\.md(:\d+)?", problem.where)  # its line, if any
    assert says in reading.problems[0].message
    assert [pm.ref.id for pm in reading.postmortems] == ["good.md"]


# --- confluence --------------------------------------------------------------------------------


def test_cql_combines_every_selector() -> None:
    cql = confluence_cql(space="SRE", label="post-mortem", ancestor="123", cql="created > 2024")
    assert cql == (
        'type = page AND space = "SRE" AND label = "post-mortem" AND ancestor = "123"'
        " AND (created > 2024)"
    )
    assert confluence_cql(space='A"B', label=None, ancestor=None, cql=None).endswith('"A\\"B"')


def cloud_source(
    fake: FakeConfluence, sleep: Callable[[float], None] = no_sleep
) -> ConfluenceSource:
    options = ConfluenceOptions(
        url=fake.site + "/wiki/",
        deployment="cloud",
        cql='space = "SRE"',
        email="pmsync@acme.test",
        api_token="atl-api-token-0123456789",
        page_size=2,
    )
    return ConfluenceSource("wiki", options, sleep=sleep)


def test_confluence_search_follows_next_links(mock: responses.RequestsMock) -> None:
    pages = {str(n): Page(f"PM {n}", "<p>x</p>", version=n % 5 + 1) for n in range(100, 107)}
    fake = FakeConfluence(pages)
    fake.register(mock)
    refs = cloud_source(fake).list()
    assert [ref.id for ref in refs] == [str(n) for n in range(100, 107)]
    assert len(fake.searches) == 4
    assert "cursor" in fake.searches[1]
    assert refs[0].link == "https://acme.atlassian.net/wiki/spaces/SRE/pages/100"
    assert refs[1].version == "2"
    assert refs[0].updated_at is not None


def test_a_rate_limited_search_waits_as_asked(mock: responses.RequestsMock) -> None:
    fake = FakeConfluence({"1": Page("PM", "<p>x</p>")})
    fake.search_failures = [(429, {"Retry-After": "12"}, "{}"), (503, {}, "down")]
    fake.register(mock)
    waits: list[float] = []
    assert [ref.id for ref in cloud_source(fake, waits.append).list()] == ["1"]
    assert waits == [12.0, 4.0]  # as asked, then the doubled backoff


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ('{"id": "1", "type": "page", "title": "PM", "body": {}}', "no storage-format body"),
        ('{"id": "1", "type": "blogpost", "body": {"storage": {"value": ""}}}', "not a page"),
        ("<html>maintenance</html>", "not JSON"),
    ],
)
def test_a_malformed_page_is_reported_by_its_link(
    mock: responses.RequestsMock, answer: str, says: str
) -> None:
    fake = FakeConfluence({"1": Page("PM", "<p>x</p>"), "2": Page("PM 2", "<p>y</p>")})
    fake.register(mock)
    fake.fail("1", Failure(200, answer, {"Content-Type": "application/json"}))
    reading = read_documents([cloud_source(fake)])
    assert [p.where for p in reading.problems] == [
        "https://acme.atlassian.net/wiki/spaces/SRE/pages/1"
    ]
    assert says in reading.problems[0].message
    assert [pm.ref.id for pm in reading.postmortems] == ["2"]


def test_confluence_tasks_keep_assignees_dates_and_the_page_link(
    mock: responses.RequestsMock,
) -> None:
    body = (FIXTURES / "confluence" / "10002.xml").read_text()
    fake = FakeConfluence({"10002": Page("Ledger retry storm", body)})
    fake.register(mock)
    pm = read_documents([cloud_source(fake)]).postmortems[0]
    assert pm.title == "Ledger retry storm"
    assert pm.ref.link == "https://acme.atlassian.net/wiki/spaces/SRE/pages/10002"
    tasks = {item.title: item for item in pm.items if item.status in ("open", "done")}
    share = tasks["Share the load-test results with the payments team"]
    assert (share.owner, str(share.due), share.status) == (
        "5d9f1e0c7a2b3c0011aa22bb",
        "2026-10-09",
        "open",
    )
    assert tasks["Remove the manual retry flag from the ledger deploy script"].is_done


# --- google-drive ------------------------------------------------------------------------------


def test_docs_are_exported_as_markdown_where_offered_and_html_otherwise(
    mock: responses.RequestsMock, tmp_path: Path
) -> None:
    md = b"# PM\n\n## Action items\n\n- [ ] Rotate the signing key (owner: Ana Souza)\n"
    html = (
        b"<h1>PM</h1><h2>Action items</h2><ul><li>Rotate the TLS key (owner: Ana Souza)</li></ul>"
    )
    fake = FakeDrive(
        {
            "new": DriveFile("new", DOC, md, html=html),
            "old": DriveFile("old", DOC, export_as="application/rtf", html=html),
        }
    )
    fake.register(mock)
    options = DriveOptions("root-folder", str(service_account_file(tmp_path)))
    reading = read_documents([GoogleDriveSource("drive", options, sleep=no_sleep)])
    assert sorted(fake.exports) == [("new", "text/markdown"), ("old", "text/html")]
    titles = sorted(item.title for pm in reading.postmortems for item in pm.items)
    assert titles == ["Rotate the TLS key", "Rotate the signing key"]  # no byte-order mark
    assert fake.tokens_issued == 1

    forced = DriveOptions("root-folder", str(service_account_file(tmp_path)), export="html")
    read_documents([GoogleDriveSource("drive", forced, sleep=no_sleep)])
    assert fake.exports[-2:] == [("new", "text/html"), ("old", "text/html")]


def test_subfolders_are_read_unless_turned_off(
    mock: responses.RequestsMock, tmp_path: Path
) -> None:
    fake = FakeDrive(
        {
            "a": DriveFile("a", DOC, PM),
            "f": DriveFile("2025", "application/vnd.google-apps.folder"),
            "b": DriveFile("b.md", "text/markdown", PM, parent="f"),
        }
    )
    fake.register(mock)
    key = str(service_account_file(tmp_path))
    deep = GoogleDriveSource("drive", DriveOptions("root-folder", key), sleep=no_sleep)
    assert [ref.uri for ref in deep.list()] == ["gdrive:2025/b.md", "gdrive:a"]
    flat = DriveOptions("root-folder", key, recursive=False)
    assert [ref.uri for ref in GoogleDriveSource("drive", flat).list()] == ["gdrive:a"]


def test_uploaded_files_are_picked_as_a_folder_on_disk_picks_them(
    mock: responses.RequestsMock, tmp_path: Path
) -> None:
    """Whatever type Drive gives an uploaded file, the same files are read as a markdown-dir
    source reads from the same tree: `*.md` and text files with no extension; not other
    text files, not images; Docs and Word files whatever their name."""
    tree = {
        "a.md": ("text/markdown", PM),
        "b.md": ("application/octet-stream", PM),  # Drive's guess for many uploads
        "POSTMORTEM": ("text/plain", PM),
        "notes.txt": ("text/plain", PM),
        "chart.png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    }
    files = {
        f"f{n}": DriveFile(name, mime, data) for n, (name, (mime, data)) in enumerate(tree.items())
    }
    files["doc"] = DriveFile("Outage review", DOC, PM)
    files["w"] = DriveFile("review.docx", WORD_MIME, b"")
    FakeDrive(files).register(mock)
    key = str(service_account_file(tmp_path))
    drive = GoogleDriveSource("drive", DriveOptions("root-folder", key), sleep=no_sleep)
    listed = sorted(ref.uri.removeprefix("gdrive:") for ref in drive.list())
    assert listed == ["Outage review", "POSTMORTEM", "a.md", "b.md", "review.docx"]

    disk = tmp_path / "disk"
    disk.mkdir()
    for name, (_, data) in tree.items():
        (disk / name).write_bytes(data)
    on_disk = [ref.id for ref in MarkdownDirSource("disk", disk, history=False).list()]
    assert on_disk == [name for name in listed if name in tree]


def test_unusable_credentials_are_one_clear_problem(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text('{"type": "service_account"}')
    source = GoogleDriveSource("drive", DriveOptions("root-folder", str(key)))
    reading = read_documents([source])
    assert [p.where for p in reading.problems] == ["source drive"]
    assert f"no usable credentials in {key}" in reading.problems[0].message


# --- settings ----------------------------------------------------------------------------------


def test_every_source_kind_is_configured_from_toml(tmp_path: Path) -> None:
    (tmp_path / "atl-token").write_text("atl-secret-token-value\n")
    key = service_account_file(tmp_path)
    (tmp_path / "config.toml").write_text(
        f"""
[sources.repo]
kind = "github-repo"
repo = "acme/postmortems"
path = "postmortems"
token = "ghp_repo_token_value_123"

[sources.wiki]
kind = "confluence"
url = "https://acme.atlassian.net/wiki"
space = "SRE"
label = "postmortem"
email = "pmsync@acme.test"
api_token_file = "atl-token"

[sources.dc]
kind = "confluence"
url = "https://wiki.acme.test"
ancestor = "4242"
token = "dc-pat-secret-value"

[sources.drive]
kind = "google-drive"
folder_id = "1AbCdEf"
credentials_file = "{key.name}"
"""
    )
    settings = load_settings(tmp_path / "config.toml")
    repo, wiki, dc, drive = (source.inner for source in build_sources(settings))  # type: ignore[attr-defined]
    assert isinstance(repo, GithubRepoSource)
    assert repo.options.path == "postmortems"
    assert isinstance(wiki, ConfluenceSource)
    assert wiki.api == "https://acme.atlassian.net/wiki/rest/api"
    assert wiki.options.cql == 'type = page AND space = "SRE" AND label = "postmortem"'
    assert isinstance(dc, ConfluenceSource)
    assert dc.options.deployment == "datacenter"
    assert dc.api == "https://wiki.acme.test/rest/api"
    assert isinstance(drive, GoogleDriveSource)
    assert drive.options.credentials_file == str(key)
    secrets = secret_values(settings)
    assert {"ghp_repo_token_value_123", "atl-secret-token-value", "dc-pat-secret-value"} <= set(
        secrets
    )


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('kind = "confluence"\nurl = "https://x.atlassian.net"', "say which pages"),
        ('kind = "google-drive"\nfolder_id = "a b"', "folder_id"),
        ('kind = "dropbox"', "unknown kind; expected one of: markdown-dir, github-repo"),
    ],
)
def test_bad_source_settings_name_their_key(tmp_path: Path, table: str, says: str) -> None:
    (tmp_path / "config.toml").write_text(f"[sources.s]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "config.toml")
    assert "sources.s" in str(caught.value)
    assert says in str(caught.value)


def test_confluence_cloud_without_a_token_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[sources.wiki]\nkind = "confluence"\nurl = "https://acme.atlassian.net"\nspace = "SRE"\n'
    )
    with pytest.raises(ConfigError, match=r"sources\.wiki\.api_token"):
        build_sources(load_settings(tmp_path / "config.toml"))


# --- markdown-dir ------------------------------------------------------------------------------


def git(
    folder: Path, *args: str, when: str = "2026-03-04T10:00:00+00:00", author: str = "Dana Kim"
) -> None:
    env = {
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": "dana@acme.test",
        "GIT_COMMITTER_NAME": "Dana Kim",
        "GIT_COMMITTER_EMAIL": "dana@acme.test",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "HOME": str(folder),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def test_a_checkout_gives_commit_dates_and_authors(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pm").mkdir(parents=True)
    (repo / "pm" / "old.md").write_bytes(PM)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    (repo / "pm" / "new.md").write_bytes(PM)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "second", when="2026-05-06T07:08:09+02:00")
    (repo / "pm" / "draft.md").write_bytes(PM)  # not committed: its file time stands
    refs = {ref.id: ref for ref in MarkdownDirSource("pm", repo / "pm").list()}
    assert str(refs["old.md"].updated_at) == "2026-03-04 10:00:00+00:00"
    assert str(refs["new.md"].updated_at) == "2026-05-06 07:08:09+02:00"
    assert refs["old.md"].author == refs["new.md"].author == "Dana Kim"
    assert refs["draft.md"].author == ""
    assert refs["draft.md"].updated_at is not None


def test_a_checkout_gives_the_first_commit_and_the_last_author(tmp_path: Path) -> None:
    """What an owner or due-date policy falls back on: who last wrote the post-mortem, and
    when it was first written."""
    (tmp_path / "pm.md").write_bytes(PM)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "first", when="2026-03-05T10:00:00+00:00")
    (tmp_path / "pm.md").write_bytes(PM + b"\nEdited.\n")
    git(tmp_path, "commit", "-qam", "edit", when="2026-03-09T10:00:00+00:00", author="Lee Park")
    (ref,) = MarkdownDirSource("pm", tmp_path).list()  # nothing from .git/ is listed
    assert ref.author == "Lee Park"
    assert str(ref.created_at) == "2026-03-05 10:00:00+00:00"
    assert str(ref.updated_at) == "2026-03-09 10:00:00+00:00"


def test_git_is_asked_only_about_the_files_named_and_lint_asks_only_for_policies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("one.md", "two.md"):
        (repo / name).write_bytes(PM)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    asked: list[tuple[str, ...]] = []
    real = git_history.run_git

    def recorded(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
        asked.append(args)
        return real(where, *args)

    monkeypatch.setattr(git_history, "run_git", recorded)
    monkeypatch.chdir(repo)
    (ref,) = MarkdownDirSource("cli", repo, ["one.md"]).list()
    assert ref.author == "Dana Kim"
    (log,) = [args for args in asked if "log" in args]
    assert log[log.index("--") + 1 :] == (":(literal)one.md",)  # not the whole history
    asked.clear()
    main(["lint", "one.md"])  # no configuration, no policy: Git is not asked at all
    assert asked == []
    (repo / "config.toml").write_text('[policy.owner]\nfallback = ["postmortem"]\n')
    git_history.forget()  # (read once per commit checked out, and kept in the Git folder)
    (repo / ".git" / git_history.CACHE_FILE).unlink()
    main(["lint", "one.md"])  # the owner policy falls back on the last author
    (log,) = [args for args in asked if "log" in args]
    assert log[log.index("--") + 1 :] == (":(literal)one.md",)
    git_history.forget()
    (repo / ".git" / git_history.CACHE_FILE).unlink()
    asked.clear()
    main(["lint", "one.md", "two.md"])  # files named one by one: one walk for them all
    (log,) = [args for args in asked if "log" in args]
    assert log[log.index("--") + 1 :] == (":(literal)one.md", ":(literal)two.md")
    assert len([args for args in asked if "rev-parse" in args]) == 1
    capsys.readouterr()


def test_git_history_is_walked_once_and_then_only_for_the_commits_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long history is read once per repository and kept in its Git folder: a new process
    at the same commit walks nothing, one after a new commit walks that commit alone, one
    after a rewritten history walks it all again; the answers are those of a full walk."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    stamps = iter(range(1, 100))

    def commit(name: str, who: str) -> None:
        (repo / name).write_text(f"{name} {next(stamps)}\n")
        git(repo, "add", name)
        day = f"2026-03-{next(stamps):02d}T10:00:00+00:00"
        env = {"GIT_AUTHOR_DATE": day, "GIT_COMMITTER_DATE": day, "GIT_AUTHOR_NAME": who}
        done = subprocess.run(["git", "commit", "-qm", name], cwd=repo, env={**os.environ, **env})
        assert done.returncode == 0

    commit("a.md", "Dana Kim")
    commit("b.md", "Sam Rivera")
    commit("a.md", "Lee Park")
    asked: list[tuple[str, ...]] = []
    real = git_history.run_git

    def recorded(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
        asked.append(args)
        return real(where, *args)

    def fresh_process() -> dict[str, git_history.Change]:
        git_history.forget()
        asked.clear()
        return git_history.git_history(repo, ["a.md", "b.md"])

    def full_walk() -> dict[str, git_history.Change]:
        (repo / ".git" / git_history.CACHE_FILE).unlink()
        return fresh_process()

    monkeypatch.setattr(git_history, "run_git", recorded)
    first = fresh_process()
    assert first["a.md"][1] == "Lee Park"
    assert first["a.md"][2] < first["b.md"][2] < first["a.md"][0]  # first, then last commit
    assert [a for a in asked if "log" in a]  # walked
    assert fresh_process() == first
    assert not [a for a in asked if "log" in a]  # kept: nothing walked
    commit("b.md", "Priya Shah")
    head = real(repo, "rev-parse", "HEAD").stdout.strip()
    moved_on = fresh_process()
    (walked,) = [a for a in asked if "log" in a]
    assert any(arg.endswith(f"..{head}") for arg in walked)  # the new commit alone
    assert moved_on["b.md"][1] == "Priya Shah"
    assert moved_on == full_walk()
    git(repo, "commit", "-q", "--amend", "-m", "rewritten")  # the kept commit is gone
    rewritten = fresh_process()
    (walked,) = [a for a in asked if "log" in a]
    assert not any(".." in arg for arg in walked)  # all of it again
    assert rewritten == full_walk()


def test_markdown_dir_is_never_cached(tmp_path: Path) -> None:
    (tmp_path / "pm.md").write_bytes(PM)
    settings = load_settings(None, required=False).model_copy(update={"state_dir": tmp_path / "s"})
    read_configured(settings, [MarkdownDirSource("local", tmp_path)])
    assert not (tmp_path / "s" / "sources").exists()


def test_pmsync_sync_from_a_confluence_space_files_once_and_then_fetches_nothing(
    mock: responses.RequestsMock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = {
        p.stem: Page(f"PM {p.stem}", p.read_text()) for p in (FIXTURES / "confluence").glob("*.xml")
    }
    fake = FakeConfluence(pages, deployment="datacenter")
    fake.register(mock)
    (tmp_path / "pat").write_text("dc-pat-0123456789abcdef\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[sources.wiki]\nkind = "confluence"\nurl = "{fake.site}"\nspace = "SRE"\n'
        'token_file = "pat"\n'
    )

    def sync() -> dict[str, int]:
        code = main(["--config", str(config), "sync", "--format", "json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "dc-pat-0123456789abcdef" not in out + err
        return {k: v for k, v in json.loads(out).items() if isinstance(v, int)}

    first = sync()
    assert first["created"] >= 9
    assert len(fake.bodies) == 3
    second = sync()
    assert (second["created"], second["unchanged"]) == (0, first["created"])
    assert len(fake.bodies) == 3  # no page body fetched again
    assert (tmp_path / ".pmsync" / "sources" / "wiki.json").is_file()


def test_a_markdown_folder_reads_text_files_with_no_extension_and_not_binary_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "POSTMORTEM").write_text("## Action items\n- Add alerting\n")
    (tmp_path / "a.md").write_text("# A\n")
    (tmp_path / "blob").write_bytes(b"\x00\x01\x02")
    (tmp_path / ".hidden").write_text("not a post-mortem")
    source = MarkdownDirSource("pm", tmp_path, ("**/*.md",))
    assert [ref.id for ref in source.list()] == ["POSTMORTEM", "a.md"]
    assert source.skipped == []  # a configured source reads what its globs choose


def test_a_link_to_a_folder_out_of_the_folder_is_named_not_passed_over(tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "2025"
    outside.mkdir(parents=True)
    (outside / "old.md").write_bytes(PM)
    docs = tmp_path / "docs"
    (docs / "team").mkdir(parents=True)
    (docs / "real.md").write_bytes(PM)
    (docs / "team" / "archive").symlink_to(outside, target_is_directory=True)
    (docs / "mirror").symlink_to(docs / "team", target_is_directory=True)  # within: fine
    source = MarkdownDirSource("docs", docs)
    assert [ref.id for ref in source.list()] == ["real.md"]
    assert source.outside == [("team/archive/", str(outside.resolve()))]
    (problem,) = read_documents([source]).problems
    assert problem.message.startswith("team/archive/: a symbolic link to ")
    followed = MarkdownDirSource("docs", docs, follow_symlinks=True)
    assert [ref.id for ref in followed.list()] == ["real.md", "team/archive/old.md"]


def test_a_link_out_of_the_folder_is_not_read_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "outside" / "secret.md"
    secret.parent.mkdir()
    secret.write_bytes(PM)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "real.md").write_bytes(PM)
    (docs / "link.md").symlink_to(secret)
    (docs / "inside.md").symlink_to(docs / "real.md")  # a link within the folder is fine
    source = MarkdownDirSource("docs", docs)
    assert [ref.id for ref in source.list()] == ["inside.md", "real.md"]
    assert source.outside == [("link.md", str(secret.resolve()))]
    reading = read_documents([source])
    (problem,) = reading.problems
    assert problem.where == "source docs"
    assert problem.message.startswith("link.md: a symbolic link to ")
    assert "follow_symlinks = true" in problem.message
    assert [ref.id for ref in MarkdownDirSource("docs", docs, follow_symlinks=True).list()] == [
        "inside.md",
        "link.md",
        "real.md",
    ]
    # On the command line: a folder is read the same way, a file named is read where it is.
    assert main(["extract", str(docs)]) == 1
    assert "link.md: a symbolic link to" in capsys.readouterr().err
    assert main(["extract", str(docs / "link.md")]) == 0


def test_a_folder_that_cannot_be_read_is_a_problem_never_zero_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permissions are simulated: the suite may run as root, whom no permission stops."""
    docs = tmp_path / "docs"
    (docs / "locked").mkdir(parents=True)
    (docs / "open.md").write_bytes(PM)
    (docs / "locked" / "hidden.md").write_bytes(PM)
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == docs / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    for command in (["extract"], ["lint"]):
        assert main([*command, str(docs)]) == 1
        err = capsys.readouterr().err
        assert f"{docs / 'locked'}: cannot read the folder (Permission denied)" in err
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if Path(path) == docs else real_access(path, mode)
    )
    assert main(["extract", str(docs)]) == 1
    assert f"cannot read the folder {docs}" in capsys.readouterr().err
