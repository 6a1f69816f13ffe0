"""The seams between pmsync's engine and the outside world.

A source lists and fetches documents; a tracker holds issues. Implementations do not inherit
from these: anything with the right methods fits, test fakes included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar, cast, runtime_checkable

from syncer import logs
from syncer.errors import STOPPING, FatalError, Interrupted, PmsyncError
from syncer.identity import parse_nudge, parse_remark
from syncer.model import (
    Activity,
    Document,
    DocumentRef,
    IssueDraft,
    IssueSnapshot,
    TrackerRef,
)

log = logs.get_logger("pmsync.connectors")

CloseReason = Literal["completed", "not_planned", "duplicate"]


@runtime_checkable
class DocumentSource(Protocol):
    name: str

    def list(self) -> Sequence[DocumentRef]:
        """Every document the source holds now; raises SkippableError if the source is gone."""
        ...

    def fetch(self, ref: DocumentRef) -> Document:
        """One document's text; raises DocumentError naming it when it cannot be read."""
        ...


@dataclass(frozen=True, slots=True)
class DocumentEdit:
    """A document as write-back would leave it. `redo` makes the same edit on a newer copy of
    the document (someone changed it after pmsync read it)."""

    document: Document
    text: str
    redo: Callable[[Document], str]
    summary: str  # "2 links, 1 marked done"


@runtime_checkable
class DocumentWriter(Protocol):
    """A source whose documents pmsync may edit (write-back)."""

    name: str

    def write_back(self, edits: Sequence[DocumentEdit]) -> list[PmsyncError | None]:
        """Write every edit where this source keeps its documents: an error or None for each,
        in order. Never overwrites a change made since the document was read."""
        ...


@runtime_checkable
class Tracker(Protocol):
    name: str
    kind: str

    def snapshot(self) -> Sequence[IssueSnapshot]:
        """Every issue pmsync created here whose marker can be trusted, open or closed."""
        ...

    def create(self, draft: IssueDraft) -> TrackerRef:
        """File a new issue carrying the draft's marker; one write."""
        ...

    def create_many(self, drafts: Sequence[IssueDraft]) -> list[TrackerRef | PmsyncError]:
        """File several drafts (in bulk where the tracker can): a ref or an error for each,
        in order. A FatalError (credentials revoked, say) stops the call: the drafts filed
        before it keep their refs, and the error stands for each draft not filed."""
        ...

    def update(self, ref: TrackerRef, draft: IssueDraft, fields: Collection[str]) -> None:
        """Write only `fields` (title, body, assignees, due, labels, link: the link back to the
        post-mortem, where the tracker keeps one besides the body) of the draft.

        Labels are added, never removed (people may label issues too), except the state
        labels (`needs-owner`, `needs-refinement`) the draft no longer has: they come off in
        the same write.
        """
        ...

    def close(self, ref: TrackerRef, reason: CloseReason, comment: str | None = None) -> None:
        """Close the issue, then post `comment`: a close that fails posts nothing, so a close
        tried again by a later run never leaves the comment twice."""
        ...

    def reopen(self, ref: TrackerRef, comment: str) -> None:
        """Open a closed issue again (its `not-planned` label, where it has one, comes off),
        then post `comment`."""
        ...

    def comment(self, ref: TrackerRef, body: str) -> None: ...

    def add_labels(self, ref: TrackerRef, labels: Collection[str]) -> None: ...

    def remove_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        """Remove these labels where present; others, and absent ones, are left alone."""
        ...

    def link(self, ref: TrackerRef, to: TrackerRef, note: str) -> None:
        """Point issue `ref` at issue `to` the tracker's own way (an issue link, a mention)."""
        ...

    def mention(self, handle: str) -> str:
        """How a comment names someone so that this tracker notifies them."""
        ...

    def activity(self, ref: TrackerRef) -> Activity:
        """When someone other than pmsync last commented on or changed the issue, and the
        nudges pmsync left there; read only for the issues that need it (it costs requests)."""
        ...


@runtime_checkable
class Verifiable(Protocol):
    """A tracker that can be reached once to check its settings (`config check --online`)."""

    def verify(self) -> None:
        """A ConfigError naming the setting when the address, the credentials or the
        repository, project or team is wrong."""
        ...


@runtime_checkable
class WebhookStatus(Protocol):
    """A tracker that can say whether its webhook points at pmsync (`config check --online`)."""

    def webhook_at(self, url: str) -> bool:
        """Whether an active hook delivers issue events to `url`."""
        ...


@runtime_checkable
class Webhooks(WebhookStatus, Protocol):
    """A tracker whose webhook pmsync can also set up (`pmsync webhooks install`)."""

    def fresh_webhook_secret(self) -> str:
        """A new secret, in the form the tracker takes."""
        ...

    def install_webhook(self, url: str, secret: str) -> str:
        """Make the hook delivering issue events to `url` signed with `secret`, or give the
        one there the new secret; what was done, in words."""
        ...


@runtime_checkable
class RenewsWebhooks(Protocol):
    """A tracker whose webhooks expire unless renewed (Jira's dynamic webhooks: 30 days)."""

    def renew_webhooks(self) -> int:
        """Renew those that expire within a week; how many were renewed."""
        ...


@runtime_checkable
class ChecksPeople(Protocol):
    """A tracker that can tell whether the people directory's accounts can be assigned."""

    def check_people(self, handles: Sequence[str]) -> None:
        """A ConfigError naming each handle the tracker cannot assign issues to."""
        ...


@runtime_checkable
class BatchActivity(Protocol):
    """A tracker that reads many issues' activity at once (the local store: two queries)."""

    def activities(self, refs: Collection[TrackerRef]) -> Mapping[TrackerRef, Activity]: ...


@runtime_checkable
class Transactional(Protocol):
    """A tracker whose writes can be made in one transaction (`with tracker.batch(): ...`)."""

    def batch(self) -> AbstractContextManager[None]: ...


@runtime_checkable
class Leasing(Protocol):
    """A tracker that can hold a lease while filing, so that runs on different machines never
    file at once (GitHub: a git reference; Jira: a project version)."""

    @property
    def leased(self) -> bool: ...

    def lease(self) -> AbstractContextManager[bool]:
        """Hold the lease for the block; it yields whether the lease is held."""
        ...


# Observers of every tracker API request (the metrics): tracker name, HTTP verb, whether it
# succeeded, and the response headers (lower-case names; empty when no response came).
RequestObserver = Callable[[str, str, bool, Mapping[str, str]], None]
_OBSERVERS: list[RequestObserver] = []


def observe_requests(observer: RequestObserver) -> None:
    _OBSERVERS.append(observer)


def report_request(tracker: str, verb: str, ok: bool, headers: Mapping[str, str]) -> None:
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    for observer in _OBSERVERS:
        observer(tracker, verb, ok, lowered)


SourceObserver = Callable[[str, str, bool], None]
_SOURCE_OBSERVERS: list[SourceObserver] = []


def observe_source_requests(observer: SourceObserver) -> None:
    _SOURCE_OBSERVERS.append(observer)


def report_source_request(source: str, verb: str, ok: bool) -> None:
    """One request a source made to its service (a folder makes none)."""
    for observer in _SOURCE_OBSERVERS:
        observer(source, verb, ok)


def create_each(
    create: Callable[[IssueDraft], TrackerRef], drafts: Sequence[IssueDraft]
) -> list[TrackerRef | PmsyncError]:
    """`create_many` for trackers that create one issue per call."""
    results: list[TrackerRef | PmsyncError] = []
    for draft in drafts:
        if STOPPING.is_set():
            results.append(Interrupted())
            continue
        try:
            results.append(create(draft))
        except FatalError as exc:
            return results + [exc] * (len(drafts) - len(results))
        except PmsyncError as exc:
            results.append(exc)
    return results


# A change a comment links to: a pull request, a merge request or a commit, on any forge.
CHANGE_RE = re.compile(
    r"https?://[^\s)>\]]+/(?:pull|pulls|merge_requests|commit|commits)/[0-9A-Za-z]+"
)


def activity_of(
    entries: Iterable[tuple[str | None, datetime | None, str | None]],
    bot: str,
    *,
    assigned_at: datetime | None = None,
    changes: Iterable[str] = (),
) -> Activity:
    """Activity from (author, time, comment body or None) entries: people's newest entry, the
    nudges and the notes of items promised again among the bot's comments, and the changes
    people's comments link to (besides `changes`, which the tracker itself records);
    `assigned_at` as the tracker says."""
    human = []
    nudges = []
    remarks = []
    linked = set(changes)
    for author, at, body in entries:
        if at is None:
            continue
        if author != bot:
            human.append(at)
            linked |= set(CHANGE_RE.findall(body or ""))
        elif body is not None and (nudge := parse_nudge(body, at)) is not None:
            nudges.append(nudge)
        elif (remark := parse_remark(body)) is not None:
            remarks.append(remark)
    return Activity(
        max(human, default=None),
        tuple(sorted(nudges, key=lambda n: n.at)),
        assigned_at,
        tuple(sorted(linked)),
        tuple(remarks),
    )


T = TypeVar("T")


def guarded(inner: T, what: str, error: type[PmsyncError]) -> T:
    """`inner` behind a `Guarded` proxy, typed as `inner`: the proxy answers every attribute
    `inner` has, and nothing else (so `isinstance` with a protocol still tells what it can)."""
    return cast(T, Guarded(inner, what, error))


class Guarded:
    """A source or tracker whose unexpected failures (an answer of an unexpected shape, a
    library's own exception) become one pmsync error naming it, never a traceback. pmsync's
    own errors pass through as they are."""

    def __init__(self, inner: object, what: str, error: type[PmsyncError]) -> None:
        self._inner = inner
        self._what = what
        self._error = error

    @property
    def inner(self) -> object:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except PmsyncError:
                raise
            except Exception as exc:
                log.debug("unexpected_failure", what=self._what, call=name, error=repr(exc))
                detail = f"{type(exc).__name__}: {exc}"[:300]
                raise self._error(f"{self._what}: unexpected answer or failure ({detail})") from exc

        return call
