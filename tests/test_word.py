"""Word documents (`.docx`): the corpus written in Word scores as its Markdown does, in every
source that holds files; a hostile file fails alone, with a message that says why."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from connectors.extract import extract
from connectors.sources.content import document_of
from connectors.sources.folder import DOCUMENT_GLOBS, MarkdownDirSource
from connectors.sources.gitlab_repo import GitlabRepoSource, RepoOptions
from connectors.sources.google_drive import WORD_MIME, DriveOptions, GoogleDriveSource
from connectors.trackers.gitlab import GitlabOptions
from syncer.model import DocumentRef
from syncer.reading import read_documents
from tests.corpus_score import CORPUS, score_corpus, score_postmortem, totals
from tests.docx_corpus import markdown_to_docx
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.keys import service_account_file
from tests.fakes.sources import DriveFile, FakeDrive

ITEMS = """# 2026-03-04 Checkout latency

## Action items

| Action | Owner | Due |
|---|---|---|
| Add a p99 latency alert on checkout | Dana Kim | 2026-04-01 |

- [x] Load-test checkout at twice last year's peak (owner: Sam Rivera, due 2026-04-15)
- [ ] Write the failover runbook, owner: Dana Kim, due 2026-05-01
"""


def _facts(raw: bytes, name: str = "pm.docx") -> list[tuple[object, ...]]:
    pm = extract(document_of(DocumentRef("t", name, name), name, raw))
    return [(i.title, i.owner, i.due, i.is_done) for i in pm.items]


def test_the_corpus_written_in_word_scores_as_its_markdown() -> None:
    key = json.loads((CORPUS / "answer-key.json").read_text())
    scores = []
    for name, doc in sorted(key["documents"].items()):
        raw = markdown_to_docx((CORPUS / "docs" / name).read_text(encoding="utf-8"))
        stem = name.split(".")[0] + ".docx"
        pm = extract(document_of(DocumentRef("t", stem, stem), stem, raw))
        scores.append(score_postmortem(name, pm, doc))
    word, markdown = totals(scores), totals(score_corpus())
    for field in ("precision", "recall", "owner", "ticket", "status", "due"):
        assert getattr(word, field) >= getattr(markdown, field) - 0.02, field


def test_tables_lists_task_boxes_and_links_survive() -> None:
    facts = _facts(markdown_to_docx(ITEMS))
    assert [f[0] for f in facts] == [
        "Add a p99 latency alert on checkout",
        "Load-test checkout at twice last year's peak",
        "Write the failover runbook",
    ]
    assert [f[3] for f in facts] == [False, True, False]
    assert str(facts[0][2]) == "2026-04-01"


def _word(extra: dict[str, bytes] | None = None, rels: str = "") -> bytes:
    """A .docx as python-docx writes it, with more parts or relationships added."""
    base = zipfile.ZipFile(io.BytesIO(markdown_to_docx(ITEMS)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as made:
        for info in base.infolist():
            data = base.read(info.filename)
            if rels and info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
            made.writestr(info, data)
        for name, data in (extra or {}).items():
            made.writestr(name, data)
    return out.getvalue()


def _bomb() -> bytes:
    """A .docx whose one extra part unpacks to 80 MiB of zeros (80 KiB packed)."""
    out = io.BytesIO(_word())
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as made,
        made.open("word/media/filler.bin", "w") as part,
    ):
        for _ in range(80):
            part.write(bytes(1 << 20))
    return out.getvalue()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.docx").write_bytes(_word())
    (docs / "notes.md").write_text(ITEMS)
    (docs / "bomb.docx").write_bytes(_bomb())
    with (docs / "huge.docx").open("wb") as huge:  # 100 MB, sparse: nothing is read of it
        huge.truncate(100 * 1024 * 1024)
    image = (
        '<Relationship Id="rIdX" TargetMode="External" Target="http://tracker.example/p.png" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"/>'
    )
    (docs / "image.docx").write_bytes(_word(rels=image))
    (docs / "macros.docx").write_bytes(_word({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}))
    (docs / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    return docs


def test_each_hostile_word_file_fails_alone_and_says_why(folder: Path) -> None:
    reading = read_documents([MarkdownDirSource("docs", folder, DOCUMENT_GLOBS)])
    said = {Path(p.where).name: p.message for p in reading.problems}
    assert "unpacks to more than 64 MiB" in said["bomb.docx"]
    assert "104,857,600 bytes is more than the 5 MiB limit" in said["huge.docx"]
    assert "outside resource (http://tracker.example/p.png)" in said["image.docx"]
    assert "contains macros" in said["macros.docx"]
    assert "not a Word document" in said["broken.docx"]
    read = sorted(pm.ref.id for pm in reading.postmortems)
    assert read == ["good.docx", "notes.md"]
    good = next(pm for pm in reading.postmortems if pm.ref.id == "good.docx")
    notes = next(pm for pm in reading.postmortems if pm.ref.id == "notes.md")
    assert [i.key for i in good.items] != []
    assert [(i.title, i.owner, i.due) for i in good.items] == [
        (i.title, i.owner, i.due) for i in notes.items
    ]


@pytest.fixture
def lab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab()
    with fake.running():
        yield fake


def test_word_files_in_a_gitlab_repository_and_on_drive(lab: FakeGitLab, tmp_path: Path) -> None:
    raw = _word()
    lab.files["main"]["postmortems/checkout.docx"] = raw
    options = RepoOptions(
        GitlabOptions(project=lab.project, url=lab.url, token="glpat-0000", backoff=0.0),
        path="postmortems",
        globs=("**/*.docx",),
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(lab.url)
        drive = FakeDrive({"w1": DriveFile("checkout.docx", WORD_MIME, raw)})
        drive.register(mock)
        source = GoogleDriveSource(
            "drive",
            DriveOptions(
                folder_id="root-folder",
                credentials_file=str(service_account_file(tmp_path)),
                backoff=0.0,
            ),
        )
        reading = read_documents([GitlabRepoSource("lab", options), source])
    assert reading.problems == []
    expected = _facts(raw)
    assert [
        [(i.title, i.owner, i.due, i.is_done) for i in pm.items] for pm in reading.postmortems
    ] == [expected, expected]


def test_word_files_in_a_github_repository(mock: responses.RequestsMock) -> None:
    from connectors.sources.github_repo import GithubRepoSource
    from connectors.sources.github_repo import RepoOptions as GithubRepoOptions
    from connectors.trackers.github import GithubOptions
    from tests.fakes.sources import FakeGithubRepo

    raw = _word()
    fake = FakeGithubRepo({"postmortems/checkout.docx": raw, "README.md": b"# x\n"})
    fake.register(mock)
    options = GithubRepoOptions(
        GithubOptions(repo=fake.repo, token=fake.token, backoff=0.0),
        path="postmortems",
        globs=("**/*.docx",),
    )
    reading = read_documents([GithubRepoSource("repo", options)])
    assert reading.problems == []
    (pm,) = reading.postmortems
    assert [(i.title, i.owner, i.due, i.is_done) for i in pm.items] == _facts(raw)


def test_the_title_is_the_title_style_or_the_first_heading_never_a_section() -> None:
    """A Word title comes from the Title style, else the first heading; a document whose
    first heading is `Action items` is titled by its file name, and that section is read."""
    import docx

    def built(*blocks: tuple[str, int | None]) -> bytes:
        document = docx.Document()
        for text, level in blocks:
            if level is None:
                document.add_paragraph(text, style="List Bullet")
            else:
                document.add_heading(text, level)
        raw = io.BytesIO()
        document.save(raw)
        return raw.getvalue()

    item = ("Add a p99 latency alert on checkout (owner: Dana Kim)", None)
    cases = [
        ((("Checkout outage", 0), ("Action items", 1), item), "Checkout outage"),
        ((("Checkout outage", 1), ("Action items", 2), item), "Checkout outage"),
        ((("Action items", 1), item), "2026-03-04-checkout"),
    ]
    for blocks, title in cases:
        name = "2026-03-04-checkout.docx"
        pm = extract(document_of(DocumentRef("t", name, name), name, built(*blocks)))
        assert pm.title == title
        assert [i.title for i in pm.items] == ["Add a p99 latency alert on checkout"]
