"""HTML post-mortems: Confluence storage format and exports, read through the same extraction,
and parsed safely whatever the input holds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connectors.extract import extract, extract_file
from connectors.extract.html import html_to_markdown
from rules import check, select_rules
from syncer.model import Document, DocumentRef, Postmortem

FIXTURES = Path(__file__).parent / "fixtures"


def _html(text: str) -> Postmortem:
    return extract(Document(DocumentRef("t", "page", "page.html"), "page", text, "html"))


def _fields(pm: Postmortem) -> list[tuple[object, ...]]:
    return [(i.title, i.owner, i.due, i.due_text, i.status, i.tickets, i.line) for i in pm.items]


def test_confluence_storage_tasks_tables_mentions_dates_and_macros() -> None:
    pm = extract_file(FIXTURES / "confluence-storage.xml")
    assert (pm.title, pm.incident_date) == ("Payments API outage", date(2026, 3, 4))
    assert _fields(pm) == [
        (
            "Version the payments settings file",
            "5b10ac8d82e05b22cc7d4ef5",
            date(2026, 4, 15),
            "2026-04-15",
            "open",
            (),
            12,
        ),
        ("Add a rollback runbook step", "priya", date(2026, 3, 20), "2026-03-20", "done", (), 17),
        (
            "Alert when the pool is above 90% for 5 minutes",
            "sam",
            date(2026, 3, 31),
            "2026-03-31",
            "IN PROGRESS",
            ("PAY-312",),
            28,
        ),
        (
            "Load-test checkout at twice last year's peak & publish the results",
            "Dana Kim",
            date(2026, 4, 30),
            "30 April 2026",
            "DONE",
            ("https://acme.atlassian.net/browse/PAY-313",),
            31,
        ),
    ]
    assert pm.items[2].kind == "Longer term"


def test_google_docs_export_tables_lists_checkboxes_and_redirect_links() -> None:
    pm = extract_file(FIXTURES / "sources" / "drive" / "search-index-stale.html")
    assert (pm.title, pm.incident_date) == ("Search index stale after deploy", date(2026, 7, 2))
    assert _fields(pm) == [
        (
            "Page when the newest indexed document is over 30 minutes old",
            "Sam Rivera",
            date(2026, 7, 20),
            "July 20, 2026",
            None,
            ("https://github.com/acme/search/issues/88",),
            9,
        ),
        (
            "Make the indexer deploy resumable | idempotent",
            "Lee Park",
            None,
            "next quarter",
            None,
            (),
            10,
        ),
        (
            "Add the freshness check to the deploy pipeline",
            "Priya",
            date(2026, 7, 31),
            "2026-07-31",
            "open",
            (),
            14,
        ),
        ("Announce the incident in #search", None, None, None, "done", (), 14),
    ]


def test_an_html_date_not_understood_is_flagged_at_its_html_line() -> None:
    pm = extract_file(FIXTURES / "sources" / "drive" / "search-index-stale.html")
    flagged = [(f.code, f.line) for f in check(pm, select_rules()) if f.code == "PM202"]
    assert flagged == [("PM202", 10)]


def test_timeline_mentions_and_code_macros_are_not_items() -> None:
    pm = extract_file(FIXTURES / "confluence-storage.xml")
    titles = " ".join(i.title for i in pm.items)
    assert "paged" not in titles
    assert "rm -rf" not in titles


def test_confluence_export_view_format() -> None:
    pm = _html(
        """
        <h2>Follow-up actions</h2>
        <ul class="inline-task-list" data-inline-tasks-content-id="1">
          <li class="checked" data-inline-task-id="1">Rotate the leaked key
            <a class="confluence-userlink user-mention" data-username="dana" href="/display/~dana">Dana Kim</a>
            <time datetime="2026-08-01" class="date-past">01 Aug 2026</time></li>
          <li data-inline-task-id="2"><s>Email every customer</s></li>
        </ul>
        """
    )
    assert [(i.title, i.owner, i.due, i.status) for i in pm.items] == [
        ("Rotate the leaked key", "Dana Kim", date(2026, 8, 1), "done"),
        ("Email every customer", None, None, "done"),
    ]


def test_markup_in_text_is_not_read_as_markdown() -> None:
    pm = _html(
        "<h2>Action items</h2><ol><li># not a heading * and [x] not a box | pipe</li>"
        "<li>1. still text</li></ol>"
    )
    assert [i.title for i in pm.items] == [
        "# not a heading * and [x] not a box | pipe",
        "1. still text",
    ]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<h2>Action items</h2><ul><li>Expand &lol9; and &xxe; now</li></ul>"""


def test_entity_definitions_are_never_expanded() -> None:
    markdown, _ = html_to_markdown(BILLION_LAUGHS)
    assert len(markdown) < 200
    assert "root:" not in markdown
    (item,) = _html(BILLION_LAUGHS).items
    assert item.title == "Expand &lol9; and &xxe; now"


@pytest.mark.parametrize("tag", ["div", "ul", "table", "b", "ac:task-list"])
def test_ten_thousand_levels_of_nesting_are_read_without_recursion(tag: str) -> None:
    inner = "<li>" if tag == "ul" else ""
    text = (f"<{tag}>{inner}" * 10_000) + "deep" + f"</{tag}>" * 10_000
    pm = _html("<h2>Action items</h2><ul><li>Add a canary</li></ul>" + text)
    assert pm.items[0].title == "Add a canary"


def test_unclosed_and_stray_tags_do_not_lose_text() -> None:
    pm = _html("<h2>Action items<ul><li>Add a canary</b></i><li>Page on errors</ul></p></div>")
    assert [i.title for i in pm.items] == ["Add a canary", "Page on errors"]


def test_confluence_mentions_after_an_owner_label_and_status_macros_in_lists() -> None:
    pm = extract_file(FIXTURES / "sources" / "confluence" / "10003.xml")
    assert _fields(pm)[:2] == [
        (
            "Monitor certificate expiry for every CDN hostname, alerting 21 days ahead",
            "8a80cb81780b5a3f01780b5b9e7d0000",
            date(2026, 7, 31),
            "2026-07-31",
            None,
            (),
            6,
        ),
        (
            "Move the CDN certificate to automated ACME renewal",
            "Jonas Weber",
            date(2026, 8, 15),
            "2026-08-15",
            "IN REVIEW",
            (),
            7,
        ),
    ]


def test_tasks_in_an_expand_macro_beside_an_action_table_are_items() -> None:
    pm = extract_file(FIXTURES / "sources" / "confluence" / "10002.xml")
    titles = [item.title for item in pm.items]
    assert titles[3:] == [
        "Share the load-test results with the payments team",
        "Remove the manual retry flag from the ledger deploy script",
    ]
    assert (
        "0b6c5e9e"
        not in html_to_markdown((FIXTURES / "sources/confluence/10002.xml").read_text())[0]
    )


def test_a_date_in_a_due_cell_followed_by_a_note_is_the_due_date() -> None:
    page = (
        "<h2>Action items</h2><table><tr><th>Action</th><th>Owner</th><th>Due</th></tr>"
        '<tr><td>Rotate the keys</td><td>Dana</td><td><time datetime="2026-08-01" />'
        " (moved from July)</td></tr></table>"
    )
    item = extract(Document(DocumentRef("t", "p.html", "p.html"), "p", page, "html")).items[0]
    assert (item.title, item.due, item.due_text) == (
        "Rotate the keys",
        date(2026, 8, 1),
        "2026-08-01 (moved from July)",
    )
