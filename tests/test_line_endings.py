"""Line endings and byte-order marks never change what is read: a post-mortem saved on Windows
(CRLF), on an old Mac (CR), with mixed endings or with a byte-order mark reads exactly as the
same post-mortem with Unix endings: items, owners, dates, front matter and line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.extract import extract, format_of
from connectors.extract.writeback import Filed, edit_markdown
from connectors.sources.content import document_of
from connectors.sources.folder import MarkdownDirSource
from syncer.model import Document, DocumentRef, Postmortem, TrackerRef
from tests.corpus_score import CORPUS

DOCS = sorted((CORPUS / "docs").iterdir())


def _read(name: str, text: str) -> Postmortem:
    ref = DocumentRef("corpus", name, name)
    return extract(Document(ref, Path(name).stem, text, format_of(name)))


def _mixed(text: str) -> str:
    """Every third line ending CRLF, every third CR, the rest LF (a CR never right before an
    LF, which would make the two one CRLF ending)."""
    lines = text.split("\n")
    ends = ("\r\n", "\n", "\r")
    return "".join(line + ends[i % 3] for i, line in enumerate(lines[:-1])) + lines[-1]


VARIANTS = {
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "cr": lambda text: text.replace("\n", "\r"),
    "mixed": _mixed,
    "bom-crlf": lambda text: "\ufeff" + text.replace("\n", "\r\n"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_corpus_reads_the_same_whatever_the_line_endings(variant: str) -> None:
    change = VARIANTS[variant]
    differ = []
    items = 0
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        unix, other = _read(path.name, text), _read(path.name, change(text))
        items += len(unix.items)
        if other != unix:
            differ.append(path.name)
    assert items > 300
    assert differ == []


def test_front_matter_survives_windows_endings(tmp_path: Path) -> None:
    text = (
        "---\nid: pm-disk\ntitle: Disk full\nteam: storage\nseverity: SEV2\n"
        "date: 2026-11-20\n---\n# Disk full\n\n## Action items\n\n"
        "| Action | Owner | Due |\n|---|---|---|\n| Add a disk alert | @alex | 2026-12-01 |\n"
    )
    (tmp_path / "pm.md").write_bytes(("\ufeff" + text).replace("\n", "\r\n").encode())
    source = MarkdownDirSource("docs", tmp_path)
    ref = source.list()[0]
    pm = extract(source.fetch(ref))
    assert (pm.id, pm.title, pm.team, pm.severity) == ("pm-disk", "Disk full", "storage", "SEV2")
    assert str(pm.incident_date) == "2026-11-20"
    [item] = pm.items
    assert (item.title, item.owner, str(item.due), item.line) == (
        "Add a disk alert",
        "@alex",
        "2026-12-01",
        14,
    )


def test_an_html_export_with_windows_endings_reads_the_same() -> None:
    html = (
        "<h1>Outage</h1>\n<h2>Action items</h2>\n<ul>\n<li>Add a queue depth alert (owner: "
        "Sam)</li>\n<li>Write the failover runbook</li>\n</ul>\n"
    )
    ref = DocumentRef("pages", "p.html", "p.html")
    unix = extract(document_of(ref, "p.html", html.encode()))
    windows = extract(document_of(ref, "p.html", html.replace("\n", "\r\n").encode()))
    assert [i.title for i in unix.items] == [
        "Add a queue depth alert",
        "Write the failover runbook",
    ]
    assert windows == unix


def test_write_back_keeps_windows_endings() -> None:
    """The edit of a CRLF file is the edit of the same file with LF endings, in CRLF."""
    differ = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        pm = _read(path.name, text)
        filed = {
            item.key: Filed(TrackerRef("gh", f"#{n}", f"https://github.com/a/b/issues/{n}"))
            for n, item in enumerate(pm.items)
        }
        windows = text.replace("\n", "\r\n")
        edited = edit_markdown(windows, _read(path.name, windows).items, filed, status=True)
        if edited != edit_markdown(text, pm.items, filed, status=True).replace("\n", "\r\n"):
            differ.append(path.name)
    assert differ == []
