"""Hostile documents: each yields a clear error naming it, or a harmless result, and the rest
of the run goes on. (How long each takes is printed by bench/extraction.py, not timed here.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.extract import extract
from connectors.sources.folder import MarkdownDirSource
from syncer.errors import DocumentError
from syncer.model import Document, DocumentRef
from syncer.reading import read_documents


def _source(tmp_path: Path) -> MarkdownDirSource:
    return MarkdownDirSource("docs", tmp_path, ["*.md"])


def test_a_50_mb_file_is_refused_by_size_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (ref,) = _source(tmp_path).list()
    with pytest.raises(DocumentError, match=r"big\.md: 52,428,800 bytes is more than the 5 MiB"):
        _source(tmp_path).fetch(ref)


def test_binary_data_is_refused(tmp_path: Path) -> None:
    (tmp_path / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 100)
    (ref,) = _source(tmp_path).list()
    with pytest.raises(DocumentError, match=r"image\.md"):
        extract(_source(tmp_path).fetch(ref))


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "latin1.md").write_bytes(b"# Title\n\n## Action items\n- Caf\xe9 menu\n")
    (ref,) = _source(tmp_path).list()
    with pytest.raises(DocumentError, match=r"latin1\.md:4: not UTF-8 text"):
        _source(tmp_path).fetch(ref)


def test_an_oversized_text_is_refused_by_extraction_too() -> None:
    document = Document(DocumentRef("t", "x.md", "x.md"), "x", "a" * 6_000_000)
    with pytest.raises(DocumentError, match="larger than 5,000,000 characters"):
        extract(document)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        "*a" * 50_000,
        "> " * 20_000 + "x",
        "| a |\n" + "|---|\n" + "| x |\n" * 900,
        "<!--" * 50_000,
        "`" * 100_000,
    ],
    ids=["brackets", "emphasis", "quotes", "table-rows", "comments", "backticks"],
)
def test_pathological_markdown_is_read_without_error(body: str) -> None:
    text = "## Action items\n\n- Add a canary\n\n" + body
    pm = extract(Document(DocumentRef("t", "x.md", "x.md"), "x", text))
    assert pm.items[0].title == "Add a canary"


@pytest.mark.parametrize(
    "body",
    ["| Action |\n|---|\n" + "| do x |\n" * 20_000, "- do x\n" * 1_500],
    ids=["table", "list"],
)
def test_more_items_than_any_post_mortem_holds_is_refused(body: str) -> None:
    document = Document(DocumentRef("t", "x.md", "x.md"), "x", "## Action items\n\n" + body)
    with pytest.raises(
        DocumentError, match=r"x\.md: .*more than 1,000 .*not read as a post-mortem"
    ):
        extract(document)


def test_one_bad_document_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "a-bad.md").write_bytes(b"\xff\xfe\x00binary")
    (tmp_path / "b-good.md").write_text("## Action items\n\n- Add a canary\n")
    (tmp_path / "c-yaml.md").write_text("---\nid: [broken\n---\n")
    reading = read_documents([_source(tmp_path)])
    assert [pm.id for pm in reading.postmortems] == ["b-good.md"]
    assert [Path(p.where).name for p in reading.problems] == ["a-bad.md:1", "c-yaml.md:2"]
