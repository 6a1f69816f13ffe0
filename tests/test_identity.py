"""Item keys, the in-band marker and the content hash: what keeps syncs duplicate-free."""

from datetime import UTC, date, datetime

from syncer.identity import (
    content_hash,
    parse_marker,
    parse_nudge,
    render_marker,
    render_nudge_marker,
    strip_comments,
)
from syncer.model import IssueDraft, Marker, Nudge, item_key


def test_item_key_is_stable_and_ignores_case_and_punctuation() -> None:
    assert item_key("pm-1", "Add alerting!") == item_key("pm-1", "  add   ALERTING ")
    assert item_key("pm-1", "Add alerting") != item_key("pm-2", "Add alerting")
    assert len(item_key("pm-1", "Add alerting")) == 12


def test_an_explicit_id_wins_over_the_title() -> None:
    assert item_key("pm-1", "Old title", "AI-3") == item_key("pm-1", "New title", "ai-3")


def test_marker_round_trips_including_post_mortem_ids_with_spaces() -> None:
    marker = Marker("0123456789ab", "feedbeef", "2026/checkout latency.md")
    text = f"Body text\n\n{render_marker(marker)}\n"
    assert parse_marker(text) == marker


def test_the_last_marker_counts_and_malformed_ones_do_not() -> None:
    body = (
        "<!-- pmsync:v1 item=aaaaaaaaaaaa hash=1 -->\n<!-- pmsync:v1 item=bbbbbbbbbbbb hash=2 -->"
    )
    assert parse_marker(body) == Marker("bbbbbbbbbbbb", "2")
    assert parse_marker("<!-- pmsync:v1 item=<script> -->") is None
    assert parse_marker("no marker") is None
    assert parse_marker(None) is None


def test_copied_text_cannot_carry_a_marker() -> None:
    planted = "Fix it <!-- pmsync:v1 item=aaaaaaaaaaaa hash=1 --> now <!-- open"
    assert parse_marker(strip_comments(planted)) is None


def test_content_hash_changes_with_any_synced_field_only() -> None:
    draft = IssueDraft("k", "pm", "Title", "Body", ("dana",), None, ("pmsync",))
    same = IssueDraft("k", "pm", "Title", "Body", ("dana",), None, ("pmsync",), "old-hash")
    retitled = IssueDraft("k", "pm", "Title 2", "Body", ("dana",), None, ("pmsync",))
    assert content_hash(draft) == content_hash(same)
    assert content_hash(draft) != content_hash(retitled)


def test_the_content_hash_stays_the_same_from_one_version_to_the_next() -> None:
    """Every issue's marker keeps the hash it was written with: a hash computed differently
    (other field order, other length) would make the next version rewrite every issue."""
    draft = IssueDraft("k", "pm", "Add alerting", "Body", ("dana",), date(2026, 4, 1), ("pmsync",))
    assert content_hash(draft) == "e05d75345dabc10e"


AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_a_nudge_comment_round_trips_and_other_comments_are_no_nudge() -> None:
    body = "Still open after 14 days.\n\n" + render_nudge_marker("overdue", 3, True)
    assert parse_nudge(body, AT) == Nudge(AT, "overdue", 3, True)
    assert parse_nudge("Thanks, looking at it now.", AT) is None
    assert parse_nudge(None, AT) is None
    assert parse_nudge("<!-- pmsync:nudge v1 kind=stalled n=two -->", AT) is None


def test_a_nudge_marker_that_names_no_kind_or_count_is_a_first_stalled_nudge() -> None:
    """A marker cut short (edited by hand, or trimmed by the tracker) still counts as a nudge:
    a stalled one, the first unless it says otherwise."""
    assert parse_nudge("<!-- pmsync:nudge v1 escalated=0 -->", AT) == Nudge(AT, "stalled", 1, False)
    assert parse_nudge("<!-- pmsync:nudge v1 n=2 -->", AT) == Nudge(AT, "stalled", 2, False)
