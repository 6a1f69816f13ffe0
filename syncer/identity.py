"""The in-band identity of synced issues: the hidden marker and the content hash.

Every issue pmsync creates carries `<!-- pmsync:v1 item=<key> pm=<post-mortem> hash=<hash> -->`,
so a fresh process with no local state can find it again in the tracker.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from difflib import SequenceMatcher
from urllib.parse import quote, unquote

from syncer.model import IssueDraft, Marker, Nudge, normalise_title

_MARKER_RE = re.compile(r"<!--\s*pmsync:v1\s+(?P<attrs>[^>]*?)\s*-->")
_ATTR_RE = re.compile(r"(\w+)=(\S*)")
_ANY_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)

# The fields a policy may fill, as the marker names them.
POLICY_FIELDS = ("assignee", "due")

# Titles at least this similar are taken to be the same item, retitled in the document.
RETITLE_THRESHOLD = 0.75


def render_marker(marker: Marker) -> str:
    parts = [f"item={marker.item_key}"]
    if marker.postmortem_id:
        parts.append(f"pm={quote(marker.postmortem_id, safe='/')}")
    parts.append(f"hash={marker.content_hash}")
    parts += [f"policy_{name}={quote(value, safe='')}" for name, value in marker.policy]
    return f"<!-- pmsync:v1 {' '.join(parts)} -->"


def with_marker(draft: IssueDraft) -> str:
    """An issue's body as pmsync writes it: the draft's body, then its marker."""
    return f"{draft.body.rstrip()}\n\n{render_marker(draft.marker)}\n"


def parse_marker(body: str | None) -> Marker | None:
    """The last pmsync marker in an issue body, or None when there is none."""
    if not body:
        return None
    found = list(_MARKER_RE.finditer(body))
    if not found:
        return None
    attrs = dict(_ATTR_RE.findall(found[-1].group("attrs")))
    key = attrs.get("item")
    if not key or not re.fullmatch(r"[0-9a-z-]{4,64}", key):
        return None
    pm = attrs.get("pm")
    policy = tuple(
        (name, unquote(attrs[f"policy_{name}"]))
        for name in POLICY_FIELDS
        if f"policy_{name}" in attrs
    )
    return Marker(key, attrs.get("hash", ""), unquote(pm) if pm else None, policy)


def strip_comments(text: str) -> str:
    """Remove HTML comments, so text copied from a document cannot plant a marker."""
    return _ANY_COMMENT_RE.sub("", text)


def content_hash(draft: IssueDraft, body: str | None = None) -> str:
    """A hash of everything pmsync writes for an item; equal hashes mean nothing to write.

    Fields set by policy count as "policy", not by value (`body` is the body written that
    way): the planner compares those with the tracker itself, so that a person's change to
    one is kept and a changed policy reaches only the issues it set."""
    by_policy = {name for name, _ in draft.policy}
    payload = json.dumps(
        {
            "title": draft.title,
            "body": draft.body if body is None else body,
            "assignees": "policy" if "assignee" in by_policy else sorted(draft.assignees),
            "due": "policy" if "due" in by_policy else draft.due.isoformat() if draft.due else None,
            "labels": sorted(draft.labels),
            "priority": draft.priority,
            "source": [draft.source_url, draft.source_title],
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def title_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, normalise_title(a), normalise_title(b)).ratio()


_NUDGE_RE = re.compile(r"<!--\s*pmsync:nudge\s+v1\s+(?P<attrs>[^>]*?)\s*-->")


_REMARK_RE = re.compile(r"<!--\s*pmsync:repeat\s+v1\s+item=(?P<key>[^\s>]+)\s*-->")


def render_remark_marker(item_key: str) -> str:
    """The hidden line of pmsync's note on an issue that an item promises again."""
    return f"<!-- pmsync:repeat v1 item={item_key} -->"


def parse_remark(body: str | None) -> str | None:
    """The item a comment of pmsync's notes as promised again, or None."""
    match = _REMARK_RE.search(body or "")
    return match["key"] if match else None


def render_nudge_marker(kind: str, count: int, escalated: bool) -> str:
    return f"<!-- pmsync:nudge v1 kind={kind} n={count} escalated={int(escalated)} -->"


def parse_nudge(body: str | None, at: datetime) -> Nudge | None:
    """The nudge a comment of pmsync's records, or None when it is not one."""
    match = _NUDGE_RE.search(body or "")
    if match is None:
        return None
    attrs = dict(_ATTR_RE.findall(match["attrs"]))
    try:
        count = int(attrs.get("n", "1"))
    except ValueError:
        return None
    return Nudge(at, attrs.get("kind", "stalled"), count, attrs.get("escalated") == "1")
