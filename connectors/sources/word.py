"""Word documents (`.docx`) as HTML, through mammoth, for the HTML reader every export goes
through: headings, lists, tables and links survive; images are dropped (an action item is
text); nothing in the file runs or is fetched.

A `.docx` is a zip archive, so it is checked before it is converted: its size (the limit of
every document), the size of what it unpacks to (a zip bomb fails here, after reading no more
than the limit), macros (a macro-enabled document is refused, not opened), and links to
outside resources other than hyperlinks (an image or object that a viewer would fetch).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from connectors.sources.content import MAX_FILE_BYTES
from syncer.errors import DocumentError

MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # what a document may unpack to, in all
_EXTERNAL_RE = re.compile(r"<Relationship\b[^>]*>", re.IGNORECASE)
_HYPERLINK = "/relationships/hyperlink"
# Lists nested by paragraph style alone (Word's "List Bullet 2" under "List Bullet"), which
# carry no numbering level of their own, nested as they look.
_NESTED_LISTS = "\n".join(
    f"p[style-name='List {kind} {depth}'] => " + " > ".join([f"{tag} > li"] * depth) + ":fresh"
    for kind, tag in (("Bullet", "ul"), ("Number", "ol"))
    for depth in (2, 3)
)
# Word's own paragraph styles that carry meaning: a quote (a template's prompt, a customer's
# words) is read as one, never as an action; the title is the document's title.
_STYLES = "\n".join(
    [
        _NESTED_LISTS,
        "p[style-name='Quote'] => blockquote > p:fresh",
        "p[style-name='Intense Quote'] => blockquote > p:fresh",
        "p[style-name='Title'] => h1:fresh",
        "p[style-name='Subtitle'] => p:fresh",
    ]
)


def word_to_html(raw: bytes, uri: str) -> str:
    """The document's body as HTML; a DocumentError naming `uri` for anything unsafe or
    unreadable."""
    if len(raw) > MAX_FILE_BYTES:
        raise DocumentError(uri, f"{len(raw):,} bytes is more than the 5 MiB limit")
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise DocumentError(uri, "not a Word document (.docx is a zip archive)") from None
    with archive:
        _check(archive, uri)
    import mammoth

    try:
        result = mammoth.convert_to_html(
            io.BytesIO(raw),
            style_map=_STYLES,
            ignore_empty_paragraphs=False,  # an empty bullet is a template's placeholder item
            convert_image=mammoth.images.img_element(lambda image: {}),
        )
    except Exception as exc:  # mammoth raises many kinds on a damaged file
        raise DocumentError(uri, f"unreadable Word document: {exc}") from None
    return f"<html><body>{result.value}</body></html>"


def _check(archive: zipfile.ZipFile, uri: str) -> None:
    names = set(archive.namelist())
    if "word/document.xml" not in names:
        raise DocumentError(uri, "not a Word document (no word/document.xml)")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise DocumentError(uri, "contains macros: refused (save it as a plain .docx)")
    unpacked = 0
    for name in archive.namelist():
        for chunk in _chunks(archive, name, uri):
            unpacked += len(chunk)
            if unpacked > MAX_UNPACKED_BYTES:
                raise DocumentError(
                    uri,
                    f"unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB "
                    "(a zip bomb?): refused",
                )
        if name.endswith(".rels"):
            _check_links(archive.read(name).decode("utf-8", "replace"), uri)


def _chunks(archive: zipfile.ZipFile, name: str, uri: str) -> Iterator[bytes]:
    try:
        with archive.open(name) as member:
            while chunk := member.read(1 << 20):
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise DocumentError(uri, f"damaged Word document ({name}: {exc})") from None


def _check_links(rels: str, uri: str) -> None:
    """Relationships to outside the file: hyperlinks are text; anything else (a linked image,
    an object, a template) would be fetched by a viewer, and is refused."""
    for tag in _EXTERNAL_RE.findall(rels):
        if 'TargetMode="External"' in tag and _HYPERLINK not in tag:
            target = re.search(r'Target="([^"]*)"', tag)
            shown = target.group(1)[:80] if target else "?"
            raise DocumentError(uri, f"links to an outside resource ({shown}): refused")
