"""Due dates: every written form pmsync understands, and the ones it must refuse."""

from datetime import date

import pytest

from connectors.extract.dates import first_iso_date, parse_due

DOC_DATE = date(2026, 3, 4)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-15", date(2026, 4, 15)),
        ("2026/04/15", date(2026, 4, 15)),
        ("by 2026-04-15", date(2026, 4, 15)),
        ("5 March 2026", date(2026, 3, 5)),
        ("5th of March 2026", date(2026, 3, 5)),
        ("March 5, 2026", date(2026, 3, 5)),
        ("Mar 5th 2026", date(2026, 3, 5)),
        ("March 5", date(2026, 3, 5)),
        ("Sept 3", date(2026, 9, 3)),
        ("13/04/2026", date(2026, 4, 13)),
        ("04/13/2026", date(2026, 4, 13)),
        ("Q2 2026", date(2026, 6, 30)),
        ("end of Q2", date(2026, 6, 30)),
        ("Q4", date(2026, 12, 31)),
        ("April 2026", date(2026, 4, 30)),
        ("EOW", date(2026, 3, 6)),
        ("end of month", date(2026, 3, 31)),
        ("EOM", date(2026, 3, 31)),
        ("in 2 weeks", date(2026, 3, 18)),
        ("in 10 days", date(2026, 3, 14)),
        ("in a month", date(2026, 4, 4)),
    ],
)
def test_understood_forms_give_one_date(text: str, expected: date) -> None:
    assert parse_due(text, DOC_DATE) == expected


@pytest.mark.parametrize(
    "text",
    ["soon", "next sprint", "ASAP", "2026-02-30", "32 March 2026", "", "TBD", "Q5 2026", "later"],
)
def test_anything_not_understood_gives_no_date(text: str) -> None:
    assert parse_due(text, DOC_DATE) is None


def test_ambiguous_numeric_dates_follow_the_configured_order() -> None:
    assert parse_due("03/04/2026", DOC_DATE) == date(2026, 3, 4)
    assert parse_due("03/04/2026", DOC_DATE, day_first=True) == date(2026, 4, 3)


@pytest.mark.parametrize("text", ["March 5", "in 2 weeks", "EOM", "end of Q2"])
def test_relative_forms_need_the_document_date(text: str) -> None:
    assert parse_due(text, None) is None


def test_first_iso_date_skips_impossible_dates() -> None:
    assert first_iso_date("2026-13-01 then 2025-08-12-outage") == date(2025, 8, 12)
    assert first_iso_date("no date here") is None
