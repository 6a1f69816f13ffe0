"""Digests for program managers, per recipient: what changed since the last digest and which
teams fall behind; then what needs them (escalated items, items with no owner); then, team by
team, overdue items (with days overdue), stalled ones (with days since people last touched
them) and those due soon; each item once, in its most urgent section, the rest as badges; then
the progress of each post-mortem with open items, what was completed, and what was dropped.

Building is pure (entries, post-mortems and the clock in; digests out), on the same figures
as the report and the metrics (`syncer.progress`). Delivery goes through Apprise, one URL per
channel, plus `file://` folders that pmsync writes itself. A small state file remembers, per
recipient, the figures and open items of each period and the channels already served, so a
digest is never sent twice in one period and trends survive a restart; a missing state file
only means "no trend".

The parts: `model` (what a digest is), `build` (pure: entries in, digests out), `state` (the
small state file), `render` (text, Markdown, HTML), `deliver` (Apprise and folders) and `run`
(`pmsync digest`)."""

from __future__ import annotations

from syncer.digest.build import build, figures_of, recipients_of, review_attachments
from syncer.digest.deliver import Delivery, channel_name, deliver
from syncer.digest.model import Changes, Digest, Figures, Recipient, period_of
from syncer.digest.render import headline, render_html, render_markdown, render_text
from syncer.digest.run import DigestRun, digest
from syncer.digest.state import STATE_FILE, DigestState, channel_id

__all__ = [
    "STATE_FILE",
    "Changes",
    "Delivery",
    "Digest",
    "DigestRun",
    "DigestState",
    "Figures",
    "Recipient",
    "build",
    "channel_id",
    "channel_name",
    "deliver",
    "digest",
    "figures_of",
    "headline",
    "period_of",
    "recipients_of",
    "render_html",
    "render_markdown",
    "render_text",
    "review_attachments",
]
