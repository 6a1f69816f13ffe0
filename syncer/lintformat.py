"""How `pmsync lint` writes findings: text for people, JSON for scripts, SARIF 2.1.0 for code
scanning, and GitHub Actions workflow commands for annotations on pull requests."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from rules import Rule
from rules.catalogue import INFERRED_CODE
from syncer.model import Finding, Postmortem, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


# Where pmsync lives; code-scanning alerts link to its rules there. The installed package's
# metadata (pyproject.toml's [project.urls] Repository) says it; this is the fallback.
HOME = "https://github.com/pmsync/pmsync"
SOURCE_ROOT = "SRCROOT"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pmsync")
    except PackageNotFoundError:
        return "0"


def _home() -> str:
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls: list[str] = metadata("pmsync").get_all("Project-URL") or []
    except PackageNotFoundError:
        return HOME
    for entry in urls:
        label, _, url = str(entry).partition(", ")
        if label == "Repository" and url:
            return url.rstrip("/")
    return HOME


def rule_url(code: str, home: str | None = None) -> str:
    """The rule's section of docs/rules.md in the repository."""
    return f"{home or _home()}/blob/main/docs/rules.md#{code.lower()}"


def counted(count: int, noun: str) -> str:
    """`1 document`, `2 documents`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def text(findings: Sequence[Finding], documents: int) -> str:
    lines = [f"{f.doc}:{f.line}: {f.severity} {f.code} {f.message}" for f in findings]
    lines.append(f"{counted(len(findings), 'finding')} in {counted(documents, 'document')}")
    return "\n".join(lines) + "\n"


def as_json(findings: Sequence[Finding]) -> dict[str, Any]:
    return {
        "findings": [
            {
                "code": f.code,
                "severity": str(f.severity),
                "message": f.message,
                "path": f.doc,
                "line": f.line,
                "item": f.item_key,
            }
            for f in findings
        ]
    }


def sarif(
    findings: Sequence[Finding], rules: Sequence[Rule], root: Path | None = None
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run. Paths are URIs relative to `root` (the current folder,
    where a CI job checks out the repository), as code scanning expects, absolute ones given
    on the command line included."""
    root = (root or Path.cwd()).resolve()
    index = {rule.code: n for n, rule in enumerate(rules)}
    home, version = _home(), _version()
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pmsync",
                        "version": version,
                        "semanticVersion": version,
                        "informationUri": home,
                        "rules": [_sarif_rule(rule, home) for rule in rules],
                    }
                },
                "originalUriBaseIds": {SOURCE_ROOT: {"uri": root.as_uri() + "/"}},
                "results": [_sarif_result(f, index, root) for f in findings if f.code in index],
            }
        ],
    }


def _sarif_rule(rule: Rule, home: str) -> dict[str, Any]:
    doc = rule.doc
    help_markdown = (
        f"**What it checks**\n\n{doc.what}\n\n**Why it matters**\n\n{doc.why}\n\n"
        f"**Example**\n\n```\n{doc.example}\n```\n\n**Instead**\n\n```\n{doc.instead}\n```"
    )
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": doc.what},
        "fullDescription": {"text": f"{doc.what} {doc.why}"},
        "help": {"text": f"{doc.what} {doc.why} Instead: {doc.instead}", "markdown": help_markdown},
        "helpUri": rule_url(rule.code, home),
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": {"tags": ["post-mortem", rule.code[:3]]},
    }


def _relative_uri(doc: str, root: Path) -> str:
    path = Path(doc)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(root)
        except ValueError:
            return path.as_uri()  # outside the repository: an absolute URI, no base
    return quote(PurePath(path).as_posix())


def _sarif_result(finding: Finding, index: dict[str, int], root: Path) -> dict[str, Any]:
    uri = _relative_uri(finding.doc, root)
    location: dict[str, Any] = {"uri": uri}
    if not uri.startswith("file:"):
        location["uriBaseId"] = SOURCE_ROOT
    fingerprint = hashlib.sha256(
        f"{finding.code}\0{finding.doc}\0{finding.item_key or finding.message}".encode()
    ).hexdigest()
    return {
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {"startLine": max(finding.line, 1)},
                }
            }
        ],
        "partialFingerprints": {"pmsyncFinding/v1": fingerprint[:32]},
    }


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: Sequence[Finding], rules: Sequence[Rule]) -> str:
    """One workflow command per finding: `::error file=…,line=…,title=…::message`."""
    names = {rule.code: rule.name for rule in rules}
    lines = []
    for f in findings:
        title = f"{f.code} {names.get(f.code, '')}".strip()
        props = ",".join(
            (
                f"file={_escape_property(PurePath(f.doc).as_posix())}",
                f"line={max(f.line, 1)}",
                f"title={_escape_property(title)}",
            )
        )
        lines.append(f"::{_GITHUB_LEVEL[f.severity]} {props}::{_escape_data(f.message)}")
    return "".join(line + "\n" for line in lines)


def summary(findings: Sequence[Finding], rules: Sequence[Rule], documents: int) -> str:
    """A Markdown summary for a CI job's page: the counts by severity and by rule, then the
    findings by document (the first 100)."""
    names = {rule.code: rule.name for rule in rules}
    by_severity = Counter(str(f.severity) for f in findings)
    by_code = Counter(f.code for f in findings)
    head = ", ".join(
        f"{by_severity[level]} {label}"
        for level, label in (("error", "errors"), ("warning", "warnings"), ("info", "notes"))
    )
    lines = [
        "## pmsync lint",
        "",
        f"{counted(len(findings), 'finding')} in {counted(documents, 'document')}: {head}.",
        "",
    ]
    if findings:
        lines += ["| rule | name | findings |", "|---|---|---|"]
        lines += [
            f"| {code} | {names.get(code, '')} | {n} |" for code, n in sorted(by_code.items())
        ]
        inferred = [f for f in findings if f.code == INFERRED_CODE]
        if inferred:
            # Items read from prose, listed apart: the author confirms or marks each one.
            lines += ["", f"### Read from prose ({counted(len(inferred), 'item')})", ""]
            lines += [f"- `{f.doc}:{f.line}` {f.message}" for f in inferred[:100]]
        lines += ["", "<details><summary>Findings</summary>", ""]
        lines += [f"- `{f.doc}:{f.line}` **{f.code}** {f.message}" for f in findings[:100]]
        if len(findings) > 100:
            lines.append(f"- … and {len(findings) - 100} more")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def statistics(postmortems: Sequence[Postmortem], findings: Sequence[Finding]) -> dict[str, Any]:
    """How many real action items raise each item finding, and the share of all items."""
    items = sum(
        1 for pm in postmortems if not pm.template for item in pm.items if not item.placeholder
    )
    per_code = Counter(f.code for f in findings if f.item_key)
    documents = sum(1 for pm in postmortems if not pm.template)
    return {
        "documents": documents,
        "templates": len(postmortems) - documents,
        "items": items,
        "codes": {
            code: {"items": count, "share": round(count / items, 3) if items else 0.0}
            for code, count in sorted(per_code.items())
        },
    }


def statistics_text(stats: dict[str, Any], rules: Sequence[Rule]) -> str:
    names = {rule.code: rule.name for rule in rules}
    lines = [
        f"{counted(stats['items'], 'action item')} in {counted(stats['documents'], 'document')}"
        f" ({counted(stats['templates'], 'template')} left out)"
    ]
    for code, entry in stats["codes"].items():
        lines.append(
            f"  {code} {names.get(code, ''):26} {entry['items']:5} items  {entry['share']:6.1%}"
        )
    return "\n".join(lines) + "\n"


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
