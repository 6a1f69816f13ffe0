"""One contract for every document source: listing, fetching, versions, change detection and
per-document errors. Remote sources run against `responses` fakes serving the fixture files in
`tests/fixtures/sources/`; each must yield the same items as those files read from disk."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responses

from connectors.base import DocumentSource
from connectors.sources.confluence import ConfluenceOptions, ConfluenceSource
from connectors.sources.folder import DOCUMENT_GLOBS, MarkdownDirSource
from connectors.sources.github_repo import GithubRepoSource, RepoOptions
from connectors.sources.gitlab_repo import GitlabRepoSource
from connectors.sources.gitlab_repo import RepoOptions as GitlabRepoOptions
from connectors.sources.google_drive import DriveOptions, GoogleDriveSource
from connectors.sources.notion import NotionOptions, NotionSource
from connectors.trackers.github import GithubOptions
from connectors.trackers.gitlab import GitlabOptions
from syncer.model import DocumentRef, Postmortem
from syncer.pipeline import read_configured
from syncer.reading import read_documents
from syncer.settings import Settings
from tests.docx_corpus import markdown_to_docx
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.keys import service_account_file
from tests.fakes.notion import DATABASE as NOTION_DATABASE
from tests.fakes.notion import FakeNotion, page_of_markdown
from tests.fakes.sources import (
    DOC,
    FOLDER,
    DriveFile,
    Failure,
    FakeConfluence,
    FakeDrive,
    FakeGithubRepo,
    Page,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
CORPUS = Path(__file__).parent / "corpus" / "docs"


def no_sleep(seconds: float) -> None:
    pass


Sleep = Callable[[float], None]


@dataclass
class Setup:
    """A source under test, the folder holding the same documents, and how its document ids
    map to files there; `fake` counts bodies served (None for local sources)."""

    source: DocumentSource
    disk: Path
    file_of: Callable[[DocumentRef], str]
    fake: Any = None
    # How to make one document fail: (document id, failure) -> None; and change one.
    break_document: Callable[[str, Failure], None] | None = None
    change_document: Callable[[str], None] | None = None
    body_key: Callable[[str], str] = str  # how the fake names a document it served


def item_facts(pm: Postmortem) -> list[tuple[Any, ...]]:
    return [(i.title, i.owner, i.due, i.status, i.tickets, i.placeholder, i.kind) for i in pm.items]


def disk_items(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    reading = read_documents([MarkdownDirSource("disk", folder, DOCUMENT_GLOBS)])
    assert not reading.problems
    return {pm.ref.id: item_facts(pm) for pm in reading.postmortems}


# --- the sources ---------------------------------------------------------------------------


def github_setup(mock: responses.RequestsMock, tmp_path: Path, sleep: Sleep = no_sleep) -> Setup:
    files = {f"postmortems/{p.name}": p.read_bytes() for p in CORPUS.iterdir() if p.is_file()}
    # A real repository holds more than post-mortems: hundreds of other files around them.
    for n in range(300):
        files[f"services/svc{n % 12}/src/module{n}.py"] = f"print({n})\n".encode()
    for n in range(40):
        files[f"docs/runbooks/runbook-{n}.md"] = f"# Runbook {n}\n\n- [ ] step\n".encode()
    files["postmortems/images/timeline.png"] = b"\x89PNG\r\n\x1a\n"
    fake = FakeGithubRepo(files)
    fake.register(mock)
    auth = GithubOptions(repo=fake.repo, token=fake.token, backoff=0.0)
    globs = ("**/*.md", "**/*.html.md.erb")
    options = RepoOptions(auth, path="postmortems", globs=globs)
    source = GithubRepoSource("repo", options, sleep=sleep)

    def change(doc_id: str) -> None:
        fake.files[f"postmortems/{doc_id}"] += b"\n<!-- edited -->\n"

    def break_document(doc_id: str, failure: Failure) -> None:
        fake.fail(f"postmortems/{doc_id}", failure)

    return Setup(
        source, CORPUS, lambda ref: ref.id, fake, break_document, change, "postmortems/".__add__
    )


def gitlab_setup(mock: responses.RequestsMock, tmp_path: Path, sleep: Sleep = no_sleep) -> Setup:
    fake = FakeGitLab()
    stack = contextlib.ExitStack()
    stack.enter_context(fake.running())
    RUNNING.append(stack)
    mock.add_passthru(fake.url)
    for p in CORPUS.iterdir():
        if p.is_file():
            fake.write_file(f"postmortems/{p.name}", p.read_text(encoding="utf-8"))
    for n in range(300):
        fake.write_file(f"services/svc{n % 12}/src/module{n}.py", f"print({n})\n")
    fake.write_file("postmortems/images/notes.txt", "not a post-mortem\n")
    auth = GitlabOptions(
        project=fake.project, url=fake.url, token="glpat-0123456789", backoff=0.0, write_interval=0
    )
    globs = ("**/*.md", "**/*.html.md.erb")
    options = GitlabRepoOptions(auth, path="postmortems", globs=globs)
    source = GitlabRepoSource("lab", options, sleep=sleep)

    def change(doc_id: str) -> None:
        path = f"postmortems/{doc_id}"
        fake.write_file(path, fake.files["main"][path] + "\n<!-- edited -->\n")

    def break_document(doc_id: str, failure: Failure) -> None:
        fake.fail(f"postmortems/{doc_id}", failure)

    return Setup(
        source, CORPUS, lambda ref: ref.id, fake, break_document, change, "postmortems/".__add__
    )


def notion_setup(mock: responses.RequestsMock, tmp_path: Path, sleep: Sleep = no_sleep) -> Setup:
    fake = FakeNotion()
    stack = contextlib.ExitStack()
    stack.enter_context(fake.running())
    RUNNING.append(stack)
    names = {}
    for path in sorted(CORPUS.iterdir()):
        if path.is_file():
            names[fake.add_page(*page_of_markdown(path.read_text(encoding="utf-8")))] = path.name
    options = NotionOptions(
        token=fake.token,
        database_id=NOTION_DATABASE,
        where={"Status": "Published"},
        base_url=fake.url,
        requests_per_second=0,
        backoff=0.0,
    )
    source = NotionSource("notion", options, sleep=sleep)
    return Setup(source, CORPUS, lambda ref: names[ref.id], fake, fake.fail, fake.change)


RUNNING: list[contextlib.ExitStack] = []  # fake servers on loopback, stopped after each test


@pytest.fixture(autouse=True)
def _stop_servers() -> Iterator[None]:
    yield
    while RUNNING:
        RUNNING.pop().close()


def confluence_pages() -> dict[str, Page]:
    return {
        path.stem: Page(title=f"Post-mortem {path.stem}", body=path.read_text(encoding="utf-8"))
        for path in sorted((FIXTURES / "confluence").glob("*.xml"))
    } | {"20001": Page("Team offsite notes", "<p>Not a post-mortem</p>", space="HR")}


def confluence_setup(deployment: str) -> Factory:
    def setup(mock: responses.RequestsMock, tmp_path: Path, sleep: Sleep = no_sleep) -> Setup:
        fake = FakeConfluence(confluence_pages(), deployment=deployment)
        fake.register(mock)
        credentials: dict[str, Any] = (
            {"email": "pmsync@acme.test", "api_token": "atl-api-token-0123456789"}
            if deployment == "cloud"
            else {"token": "dc-pat-0123456789abcdef"}
        )
        options = ConfluenceOptions(
            url=fake.site,
            deployment=deployment,  # type: ignore[arg-type]
            cql='type = page AND space = "SRE" AND label = "postmortem"',
            page_size=2,
            backoff=0.0,
            **credentials,
        )
        source = ConfluenceSource("wiki", options, sleep=sleep)

        def change(doc_id: str) -> None:
            page = fake.pages[doc_id]
            page.body += "<p>Edited after the review.</p>"
            page.version += 1

        return Setup(
            source, FIXTURES / "confluence", lambda ref: f"{ref.id}.xml", fake, fake.fail, change
        )

    return setup


def drive_files() -> dict[str, DriveFile]:
    drive = FIXTURES / "drive"
    return {
        "doc-md": DriveFile(
            "search-indexing-backlog", DOC, (drive / "search-indexing-backlog.md").read_bytes()
        ),
        # An older Doc, for which Drive offers no Markdown export: read as HTML.
        "doc-html": DriveFile(
            "search-index-stale",
            DOC,
            export_as="application/rtf",
            html=(drive / "search-index-stale.html").read_bytes(),
        ),
        "sub": DriveFile("archive", FOLDER),
        "file-md": DriveFile(
            "2025-11-19-dns-resolver.md",
            "text/markdown",
            (drive / "archive" / "2025-11-19-dns-resolver.md").read_bytes(),
            parent="sub",
        ),
        "sheet": DriveFile("on-call rota", "application/vnd.google-apps.spreadsheet"),
    }


DRIVE_FILES = {
    "doc-md": "search-indexing-backlog.md",
    "doc-html": "search-index-stale.html",
    "file-md": "archive/2025-11-19-dns-resolver.md",
}


def drive_setup(mock: responses.RequestsMock, tmp_path: Path, sleep: Sleep = no_sleep) -> Setup:
    fake = FakeDrive(drive_files())
    fake.register(mock)
    options = DriveOptions(
        folder_id="root-folder", credentials_file=str(service_account_file(tmp_path)), backoff=0.0
    )
    source = GoogleDriveSource("drive", options, sleep=sleep)

    def change(doc_id: str) -> None:
        fake.files[doc_id].content += b"\n"
        fake.files[doc_id].modified = "2026-11-02T10:00:00.000Z"

    return Setup(
        source, FIXTURES / "drive", lambda ref: DRIVE_FILES[ref.id], fake, fake.fail, change
    )


def markdown_setup(mock: responses.RequestsMock, tmp_path: Path, sleep: Sleep = no_sleep) -> Setup:
    folder = tmp_path / "checkout"
    shutil.copytree(CORPUS, folder)
    source = MarkdownDirSource("local", folder, DOCUMENT_GLOBS)
    return Setup(source, CORPUS, lambda ref: ref.id)


def word_setup(mock: responses.RequestsMock, tmp_path: Path, sleep: Sleep = no_sleep) -> Setup:
    """The corpus as Word documents (written by the tests with python-docx) in a folder."""
    folder = tmp_path / "word"
    folder.mkdir()
    originals = {}
    for path in sorted(CORPUS.iterdir()):
        if path.is_file():
            name = path.name.split(".", 1)[0] + ".docx"
            (folder / name).write_bytes(markdown_to_docx(path.read_text(encoding="utf-8")))
            originals[name] = path.name
    source = MarkdownDirSource("word", folder, ("**/*.docx",))
    return Setup(source, CORPUS, lambda ref: originals[ref.id])


Factory = Callable[[responses.RequestsMock, Path, Sleep], Setup]
SETUPS: dict[str, Factory] = {
    "markdown-dir": markdown_setup,
    "word-files": word_setup,
    "github-repo": github_setup,
    "gitlab-repo": gitlab_setup,
    "notion": notion_setup,
    "confluence-cloud": confluence_setup("cloud"),
    "confluence-datacenter": confluence_setup("datacenter"),
    "google-drive": drive_setup,
}
REMOTE = [name for name in SETUPS if name not in ("markdown-dir", "word-files")]


def make(name: str, mock: responses.RequestsMock, tmp_path: Path, sleep: Sleep = no_sleep) -> Setup:
    return SETUPS[name](mock, tmp_path, sleep)


def settings_in(folder: Path) -> Settings:
    return Settings(state_dir=folder / "state")


# --- the contract --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SETUPS)
def test_lists_every_document_once_with_a_version(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    setup = make(name, mock, tmp_path)
    refs = setup.source.list()
    expected = set(disk_items(setup.disk))
    assert {setup.file_of(ref) for ref in refs} == expected
    assert len({ref.id for ref in refs}) == len(refs)
    assert all(ref.source == setup.source.name and ref.version for ref in refs)
    if name in REMOTE:
        assert all(ref.link.startswith("https://") for ref in refs)
        assert setup.fake.bodies == []  # listing reads no document bodies


@pytest.mark.parametrize("name", REMOTE)
def test_says_who_wrote_a_document_and_when_where_the_service_knows(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    refs = make(name, mock, tmp_path).source.list()
    if name.startswith("confluence"):  # the page's creator, as Confluence names them
        assert {ref.author for ref in refs} == {"Lee Park"}
    elif name == "google-drive":  # the file's owner
        assert {ref.author for ref in refs} == {"lee@example.com"}
    else:  # a repository's tree names no authors; finding them costs a request per file
        assert {ref.author for ref in refs} == {""}
    if not name.startswith(("github", "gitlab")):
        assert all(str(ref.created_at) == "2026-09-30 08:00:00+00:00" for ref in refs)


@pytest.mark.parametrize("name", SETUPS)
def test_yields_the_same_items_as_the_files_on_disk(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    setup = make(name, mock, tmp_path)
    reading = read_documents([setup.source])
    assert reading.problems == []
    found = {setup.file_of(pm.ref): item_facts(pm) for pm in reading.postmortems}
    assert found == disk_items(setup.disk)
    assert sum(len(items) for items in found.values()) > 5


@pytest.mark.parametrize("name", ["github-repo", "gitlab-repo"])
def test_repository_ids_match_a_checkout_so_item_keys_do_too(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    remote = read_documents([make(name, mock, tmp_path).source])
    local = read_documents([MarkdownDirSource("local", CORPUS, DOCUMENT_GLOBS)])
    keys = {item.key for pm in remote.postmortems for item in pm.items}
    assert keys == {item.key for pm in local.postmortems for item in pm.items}


@pytest.mark.parametrize("name", REMOTE)
def test_a_second_run_fetches_no_unchanged_document(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    setup = make(name, mock, tmp_path)
    settings = settings_in(tmp_path)
    first = read_configured(settings, [setup.source])
    fetched = list(setup.fake.bodies)
    assert len(fetched) == len(first.postmortems) > 0

    second = read_configured(settings, [setup.source])
    assert setup.fake.bodies == fetched  # nothing more fetched
    assert [item_facts(pm) for pm in second.postmortems] == [
        item_facts(pm) for pm in first.postmortems
    ]

    changed = first.postmortems[0].ref.id
    assert setup.change_document is not None
    setup.change_document(changed)
    read_configured(settings, [setup.source])
    assert setup.fake.bodies == [*fetched, setup.body_key(changed)]  # only the changed one


@pytest.mark.parametrize("name", REMOTE)
def test_without_a_usable_state_file_everything_is_read_every_time(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    setup = make(name, mock, tmp_path)
    (tmp_path / "state").write_text("a file where the state folder should be")
    settings = settings_in(tmp_path)
    first = read_configured(settings, [setup.source])
    second = read_configured(settings, [setup.source])
    assert not first.problems
    assert not second.problems
    assert len(setup.fake.bodies) == 2 * len(first.postmortems)


@pytest.mark.parametrize("name", REMOTE)
def test_a_garbled_state_file_only_costs_reads(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    setup = make(name, mock, tmp_path)
    state = tmp_path / "state" / "sources"
    state.mkdir(parents=True)
    (state / f"{setup.source.name}.json").write_text("{not json")
    reading = read_configured(settings_in(tmp_path), [setup.source])
    assert not reading.problems
    assert reading.postmortems
    assert json.loads((state / f"{setup.source.name}.json").read_text())["documents"]


@pytest.mark.parametrize("name", REMOTE)
@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (Failure(403, {"message": "You do not have permission"}), "not allowed (403)"),
        (Failure(404, {"message": "Not Found"}), "not found (404)"),
        (Failure(400, {"message": "Bad request"}), "(400)"),
    ],
    ids=["permission", "deleted", "refused"],
)
def test_one_unreadable_document_is_reported_and_the_rest_are_read(
    name: str, failure: Failure, says: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    setup = make(name, mock, tmp_path)
    refs = setup.source.list()
    victim = refs[len(refs) // 2]
    assert setup.break_document is not None
    setup.break_document(victim.id, failure)
    reading = read_documents([setup.source])
    assert [p.where for p in reading.problems] == [victim.uri]
    assert says in reading.problems[0].message
    assert len(reading.postmortems) == len(refs) - 1
    assert victim.id not in {pm.ref.id for pm in reading.postmortems}


@pytest.mark.parametrize("name", REMOTE)
def test_a_failed_document_is_fetched_again_next_run_and_others_are_not(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    setup = make(name, mock, tmp_path)
    settings = settings_in(tmp_path)
    victim = setup.source.list()[0]
    assert setup.break_document is not None
    setup.break_document(victim.id, Failure(403, {"message": "no"}, times=1))
    first = read_configured(settings, [setup.source])
    assert len(first.problems) == 1
    before = len(setup.fake.bodies)
    second = read_configured(settings, [setup.source])
    assert not second.problems
    assert setup.fake.bodies[before:] == [setup.body_key(victim.id)]


@pytest.mark.parametrize("name", REMOTE)
def test_rate_limits_are_waited_out_as_asked(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    waits: list[float] = []
    setup = make(name, mock, tmp_path, waits.append)
    victim = setup.source.list()[0]
    assert setup.break_document is not None
    setup.break_document(
        victim.id, Failure(429, {"message": "slow down"}, {"Retry-After": "7"}, times=2)
    )
    reading = read_documents([setup.source])
    assert not reading.problems
    assert waits == [7.0, 7.0]


@pytest.mark.parametrize("name", REMOTE)
def test_bad_credentials_stop_the_source_with_one_clear_problem(
    name: str, mock: responses.RequestsMock, tmp_path: Path
) -> None:
    setup = make(name, mock, tmp_path)
    refs = setup.source.list()
    assert setup.break_document is not None
    for ref in refs:
        setup.break_document(ref.id, Failure(401, {"message": "Bad credentials"}))
    reading = read_documents([setup.source])
    assert len(reading.problems) == 1
    assert reading.problems[0].where == f"source {setup.source.name}"
    assert "credentials" in reading.problems[0].message
