"""Write-back, composed: after a sync, each post-mortem of a source with `write_back` on gets a
link to every filed item's issue (and, with `links+status`, its done items marked done), and
the source writes the edit where it keeps the document.

Which issue an item has comes from the sync itself: the issue it matched or created. Whether
that issue is done comes from the tracker's snapshot: closed as completed.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from connectors.base import DocumentEdit, DocumentSource, DocumentWriter
from connectors.extract import ExtractOptions, extract
from connectors.extract.writeback import Filed, edit_markdown, edit_storage
from syncer import logs
from syncer.applier import Outcome
from syncer.errors import PmsyncError
from syncer.model import Document, IssueSnapshot, Postmortem, outcome_of
from syncer.settings import Settings

log = logs.get_logger("pmsync.writeback")


@dataclass(slots=True)
class WriteBack:
    """The edits of one run (proposed, in a dry run), and what went wrong writing them."""

    edits: list[DocumentEdit] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (document, message)
    unfiled: int = 0  # items a dry run would file: linked once they exist


def filed_items(
    outcomes: Iterable[Outcome], snapshots: Mapping[str, Sequence[IssueSnapshot]]
) -> dict[str, Filed]:
    """Each item's issue, by item key, and whether it is closed as completed."""
    done = {
        snap.ref for group in snapshots.values() for snap in group if outcome_of(snap) == "done"
    }
    filed: dict[str, Filed] = {}
    for outcome in outcomes:
        item, ref = outcome.action.item, outcome.ref
        if item is None or ref is None or not outcome.ok or outcome.action.op == "skip":
            continue
        closed_now = outcome.action.op == "close" and outcome.action.close_reason == "completed"
        filed[item.key] = Filed(ref, done=ref in done or closed_now)
    return filed


def plan_edits(
    settings: Settings,
    postmortems: Iterable[Postmortem],
    documents: Mapping[tuple[str, str], Document],
    filed: Mapping[str, Filed],
) -> list[DocumentEdit]:
    """The edit of every document that write-back would change."""
    edits = []
    for postmortem in postmortems:
        config = settings.sources.get(postmortem.ref.source)
        document = documents.get((postmortem.ref.source, postmortem.ref.id))
        if config is None or config.write_back == "off" or document is None:
            continue
        editor = _editor(document, config.edits_html)
        if editor is None:
            log.info("write_back_skipped", document=document.ref.uri, reason="exported HTML")
            continue
        options = ExtractOptions(day_first=config.day_first)
        status = config.write_back == "links+status"
        redo = partial(_redo, editor=editor, options=options, filed=filed, status=status)
        text = editor(document.text, postmortem.items, filed, status=status)
        if text != document.text:
            after = extract(replace(document, text=text), options)
            edits.append(DocumentEdit(document, text, redo, _summary(postmortem, after)))
    return edits


def _redo(
    current: Document,
    *,
    editor: Callable[..., str],
    options: ExtractOptions,
    filed: Mapping[str, Filed],
    status: bool,
) -> str:
    """The same edit, on a newer copy of the document (its items read again)."""
    return editor(current.text, extract(current, options).items, filed, status=status)


def _editor(document: Document, edits_html: bool) -> Callable[..., str] | None:
    """Markdown anywhere; HTML where it is the source's own format (Confluence storage), not
    where it is an export."""
    if document.format == "markdown":
        return edit_markdown
    return edit_storage if edits_html else None


def _summary(before: Postmortem, after: Postmortem) -> str:
    """What the edit did, read back from the edited document: links added, items now done."""
    old = {item.key: item for item in before.items}
    links = sum(len(set(i.tickets) - set(old[i.key].tickets)) for i in after.items if i.key in old)
    done = sum(i.is_done and not old[i.key].is_done for i in after.items if i.key in old)
    parts = [f"{links} link{'s' * (links != 1)}"] if links else []
    parts += [f"{done} marked done"] if done else []
    return ", ".join(parts) or "no change"


def write(edits: Sequence[DocumentEdit], sources: Iterable[DocumentSource]) -> WriteBack:
    """Hand each source its documents' edits; a source that cannot write says so per edit."""
    result = WriteBack(edits=list(edits))
    by_source: dict[str, list[DocumentEdit]] = defaultdict(list)
    for edit in edits:
        by_source[edit.document.ref.source].append(edit)
    writers = {s.name: s for s in sources if isinstance(s, DocumentWriter)}
    for name, group in by_source.items():
        writer = writers.get(name)
        if writer is None:
            for edit in group:
                result.problems.append((edit.document.ref.uri, "this source cannot be written to"))
            continue
        try:
            answers = writer.write_back(group)
        except PmsyncError as exc:
            answers = [exc] * len(group)
        for edit, answer in zip(group, answers, strict=True):
            where = edit.document.ref.uri
            if answer is None:
                log.info("written_back", document=where, change=edit.summary)
            else:
                result.problems.append((where, f"write-back: {answer}"))
                log.error("write_back_failed", document=where, error=str(answer))
    return result


def diff(edit: DocumentEdit) -> str:
    """The edit as a unified diff, named after the document."""
    name = edit.document.ref.id
    return "".join(
        difflib.unified_diff(
            edit.document.text.splitlines(keepends=True),
            edit.text.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
            n=1,
        )
    )
