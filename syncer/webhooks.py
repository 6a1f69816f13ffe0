"""Tracker webhooks, verified before anything is read: each provider's signature over the raw
body with a secret from a file, compared in constant time; the delivery's id, so that a
repeat does nothing; and what the event says, read only to decide whether an issue pmsync
filed changed. Nothing here trusts the payload's state: the receiver re-reads the tracker.

- **GitHub**: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the body; delivery
  `X-GitHub-Delivery`.
- **Jira Cloud** (admin webhooks with a secret): `X-Hub-Signature: <method>=<hex>`; only
  `sha256` is accepted, any other method is refused; delivery
  `X-Atlassian-Webhook-Identifier`.
- **GitLab**: a signing token (Standard Webhooks: `webhook-signature: v1,<base64>` over
  `<webhook-id>.<webhook-timestamp>.<body>`, the timestamp within five minutes); or, when only
  the legacy token is configured, `X-Gitlab-Token` compared in constant time (it travels in
  the clear: `config check` warns). Delivery `Idempotency-Key`, else `X-Gitlab-Event-UUID`.
- **Linear**: `Linear-Signature: <hex>`, HMAC-SHA256 of the body; the body's
  `webhookTimestamp` no more than a minute from now; delivery `Linear-Delivery`.

Pure: headers (lower-case names), body, secrets and the time in; a `Verdict` out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncer.identity import parse_marker

SYNC_LABEL = "pmsync"
GITLAB_TOLERANCE = 300.0  # seconds a signed GitLab delivery's timestamp may be off
LINEAR_TOLERANCE = 60.0


@dataclass(frozen=True, slots=True)
class Secrets:
    """A tracker's webhook secrets, read from files: the signing secret, and for GitLab the
    legacy token (used only when there is no signing secret)."""

    signing: bytes | None = None
    token: bytes | None = None


class Refused(Exception):
    """A delivery that is not answered as accepted: `status` and why (never the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Verdict:
    """A verified delivery: its id, the event, and whether it concerns an issue pmsync filed
    (`issue`: its number or key) in a way worth re-reading (closed, reopened, reassigned,
    edited)."""

    delivery: str
    event: str
    issue: str | None


def verify(kind: str, headers: Mapping[str, str], body: bytes, secrets: Secrets, now: float) -> str:
    """The delivery id of a request whose signature holds; `Refused` (401) otherwise, or
    when a signed timestamp is outside its window."""
    if kind == "github":
        _hmac_hex(headers.get("x-hub-signature-256"), "sha256", secrets.signing, body)
        return headers.get("x-github-delivery", "")
    if kind == "jira":
        _hmac_hex(headers.get("x-hub-signature"), "sha256", secrets.signing, body)
        return headers.get("x-atlassian-webhook-identifier", "")
    if kind == "gitlab":
        delivery = headers.get("idempotency-key") or headers.get("x-gitlab-event-uuid") or ""
        if secrets.signing is not None:
            _standard_webhook(headers, body, secrets.signing, now)
            return delivery or headers.get("webhook-id", "")
        given = headers.get("x-gitlab-token")
        if secrets.token is None or given is None:
            raise Refused(401, "no signature")
        if not hmac.compare_digest(given.encode(), secrets.token):
            raise Refused(401, "wrong token")
        return delivery
    if kind == "linear":
        signature = headers.get("linear-signature")
        if secrets.signing is None or not signature:
            raise Refused(401, "no signature")
        expected = hmac.new(secrets.signing, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
            raise Refused(401, "signature does not match")
        stamp = _json(body).get("webhookTimestamp")
        if not isinstance(stamp, (int, float)) or abs(now - stamp / 1000) > LINEAR_TOLERANCE:
            raise Refused(401, "webhookTimestamp missing or more than a minute off")
        return headers.get("linear-delivery", "")
    raise Refused(404, f"{kind} trackers send no webhooks pmsync reads")


def _hmac_hex(header: str | None, method: str, secret: bytes | None, body: bytes) -> None:
    """`<method>=<hex HMAC of the body>`; the method is read and any other refused."""
    if secret is None or not header:
        raise Refused(401, "no signature")
    given_method, _, given = header.strip().partition("=")
    if given_method.lower() != method:
        raise Refused(401, f"signature method {given_method!r} is not supported")
    expected = hmac.new(secret, body, getattr(hashlib, method)).hexdigest()
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise Refused(401, "signature does not match")


def _standard_webhook(headers: Mapping[str, str], body: bytes, secret: bytes, now: float) -> None:
    """Standard Webhooks, as GitLab signs: `v1,<base64 HMAC-SHA256>` (several, space apart,
    while a secret rotates) over `<id>.<timestamp>.<body>`; a `whsec_` secret is base64."""
    ident, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not ident or not stamp or not signatures:
        raise Refused(401, "no signature")
    try:
        sent = float(stamp)
    except ValueError:
        raise Refused(401, "webhook-timestamp is not a number") from None
    if abs(now - sent) > GITLAB_TOLERANCE:
        raise Refused(401, "webhook-timestamp outside the five minutes allowed")
    key = secret
    if secret.startswith(b"whsec_"):
        try:
            key = base64.b64decode(secret[6:])
        except binascii.Error:
            raise Refused(401, "the signing secret is not base64") from None
    signed = ident.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return
    raise Refused(401, "signature does not match")


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "the body is not a JSON object")
    return data


# --- what an event says ----------------------------------------------------------------------

_GITHUB_ACTIONS = {"closed", "reopened", "assigned", "unassigned", "edited", "milestoned",
                   "demilestoned", "deleted", "transferred"}  # fmt: skip


def read(kind: str, headers: Mapping[str, str], body: bytes, delivery: str) -> Verdict:
    """What a verified delivery is about; `Refused` (400) for a body that is not JSON."""
    data = _json(body)
    if kind == "github":
        event = headers.get("x-github-event", "")
        issue = _object(data.get("issue"))
        ours = (
            event == "issues"
            and data.get("action") in _GITHUB_ACTIONS
            and _marked(issue.get("body"))
        )
        return Verdict(delivery, event, str(issue.get("number")) if ours else None)
    if kind == "gitlab":
        event = headers.get("x-gitlab-event", "")
        attributes = _object(data.get("object_attributes"))
        ours = event == "Issue Hook" and _marked(attributes.get("description"))
        return Verdict(delivery, event, str(attributes.get("iid")) if ours else None)
    if kind == "jira":
        event = str(data.get("webhookEvent") or "")
        issue = _object(data.get("issue"))
        labels = _object(issue.get("fields")).get("labels") or []
        ours = event in ("jira:issue_updated", "jira:issue_deleted") and SYNC_LABEL in labels
        return Verdict(delivery, event, str(issue.get("key")) if ours else None)
    if kind == "linear":
        event = f"{data.get('type')}:{data.get('action')}"
        issue = _object(data.get("data"))
        ours = data.get("type") == "Issue" and _marked(issue.get("description"))
        return Verdict(delivery, event, str(issue.get("identifier")) if ours else None)
    raise Refused(404, f"{kind} trackers send no webhooks pmsync reads")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _marked(text: Any) -> bool:
    """Whether an issue's body carries pmsync's marker: its filing, never its title."""
    return isinstance(text, str) and parse_marker(text) is not None
