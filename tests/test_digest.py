"""`pmsync digest`: digests built from the tracker, delivered for real to an SMTP server on
loopback (aiosmtpd) and to chat webhooks through `responses`, never twice in one period."""

from __future__ import annotations

import email
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import responses
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser

from connectors.trackers.local import LocalTracker
from rules.followup import FollowupContext
from syncer.cli import main
from syncer.digest import (
    STATE_FILE,
    Changes,
    Recipient,
    build,
    digest,
    period_of,
    render_markdown,
    render_text,
)
from syncer.model import IssueSnapshot, TrackerRef
from syncer.pipeline import sync
from syncer.progress import Entry
from syncer.settings import DigestSettings, Settings, load_settings
from tests.pages import assert_reads_well, browser_session

T0 = datetime(2026, 3, 4, 9, tzinfo=UTC)  # a Wednesday
NOW = T0 + timedelta(days=14)  # 2026-03-18, ISO week 12
DOC = """---
id: PM-7
title: Checkout latency
date: 2026-03-04
team: payments
---
# Checkout latency

## Action items

| Action | Owner | Due |
|---|---|---|
| Alert when the pool is above 90% for 5 minutes | Dana Kim | 2026-03-14 |
| Version the settings file and deploy it through the pipeline | Sam Rivera | 2026-04-13 |
| Add a rollback step to the runbook, with the exact command | | |
| Load-test checkout at twice last year's peak | Priya N | 2026-03-20 |
"""
PEOPLE = """
[[people]]
name = "Dana Kim"
manager = "Lee Park"

[[people]]
name = "Sam Rivera"
manager = "Lee Park"

[[people]]
name = "Priya N"
manager = "Lee Park"

[[people]]
name = "Lee Park"
email = "lee@example.com"
"""
HOOK = "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#incidents"


@dataclass
class Mailbox:
    """An SMTP server on loopback; `refuse` makes it reject every recipient."""

    port: int = 0
    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    refuse: bool = False

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return "550 5.7.1 relaying denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def url(self, to: str | None = None) -> str:
        base = f"mailto://127.0.0.1:{self.port}?mode=insecure&from=pmsync@example.com"
        return base + (f"&to={to}" if to else "")

    def to(self, address: str) -> list[Message]:
        return [message for rcpt, message in self.messages if address in rcpt]


class _AnyPort(Controller):
    """An SMTP server on the free port the system gives it (port 0), which it reports."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    server = _AnyPort(box, hostname="127.0.0.1", port=0)
    server.start()
    box.port = server.port
    try:
        yield box
    finally:
        server.stop()


def _project(tmp_path: Path, digest_toml: str) -> Settings:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "pm-7.md").write_text(DOC)
    (tmp_path / "people.toml").write_text(PEOPLE)
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[trackers.local]\nkind = "local"\n[routing]\ndefault = "local"\n'
        '[followup]\nstale_after_days = 7\n[policy]\npreset = "off"\n' + digest_toml
    )
    return load_settings(tmp_path / "config.toml")


def _tracker(settings: Settings, user: str, when: datetime) -> LocalTracker:
    store = settings.path(settings.state_dir) / "local-tracker.sqlite3"
    return LocalTracker("local", store, user=user, clock=lambda: when)


def _seed(settings: Settings) -> dict[str, TrackerRef]:
    """Sync at T0; Sam and Priya comment later, so only Dana's item and the unowned one stall."""
    sync(settings, dry_run=False, trackers={"local": _tracker(settings, "pmsync", T0)})
    snaps = _tracker(settings, "pmsync", T0).snapshot()
    refs = {snap.title.split()[0]: snap.ref for snap in snaps}
    _tracker(settings, "Sam Rivera", NOW - timedelta(days=2)).comment(refs["Version"], "On it.")
    _tracker(settings, "Priya N", NOW - timedelta(days=1)).comment(refs["Load-test"], "Booked.")
    _tracker(settings, "pmsync", T0).add_labels(refs["Alert"], ("escalated",))  # as check does
    return refs


def _html(message: Message) -> str:
    """The HTML part, less the spans that keep dates on one line (presentation only)."""
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return re.sub(
                r'<span style="white-space:nowrap">([^<]*)</span>', r"\1", payload.decode()
            )
    raise AssertionError("no HTML part")


def _plain(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no plain-text part")


def _section(html: str, title: str) -> str:
    """The HTML between one section heading and the next."""
    start = html.index(f"<h3>{title}")
    end = html.find("<h3>", start + 1)
    return html[start : end if end > 0 else None]


def test_digests_arrive_by_email_with_every_stale_item_once_per_period(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    settings = _project(
        tmp_path,
        f'[digest]\nemail_url = "{mailbox.url()}"\n'
        f'[digest.lists.lead]\nchannels = ["{mailbox.url("lead@example.com")}"]\n',
    )
    refs = _seed(settings)

    run = digest(settings, now=NOW, dry_run=False)

    assert [(d.recipient, d.status) for d in run.deliveries] == [
        ("lead", "sent"),
        ("manager:Lee Park", "sent"),
    ]
    [lead] = mailbox.to("lead@example.com")
    assert lead["Subject"] == "Post-mortem actions, 2026-W12: 1 overdue, 2 stalled, 1 unowned"
    assert lead.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in lead.get_payload()] == ["text/plain", "text/html"]
    html, plain = _html(lead), _plain(lead)
    assert "For the lead list" in plain
    # What changed and who is behind come first.
    assert "Since Monday 2026-03-16: 0 opened, 0 closed, 0 newly overdue" in plain
    assert "Falling behind: payments (1 overdue, the oldest 4 days)" in plain
    # Needs you: the escalated item and the one nobody owns; each item once, in its most
    # urgent section, with how late it is and how long nobody touched it.
    needs, team = _section(html, "Needs you (2)"), _section(html, "payments (1)")
    assert "Alert when the pool is above 90% for 5 minutes (local #1)" in needs
    assert "Dana Kim; due 2026-03-14, 4 days overdue; no activity for 14 days; escalated" in needs
    assert html.count("Alert when the pool") == 1
    assert "Add a rollback step to the runbook, with the exact command (local #3)" in needs
    assert "no owner; no activity for 14 days" in needs
    assert "payments / Checkout latency" in needs
    assert "Version the settings" not in html  # Sam commented two days ago: nothing to say
    assert "<h4>Due in the next 7 days (1)</h4>" in team
    assert "Priya N; due 2026-03-20; 14 days since the incident" in team
    # Rows of a tracker with no web address name the tracker and number, never a file path.
    assert "file://" not in html + plain
    assert "Checkout latency (payments): 0 of 4 done, 1 overdue; review on 2026-04-01" in plain
    # headline figures: 4 open, 1 overdue, none done, 14 days since the incident
    assert "<b>Open</b>: 4<br>" in html
    for figure in (
        "Open: 4",
        "Overdue: 1",
        "Completion rate: 0%",
        "Median days since the incident, open items: 14",
    ):
        assert figure in plain, figure
    assert "no trend yet" in plain
    # The plain-text part reads on its own: a line per item, with its place and its detail.
    assert "\nAlert when the pool is above 90% for 5 minutes (local #1)\r\n" in plain
    assert "\nFalling behind: payments" in plain

    [manager] = mailbox.to("lee@example.com")
    manager_html = _html(manager)
    assert "For Lee Park" in manager_html
    assert "Alert when the pool" in manager_html
    assert "Load-test checkout" in manager_html
    assert "Add a rollback" not in manager_html  # nobody reports to Lee for an unowned item

    again = digest(settings, now=NOW + timedelta(days=2), dry_run=False)
    assert {d.status for d in again.deliveries} == {"skipped"}
    assert len(mailbox.messages) == 2

    # Next week: Priya closed her item, and an item added after the digest was done at once;
    # the lead sees both completed, and the trend.
    _tracker(settings, "Priya N", NOW + timedelta(days=3)).close(refs["Load-test"], "completed")
    doc = settings.path(settings.state_dir).parent / "docs" / "pm-7.md"
    doc.write_text(DOC + "| Drain the pool before each deploy | Sam Rivera | 2026-03-25 |\n")
    sync(
        settings,
        dry_run=False,
        trackers={"local": _tracker(settings, "pmsync", NOW + timedelta(days=3))},
    )
    [added] = [
        s for s in _tracker(settings, "pmsync", NOW).snapshot() if s.title.startswith("Drain")
    ]
    _tracker(settings, "Sam Rivera", NOW + timedelta(days=4)).close(added.ref, "completed")
    digest(settings, now=NOW + timedelta(days=7), dry_run=False)
    second = mailbox.to("lead@example.com")[-1]
    assert second["Subject"].startswith("Post-mortem actions, 2026-W13:")
    text = _plain(second)
    completed = _section(_html(second), "Completed since the last digest")
    assert "Load-test checkout at twice last year&#x27;s peak (local #4)" in completed
    assert f"Drain the pool before each deploy (local {added.ref.key})" in completed
    assert "Completed since the last digest (2)" in completed
    assert "Since the last digest: 1 opened, 2 closed, 0 newly overdue" in text
    assert "Open: 3 (-1 since last digest)" in text
    assert "Completion rate: 40% (+40 pt since last digest)" in text
    assert len(mailbox.messages) == 4


def test_a_failed_channel_is_reported_others_deliver_and_it_is_retried(
    tmp_path: Path, mailbox: Mailbox, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _project(
        tmp_path,
        "[digest.lists.lead]\n"
        f'channels = ["{mailbox.url("lead@example.com")}", "{SLACK}", "file://out"]\n',
    )
    _seed(settings)
    mailbox.refuse = True
    with responses.RequestsMock() as hook:
        hook.post(HOOK, status=500, body="server error")
        code = main(["--config", str(tmp_path / "config.toml"), "digest", "--now", NOW.isoformat()])
    shown = capsys.readouterr()
    assert code == 1
    rows = {line.split()[1][:8]: line for line in shown.out.splitlines()[1:] if line.strip()}
    assert "failed" in rows["mailto:/"]
    assert "failed" in rows["slack://"]
    assert "lead@example.com" in rows["mailto:/"]
    assert "500" in rows["slack://"]
    assert "sent" in rows["file://o"]
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in shown.out + shown.err
    assert (tmp_path / "out" / "lead-2026-W12.html").is_file()
    assert "Alert when the pool" in (tmp_path / "out" / "lead-2026-W12.txt").read_text()

    # The next run retries only what failed; the file is not written twice.
    (tmp_path / "out" / "lead-2026-W12.txt").unlink()
    mailbox.refuse = False
    with responses.RequestsMock() as hook:
        hook.post(HOOK, body="ok")
        code = main(["--config", str(tmp_path / "config.toml"), "digest", "--now", NOW.isoformat()])
        [call] = hook.calls
    assert code == 0
    message = json.loads(call.request.body or "{}")["attachments"][0]["text"]
    assert "Alert when the pool is above 90% for 5 minutes (local #1)" in message
    assert "file://" not in message
    assert len(mailbox.messages) == 1
    assert not (tmp_path / "out" / "lead-2026-W12.txt").exists()


def test_a_lost_or_broken_state_file_means_no_trend_not_an_error(tmp_path: Path) -> None:
    settings = _project(tmp_path, '[digest.lists.lead]\nchannels = ["file://out"]\n')
    _seed(settings)
    assert digest(settings, now=NOW, dry_run=False).deliveries[0].status == "sent"
    state = settings.path(settings.state_dir) / STATE_FILE
    state.write_text("{ not json")
    run = digest(settings, now=NOW + timedelta(days=7), dry_run=False)
    assert run.deliveries[0].status == "sent"
    assert run.problems == []
    assert run.digests[0].previous is None
    assert json.loads(state.read_text())["recipients"]["lead"]["periods"].keys() == {"2026-W13"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from browser_session()


def test_the_digest_reads_well_on_a_phone(tmp_path: Path, browser: Browser) -> None:
    """The e-mail's HTML, opened at desktop and phone widths: nothing wider than the window."""
    settings = _project(tmp_path, '[digest.lists.lead]\nchannels = ["file://out"]\n')
    _seed(settings)
    assert digest(settings, now=NOW, dry_run=False).deliveries[0].status == "sent"
    page = tmp_path / "out" / "lead-2026-W12.html"
    assert "Needs you (2)" in page.read_text()
    assert_reads_well(browser, page)


def test_dry_run_prints_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _project(tmp_path, '[digest.lists.lead]\nchannels = ["file://out"]\n')
    _seed(settings)
    out = tmp_path / "digest.html"
    argv = ["--config", str(tmp_path / "config.toml"), "digest", "--dry-run"]
    assert main([*argv, "--now", NOW.isoformat(), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "NEEDS YOU (2)" in printed
    assert "would send" in printed
    assert "<h3>Needs you (2)</h3>" in out.read_text()
    assert not (tmp_path / "out").exists()
    assert not (settings.path(settings.state_dir) / STATE_FILE).exists()


def test_review_invitations_are_attached_in_the_week_of_the_review(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    settings = _project(
        tmp_path, f'[digest.lists.lead]\nchannels = ["{mailbox.url("lead@example.com")}"]\n'
    )
    _seed(settings)
    reviews = settings.path(settings.state_dir) / "reviews"
    reviews.mkdir(parents=True)
    from syncer.review import review_key

    (reviews / f"{review_key('PM-7')}.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    review = datetime(2026, 4, 1, 9, tzinfo=UTC)  # incident + 4 weeks
    digest(settings, now=review - timedelta(days=7), dry_run=False)
    digest(settings, now=review, dry_run=False)
    before, during = mailbox.to("lead@example.com")
    assert not [p for p in before.walk() if p.get_filename()]
    [invite] = [p for p in during.walk() if p.get_filename()]
    assert invite.get_filename() == f"{review_key('PM-7')}.ics"


def test_channel_urls_are_secrets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, f'[digest.lists.lead]\nchannels = ["{SLACK}"]\n')
    assert main(["--config", str(tmp_path / "config.toml"), "config", "check"]) == 0
    shown = capsys.readouterr().out
    assert "[digest.lists.lead]" in shown
    assert 'channels = ["********"]' in shown
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in shown


def test_periods() -> None:
    assert period_of(datetime(2026, 1, 1, tzinfo=UTC), "week")[0] == "2026-W01"
    assert period_of(datetime(2024, 12, 30, tzinfo=UTC), "week")[0] == "2025-W01"
    assert period_of(datetime(2026, 3, 18, tzinfo=UTC), "day")[0] == "2026-03-18"


def test_the_headline_counts_what_changed_since_the_last_digest() -> None:
    """Opened after the last digest, closed since (open then), and overdue since: an item due
    the day of the last digest became overdue after it; one due before it was overdue then."""
    last = NOW - timedelta(days=7)

    def entry(n: int, created: datetime, due: int, state: str = "open") -> Entry:
        snap = IssueSnapshot(
            ref=TrackerRef("gh", f"#{n}", f"https://github.test/a/b/issues/{n}"),
            item_key=f"{n:012x}",
            state=state,  # type: ignore[arg-type]
            title=f"Item {n}",
            body="",
            assignees=("dana",),
            due=(last + timedelta(days=due)).date(),
            created_at=created,
            updated_at=created,
        )
        return Entry("gh", snap, "payments", "PM-7", "Checkout latency", ("Dana Kim",))

    entries = [
        entry(1, T0, due=0),  # due the day of the last digest: overdue since
        entry(2, T0, due=-1),  # overdue already then
        entry(3, last + timedelta(days=1), due=30),  # opened since
        entry(4, T0, due=30, state="closed"),  # open then, closed since
    ]
    state = {"periods": {"2026-W11": {"at": last.isoformat(), "open": ["000000000004"]}}}
    built = build(
        Recipient("lead", (), title="the lead list"),
        entries,
        context=FollowupContext(now=NOW),
        settings=DigestSettings(),
        state=state,
    )
    assert built.changes == Changes("the last digest", opened=1, closed=1, newly_overdue=1)
    assert "Since the last digest: 1 opened, 1 closed, 1 newly overdue" in render_text(built)
    markdown = render_markdown(built)
    assert "[#1 Item 1](https://github.test/a/b/issues/1)" in markdown  # chat links
    assert "7 days overdue" in markdown
