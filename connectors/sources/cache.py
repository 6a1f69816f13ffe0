"""Change detection for remote sources: a document whose version did not change since the last
run is read from `<state_dir>/sources/<source>.json` instead of being fetched again.

The state is a convenience, never a requirement: a missing, unreadable or unwritable state file
only means more reads. A source whose listing failed keeps its entries for the next run.

A source whose version is a coarse edit time (Notion's, to the minute: `version_resolution`)
can be edited again without its version changing. Its document is served from the state only
when it was read after that time had passed; until then it is read again, so no edit made in
the same minute as a read is lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import DocumentSource
from syncer import logs, statefile
from syncer.model import Document, DocumentRef

log = logs.get_logger("pmsync.sources")

STATE_VERSION = 1


class CachedSource:
    """`source`, with bodies of unchanged documents served from its state file."""

    def __init__(self, source: DocumentSource, folder: Path, now: datetime | None = None) -> None:
        self.name = source.name
        self.inner = source
        self.now = now or datetime.now(UTC)  # when this run reads
        self.resolution: timedelta | None = getattr(source, "version_resolution", None)
        self.path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', source.name)}.json"
        self.entries = _load(self.path)
        self._listed: set[str] | None = None
        self.fetched = 0  # bodies read from the source this run
        self.reused = 0  # bodies served from the state file

    def list(self) -> Sequence[DocumentRef]:
        refs = self.inner.list()
        self._listed = {ref.id for ref in refs}
        return refs

    def fetch(self, ref: DocumentRef) -> Document:
        entry = self.entries.get(ref.id)
        same = ref.version and entry is not None and entry.get("version") == ref.version
        if same and entry is not None and self._settled(ref, entry):
            self.reused += 1
            return Document(ref, str(entry["title"]), str(entry["text"]), entry["format"])
        document = self.inner.fetch(ref)
        self.fetched += 1
        self.entries[ref.id] = {
            "version": ref.version,
            "title": document.title,
            "text": document.text,
            "format": document.format,
            "read_at": self.now.isoformat(),
        }
        return document

    def _settled(self, ref: DocumentRef, entry: dict[str, Any]) -> bool:
        """Whether the entry holds the version's last edit: always, unless the version is a
        coarse time and the entry was read before that time had passed."""
        if self.resolution is None or ref.updated_at is None:
            return True
        try:
            read_at = datetime.fromisoformat(str(entry.get("read_at")))
        except ValueError:
            return False
        return read_at >= ref.updated_at + self.resolution

    def save(self) -> None:
        """Write the state: the documents listed this run (all of them, if listing failed)."""
        if self._listed is not None:
            self.entries = {k: v for k, v in self.entries.items() if k in self._listed}
        data = {"version": STATE_VERSION, "source": self.name, "documents": self.entries}
        statefile.save(self.path, data, "source_state_unwritable")
        log.info("source_read", source=self.name, fetched=self.fetched, unchanged=self.reused)


def _load(path: Path) -> dict[str, dict[str, Any]]:
    data = statefile.load(path, "source_state_unreadable")
    if data is None:
        return {}
    documents = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(documents, dict) or data.get("version") != STATE_VERSION:
        log.warning("source_state_unreadable", path=str(path), error="unknown layout")
        return {}
    return {
        key: entry
        for key, entry in documents.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("text"), str)
        and entry.get("format") in ("markdown", "html")
    }
