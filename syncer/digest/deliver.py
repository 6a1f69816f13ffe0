"""Sending a digest: through Apprise, one URL per channel, or into a `file://` folder pmsync
writes itself."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from syncer.digest.model import Digest
from syncer.digest.render import render_html, render_markdown, render_text
from syncer.digest.state import channel_id
from syncer.logs import REDACTOR


def channel_name(url: str) -> str:
    """A channel as logs may show it: scheme and host, never a token or password."""
    if url.startswith("file://"):
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("mailto", "mailtos"):
        return f"{parts.scheme}://{parts.hostname or ''}"
    return f"{parts.scheme}://…{channel_id(url)[:6]}"  # other URLs carry tokens everywhere


@dataclass(frozen=True, slots=True)
class Delivery:
    recipient: str
    channel: str  # channel_name(): safe to show
    status: str  # "sent", "skipped" or "failed"
    detail: str = ""


def deliver(digest: Digest, url: str, base: Path) -> str | None:
    """Send one digest to one channel; the reason it failed, or None. `file://FOLDER` (relative
    to `base`, or `file:///absolute`) writes the digest there as .txt and .html."""
    if url.startswith("file://"):
        return _write_files(digest, base / url.removeprefix("file://"))
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "not a channel URL Apprise understands"
    is_mail = urllib.parse.urlsplit(url).scheme in ("mailto", "mailtos")
    attach = apprise.AppriseAttachment()
    for path in digest.attachments if is_mail else ():
        attach.add(str(path))
    with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as captured:  # type: ignore[no-untyped-call]
        ok = notifier.notify(
            title=digest.subject,
            body=render_html(digest) if is_mail else render_markdown(digest),
            body_format=apprise.NotifyFormat.HTML if is_mail else apprise.NotifyFormat.MARKDOWN,
            attach=attach if len(attach) else None,
        )
        messages = captured.getvalue().strip()
    if ok:
        return None
    return REDACTOR.scrub("; ".join(messages.splitlines())) or "delivery failed"


def _write_files(digest: Digest, folder: Path) -> str | None:
    stem = f"{digest.recipient.replace(':', '-')}-{digest.period}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.txt").write_text(render_text(digest), encoding="utf-8")
        (folder / f"{stem}.html").write_text(render_html(digest), encoding="utf-8")
    except OSError as exc:
        return f"cannot write {folder}: {exc.strerror or exc}"
    return None
