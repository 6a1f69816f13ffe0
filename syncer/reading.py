"""Reading documents: list each source, fetch, extract and check every document; one bad
document is a problem, not a stop. What `lint` and `extract` need, and nothing more."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from connectors.base import DocumentSource
from connectors.extract import ExtractOptions, extract
from rules import RuleContext, check, select_rules
from syncer import logs
from syncer.errors import DocumentError, FatalError, PmsyncError
from syncer.model import Document, Finding, Postmortem
from syncer.progressbar import bar

log = logs.get_logger("pmsync.pipeline")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that went wrong for one document, source or tracker."""

    where: str
    message: str
    fatal: bool = False
    path: str = ""  # the document that could not be read, when it is one
    line: int = 0


@dataclass(slots=True)
class Reading:
    """The documents of one run, read and checked."""

    postmortems: list[Postmortem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    documents: dict[tuple[str, str], Document] = field(default_factory=dict)  # by source, id
    skipped: list[str] = field(default_factory=list)  # files in source folders not read
    listed: set[tuple[str, str]] = field(default_factory=set)  # (source, id) of every document
    unread: set[tuple[str, str]] = field(default_factory=set)  # of those that failed to read
    incomplete: bool = False  # a source could not be listed, or stopped part way
    sources: set[str] = field(default_factory=set)  # the names of the sources read
    warnings: list[str] = field(default_factory=list)  # a source that holds no documents

    def present(self, known: Mapping[str, tuple[str, str]]) -> set[str]:
        """The post-mortem ids whose documents the sources hold now: those read, and those
        listed but not read (`known` gives the post-mortem ids of documents read before)."""
        found = {pm.id for pm in self.postmortems} | {ref for _, ref in self.listed}
        return found | {pm_id for pm_id, where in known.items() if where in self.unread}

    def findings_by_item(self) -> dict[str, list[Finding]]:
        return by_item(self.findings)


def by_item(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    """The findings about items, grouped by item key."""
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.item_key:
            grouped[finding.item_key].append(finding)
    return grouped


def read_documents(
    sources: Iterable[DocumentSource],
    *,
    options: Mapping[str, ExtractOptions] | None = None,
    rule_select: Sequence[str] = ("PM",),
    rule_ignore: Sequence[str] = (),
    context: RuleContext | None = None,
) -> Reading:
    """Read, extract and check every document; one bad document is a problem, not a stop."""
    rules = select_rules(rule_select, rule_ignore)
    reading = Reading()
    for source in sources:
        reading.sources.add(source.name)
        try:
            refs = source.list()
        except PmsyncError as exc:
            reading.problems.append(Problem(f"source {source.name}", str(exc)))
            log.info("source_failed", source=source.name, error=str(exc))
            reading.incomplete = True
            continue
        reading.listed |= {(source.name, ref.id) for ref in refs}
        if not refs:  # an empty or unmounted folder, a space with no pages: say so
            where = getattr(source, "root", None)
            found = f" in {where}" if where is not None else ""
            reading.warnings.append(f"source {source.name}: no documents found{found}")
            log.info("source_empty", source=source.name)
        for problem in getattr(source, "unreadable", []):
            reading.problems.append(Problem(f"source {source.name}", problem))
            log.info("folder_unreadable", source=source.name, problem=problem)
        for link, target in getattr(source, "outside", []):
            message = (
                f"{link}: a symbolic link to {target}, outside the folder: not read "
                "(follow_symlinks = true reads such files)"
            )
            reading.problems.append(Problem(f"source {source.name}", message))
            log.info("link_outside_skipped", source=source.name, path=link, target=target)
        skipped = getattr(source, "skipped", [])  # a folder source's files that are not read
        reading.skipped += [f"{source.name}: {name}" for name in skipped]
        if skipped:
            log.info("files_skipped", source=source.name, count=len(skipped))
        with bar(len(refs), f"reading {source.name}") as advance:
            for ref in refs:
                advance(1)
                try:
                    document = source.fetch(ref)
                    postmortem = extract(document, (options or {}).get(source.name))
                except FatalError as exc:
                    # Credentials gone, budget spent: the rest of this source would fail alike.
                    message = f"{exc}; stopped reading this source, the next run reads the rest"
                    reading.problems.append(Problem(f"source {source.name}", message))
                    log.info("source_failed", source=source.name, document=ref.id, error=str(exc))
                    reading.incomplete = True
                    break
                except DocumentError as exc:  # it names the file (and line) itself
                    reading.unread.add((source.name, ref.id))
                    reading.problems.append(
                        Problem(exc.where, exc.reason, path=exc.path, line=exc.line or 0)
                    )
                    log.info("document_failed", source=source.name, document=ref.id, error=str(exc))
                    continue
                except PmsyncError as exc:
                    reading.unread.add((source.name, ref.id))
                    reading.problems.append(Problem(ref.uri, str(exc), path=ref.uri))
                    log.info("document_failed", source=source.name, document=ref.id, error=str(exc))
                    continue
                reading.postmortems.append(postmortem)
                reading.documents[(source.name, ref.id)] = document
                if rules:
                    reading.findings += check(postmortem, rules, context)
                log.debug("document_read", document=ref.id, items=len(postmortem.items))
    return reading
