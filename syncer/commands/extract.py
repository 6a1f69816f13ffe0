"""`pmsync extract`: the action items found in documents, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from syncer.commands import common as shared

if TYPE_CHECKING:
    from syncer.commands.common import Commands
    from syncer.model import Postmortem


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    extract = shared.add_command(
        commands,
        "extract",
        common,
        run,
        summary="print the action items found in documents",
        description="Print the action items pmsync finds in post-mortems: each one's line, "
        "owner, due date and status, and who last changed the document. Nothing is checked "
        "and nothing is filed.",
        examples=[
            "pmsync extract postmortems/2026-05-19-dns.md",
            "pmsync extract postmortems/ --format json",
            "pmsync extract exported-page.html --day-first",
        ],
    )
    shared.document_options(extract, paths_help="files or folders")
    extract.add_argument("--format", choices=["json", "table"], default="table")


def run(args: argparse.Namespace, out: TextIO) -> int:
    # No rules: extraction alone, with who wrote each document and when.
    reading = shared.read_paths(args, None, (), (), history=True)
    if args.format == "json":
        payload = {"documents": [_document_json(pm) for pm in reading.postmortems]}
        json.dump(payload, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for pm in reading.postmortems:
            _print_document_table(pm, out)
    return shared.EXIT_FINDINGS if reading.problems else shared.EXIT_OK


def _document_json(pm: Postmortem) -> dict[str, Any]:
    return {
        "path": pm.ref.uri,
        "id": pm.id,
        "title": pm.title,
        "source": pm.ref.source,
        "link": pm.ref.link or None,
        "updated_at": pm.ref.updated_at.isoformat() if pm.ref.updated_at else None,
        "author": pm.ref.author or None,
        "template": pm.template,
        "items": [
            {
                "key": item.key,
                "title": item.title,
                "owner": item.owner,
                "due": item.due.isoformat() if item.due else None,
                "due_text": item.due_text,
                "tickets": list(item.tickets),
                "kind": item.kind,
                "priority": item.priority,
                "status": item.status,
                "placeholder": item.placeholder,
                "line": item.line,
                "basis": item.basis,
            }
            for item in pm.items
        ],
    }


def _print_document_table(pm: Postmortem, out: TextIO) -> None:
    from syncer import lintformat

    label = " (template)" if pm.template else ""
    out.write(f"{pm.ref.uri}: {pm.title}{label} — {lintformat.counted(len(pm.items), 'item')}\n")
    rows = [("LINE", "BASIS", "OWNER", "DUE", "STATUS", "TITLE")]
    for item in pm.items:
        due = item.due.isoformat() if item.due else (item.due_text or "-")
        title = shared.short(item.title, 70)
        if item.placeholder:
            title = f"[placeholder] {title}"
        rows.append((str(item.line), item.basis, item.owner or "-", due, item.status or "-", title))
    shared.write_table(rows, out, indent="  ")
    out.write("\n")
