"""A document's bytes as the text extraction reads: UTF-8 Markdown or HTML as they are, a Word
document (`.docx`) converted to HTML. Every source makes its documents here."""

from __future__ import annotations

from connectors.extract import format_of
from syncer.errors import DocumentError
from syncer.model import Document, DocumentRef

MAX_FILE_BYTES = 5 * 1024 * 1024
WORD_SUFFIX = ".docx"


def decode_text(raw: bytes, uri: str) -> str:
    """A document's bytes as text (UTF-8, a leading byte-order mark dropped), or a
    DocumentError naming the line where it stops being UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(uri, "not UTF-8 text", line=line) from None


def is_word(name: str) -> bool:
    return name.casefold().endswith(WORD_SUFFIX)


def document_of(ref: DocumentRef, name: str, raw: bytes, title: str | None = None) -> Document:
    """The document a source read as `raw`, named `name` (its file name: the format)."""
    shown = title if title is not None else name.split(".", 1)[0]
    if is_word(name):
        from connectors.sources.word import word_to_html  # only when a Word file is read

        return Document(ref, shown, word_to_html(raw, ref.uri), "html")
    return Document(ref, shown, decode_text(raw, ref.uri), format_of(name))
