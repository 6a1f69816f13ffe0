"""The `local` tracker: issues in a SQLite file, so pmsync runs with no account anywhere.

It behaves like a real tracker: issues carry the marker in their body and pmsync finds them
again from it, so deleting the file re-creates every issue once and keeping it never duplicates.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from connectors.base import CloseReason, activity_of
from connectors.config import BuildContext, TrackerSection
from syncer import statefile
from syncer.errors import (
    STOPPING,
    FatalError,
    Interrupted,
    PmsyncError,
    RetriableError,
    SkippableError,
)
from syncer.identity import parse_marker, with_marker
from syncer.model import Activity, IssueDraft, IssueSnapshot, TrackerRef, stale_labels

BOT = "pmsync"
SYNC_LABEL = "pmsync"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',
    state_reason TEXT,
    assignees TEXT NOT NULL DEFAULT '[]',
    due TEXT,
    labels TEXT NOT NULL DEFAULT '[]',
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_human_activity_at TEXT,
    closed_at TEXT,
    assigned_at TEXT
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number INTEGER NOT NULL REFERENCES issues(number),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_by_issue ON comments(number, id);
"""


def _upgrade(db: sqlite3.Connection) -> None:
    """Columns added since a store was created."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(issues)")}
    for column in ("closed_at", "assigned_at"):
        if column not in columns:
            db.execute(f"ALTER TABLE issues ADD COLUMN {column} TEXT")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalTracker:
    kind = "local"

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        user: str = BOT,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.name = name
        self.path = path
        self.user = user
        self._clock = clock
        self._ready = False
        self._uri: str | None = None
        self._batch: sqlite3.Connection | None = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The writes made inside in one transaction, committed at the end: a follow-up step
        of thousands of comments and labels is one commit, not one each."""
        with self._db() as connection:
            self._batch = connection
            try:
                yield
            finally:
                self._batch = None

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """One connection per call, committed on success (inside `batch`, the batch's); sqlite
        errors become pmsync errors."""
        if self._batch is not None:
            with self._translated():
                yield self._batch
            return
        try:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise FatalError(f"local tracker {self.name}: cannot open {self.path}: {exc}") from exc
        try:
            with self._translated(), connection:
                if not self._ready:
                    connection.executescript(_SCHEMA)
                    _upgrade(connection)
                    self._ready = True
                yield connection
            statefile.written(self.path)
        finally:
            connection.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise RetriableError(f"local tracker {self.name}: {exc}") from exc
            if "disk is full" in str(exc) or "readonly" in str(exc):
                statefile.failed(self.path, str(exc))  # the transaction is rolled back whole
            raise FatalError(f"local tracker {self.name}: {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise FatalError(f"local tracker {self.name}: {self.path}: {exc}; {_RECOVER}") from exc

    def _ref(self, number: int) -> TrackerRef:
        if self._uri is None:
            self._uri = self.path.resolve().as_uri()
        return TrackerRef(self.name, f"#{number}", f"{self._uri}#{number}")

    def _number(self, ref: TrackerRef) -> int:
        try:
            return int(ref.key.lstrip("#"))
        except ValueError:
            raise SkippableError(f"local tracker {self.name}: no issue {ref.key}") from None

    def snapshot(self) -> Sequence[IssueSnapshot]:
        if not self.path.exists():
            return []  # nothing filed yet; reading must not create the store (dry runs)
        with self._db() as db:
            rows = db.execute(
                "SELECT number, title, body, state, state_reason, assignees, due, labels, author,"
                " created_at, updated_at, last_human_activity_at, closed_at"
                " FROM issues ORDER BY number"
            ).fetchall()
            nudges = dict(
                db.execute(
                    "SELECT number, COUNT(*) FROM comments WHERE author = ? AND body LIKE ?"
                    " GROUP BY number",
                    (self.user, "%pmsync:nudge%"),
                ).fetchall()
            )
        found = []
        for row in rows:
            try:
                snap = self._snapshot_of(row, nudges)
            except (ValueError, TypeError) as exc:
                raise FatalError(
                    f"local tracker {self.name}: {self.path}: issue #{row[0]} is damaged "
                    f"({exc}); {_RECOVER}"
                ) from exc
            if snap is not None:
                found.append(snap)
        return found

    def _snapshot_of(self, row: Sequence[Any], nudges: dict[Any, Any]) -> IssueSnapshot | None:
        labels = tuple(json.loads(row[7]))
        marker = parse_marker(row[2])
        if marker is None or row[8] != self.user or SYNC_LABEL not in labels:
            return None
        return IssueSnapshot(
            ref=self._ref(row[0]),
            item_key=marker.item_key,
            postmortem_id=marker.postmortem_id,
            state="closed" if row[3] == "closed" else "open",
            status_category="done" if row[3] == "closed" else "new",
            state_reason=row[4],
            title=row[1],
            body=row[2],
            assignees=tuple(json.loads(row[5])),
            due=date.fromisoformat(row[6]) if row[6] else None,
            labels=labels,
            created_at=datetime.fromisoformat(row[9]),
            updated_at=datetime.fromisoformat(row[10]),
            last_human_activity_at=(datetime.fromisoformat(row[11]) if row[11] else None),
            # Stores from before closing times were kept: the last update bounds it.
            closed_at=(datetime.fromisoformat(row[12] or row[10]) if row[3] == "closed" else None),
            synced_hash=marker.content_hash,
            policy=marker.policy,
            nudges=int(nudges.get(row[0], 0)),
        )

    def create(self, draft: IssueDraft) -> TrackerRef:
        (ref,) = self._insert([draft])
        return ref

    def create_many(self, drafts: Sequence[IssueDraft]) -> list[TrackerRef | PmsyncError]:
        """Many issues, a transaction per 500: filing 50,000 items is not 50,000 commits."""
        results: list[TrackerRef | PmsyncError] = []
        for start in range(0, len(drafts), 500):
            chunk = drafts[start : start + 500]
            if STOPPING.is_set():
                results += [Interrupted() for _ in chunk]
            else:
                results += self._insert(chunk)
        return results

    def _insert(self, drafts: Sequence[IssueDraft]) -> list[TrackerRef]:
        now = self._clock().isoformat()
        numbers = []
        with self._db() as db:
            for draft in drafts:
                cursor = db.execute(
                    "INSERT INTO issues (title, body, assignees, due, labels, author, created_at,"
                    " updated_at, assigned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        draft.title,
                        with_marker(draft),
                        json.dumps(list(draft.assignees)),
                        draft.due.isoformat() if draft.due else None,
                        json.dumps(sorted({SYNC_LABEL, *draft.labels})),
                        self.user,
                        now,
                        now,
                        now if draft.assignees else None,
                    ),
                )
                assert cursor.lastrowid is not None
                numbers.append(cursor.lastrowid)
        return [self._ref(number) for number in numbers]

    def update(self, ref: TrackerRef, draft: IssueDraft, fields: Collection[str]) -> None:
        number = self._number(ref)
        with self._db() as db:
            row = db.execute("SELECT labels FROM issues WHERE number = ?", (number,)).fetchone()
            if row is None:
                raise SkippableError(f"local tracker {self.name}: no issue {ref.key}")
            values: dict[str, object] = {"body": with_marker(draft)}
            if "title" in fields:
                values["title"] = draft.title
            if "assignees" in fields:
                values["assignees"] = json.dumps(list(draft.assignees))
            if "due" in fields:
                values["due"] = draft.due.isoformat() if draft.due else None
            if "labels" in fields:
                current = json.loads(row[0])
                stale = stale_labels(draft, current)
                values["labels"] = json.dumps(sorted({*current, *draft.labels} - stale))
            values["updated_at"] = self._clock().isoformat()
            columns = ", ".join(f"{column} = ?" for column in values)
            db.execute(f"UPDATE issues SET {columns} WHERE number = ?", (*values.values(), number))
            db.execute(  # the first time anyone is assigned
                "UPDATE issues SET assigned_at = ? WHERE number = ? AND assigned_at IS NULL"
                " AND assignees != '[]'",
                (values["updated_at"], number),
            )

    def close(self, ref: TrackerRef, reason: CloseReason, comment: str | None = None) -> None:
        number = self._number(ref)
        now = self._clock().isoformat()
        with self._db() as db:
            if comment:
                db.execute(
                    "INSERT INTO comments (number, author, body, created_at) VALUES (?, ?, ?, ?)",
                    (number, self.user, comment, now),
                )
            db.execute(
                "UPDATE issues SET state = 'closed', state_reason = ?, updated_at = ?,"
                " closed_at = ? WHERE number = ?",
                (reason, now, now, number),
            )

    def reopen(self, ref: TrackerRef, comment: str) -> None:
        number = self._number(ref)
        now = self._clock().isoformat()
        with self._db() as db:
            db.execute(
                "UPDATE issues SET state = 'open', state_reason = 'reopened', updated_at = ?,"
                " closed_at = NULL WHERE number = ?",
                (now, number),
            )
            db.execute(
                "INSERT INTO comments (number, author, body, created_at) VALUES (?, ?, ?, ?)",
                (number, self.user, comment, now),
            )

    def comment(self, ref: TrackerRef, body: str) -> None:
        number = self._number(ref)
        now = self._clock().isoformat()
        with self._db() as db:
            db.execute(
                "INSERT INTO comments (number, author, body, created_at) VALUES (?, ?, ?, ?)",
                (number, self.user, body, now),
            )
            db.execute("UPDATE issues SET updated_at = ? WHERE number = ?", (now, number))

    def add_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        self._edit_labels(ref, lambda current: current | set(labels))

    def remove_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        self._edit_labels(ref, lambda current: current - set(labels))

    def _edit_labels(self, ref: TrackerRef, change: Callable[[set[str]], set[str]]) -> None:
        number = self._number(ref)
        with self._db() as db:
            row = db.execute("SELECT labels FROM issues WHERE number = ?", (number,)).fetchone()
            if row is None:
                raise SkippableError(f"local tracker {self.name}: no issue {ref.key}")
            current = set(json.loads(row[0]))
            wanted = change(current)
            if wanted != current:
                db.execute(
                    "UPDATE issues SET labels = ?, updated_at = ? WHERE number = ?",
                    (json.dumps(sorted(wanted)), self._clock().isoformat(), number),
                )

    def link(self, ref: TrackerRef, to: TrackerRef, note: str) -> None:
        self.comment(ref, f"{note}: {to.key} {to.url}".rstrip())

    def mention(self, handle: str) -> str:
        return f"@{handle}"

    def activity(self, ref: TrackerRef) -> Activity:
        return self.activities([ref])[ref]

    def activities(self, refs: Collection[TrackerRef]) -> dict[TrackerRef, Activity]:
        """The activity of many issues in two queries, whatever their number: `check` reads
        every issue it follows up this way, so its cost grows with the store, not its square."""
        wanted = {self._number(ref): ref for ref in refs}
        entries: dict[int, list[tuple[str | None, datetime | None, str | None]]] = {
            number: [] for number in wanted
        }
        if not wanted:
            return {}
        with self._db() as db:
            db.execute("CREATE TEMP TABLE wanted (number INTEGER PRIMARY KEY)")
            db.executemany("INSERT INTO wanted VALUES (?)", ((n,) for n in wanted))
            for number, author, at, body in db.execute(
                "SELECT c.number, c.author, c.created_at, c.body FROM comments c"
                " JOIN wanted USING (number) ORDER BY c.number, c.id"
            ):
                entries[number].append((str(author), datetime.fromisoformat(at), str(body)))
            assigned: dict[int, datetime] = {}
            for number, at, first in db.execute(
                "SELECT i.number, i.last_human_activity_at, i.assigned_at FROM issues i"
                " JOIN wanted USING (number)"
            ):
                if at is not None:
                    entries[number].append(("someone", datetime.fromisoformat(at), None))
                if first is not None:
                    assigned[number] = datetime.fromisoformat(first)
        return {
            ref: activity_of(entries[number], self.user, assigned_at=assigned.get(number))
            for number, ref in wanted.items()
        }

    def comments(self, ref: TrackerRef) -> list[tuple[str, str]]:
        """(author, body) of each comment, oldest first; for people and tests reading the store."""
        with self._db() as db:
            rows = db.execute(
                "SELECT author, body FROM comments WHERE number = ? ORDER BY id",
                (self._number(ref),),
            ).fetchall()
        return [(str(author), str(body)) for author, body in rows]


_RECOVER = (
    "the store is damaged: restore it from a backup, or move it aside and run again (pmsync "
    "then files every item once more, into a new store)"
)


# --- settings ------------------------------------------------------------------------------


class Config(TrackerSection):
    """The embedded tracker: a SQLite file. Needs no account anywhere."""

    kind: Literal["local"]
    path: Path | None = None  # default: <state_dir>/local-tracker.sqlite3


def store(config: Config, context: BuildContext) -> Path:
    """The tracker's SQLite file."""
    if config.path is not None:
        return context.path(config.path)
    return context.state_dir / "local-tracker.sqlite3"


def build(name: str, config: Config, context: BuildContext) -> LocalTracker:
    return LocalTracker(name, store(config, context), clock=context.clock)
