"""Due dates as teams write them, read only when there is no doubt.

`parse_due` returns a date or None; it never guesses. Relative forms ("in 2 weeks", "EOM",
"March 5") need the document's date as `reference`, and give None without one.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from syncer.lazy import LazyPattern, lazy

_MONTHS = {
    name.casefold(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"

_ISO = lazy(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})")
_NUMERIC = lazy(r"(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<year>\d{4}|\d{2})")
_DAY_MONTH = lazy(rf"{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?", re.IGNORECASE)
_MONTH_DAY = lazy(rf"{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?", re.IGNORECASE)
_MONTH_YEAR = lazy(rf"(?:end\s+of\s+)?{_MONTH}\s+{_YEAR}", re.IGNORECASE)
_QUARTER = lazy(
    r"(?:(?:the\s+)?end\s+of\s+)?(?:Q(?P<q>[1-4])|(?P<q2>[1-4])Q)(?:\s*(?:FY)?\s*'?(?P<year>\d{4}|\d{2}))?",
    re.IGNORECASE,
)
_RELATIVE = lazy(
    r"in\s+(?P<n>\d+|a|an|one|two|three|four|six)\s+(?P<unit>day|week|month)s?", re.IGNORECASE
)

_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6}
_END_OF = {
    "eod": "day",
    "end of day": "day",
    "eow": "week",
    "end of week": "week",
    "end of the week": "week",
    "eom": "month",
    "end of month": "month",
    "end of the month": "month",
    "eoy": "year",
    "end of year": "year",
    "end of the year": "year",
}


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_period(day: date, count: int, unit: str) -> date:
    """`count` days, weeks or months after `day`; a month later than 31 January is its last
    day of February."""
    if unit == "day":
        return day + timedelta(days=count)
    if unit == "week":
        return day + timedelta(weeks=count)
    index = day.month - 1 + count
    year, month = day.year + index // 12, index % 12 + 1
    return min(_end_of_month(year, month), _safe_date(year, month, day.day) or date.max)


def _year(text: str | None, reference: date | None) -> int | None:
    if text is None:
        return reference.year if reference else None
    value = int(text)
    return value + 2000 if value < 100 else value


def _fully(pattern: LazyPattern, text: str) -> re.Match[str] | None:
    return pattern.fullmatch(text)


def parse_due(text: str, reference: date | None = None, *, day_first: bool = False) -> date | None:
    """The date `text` names, or None when it does not name exactly one date."""
    cleaned = re.sub(r"\s+", " ", text.strip().strip("*_").strip()).rstrip(".")
    cleaned = re.sub(r"^(?:by|before|on|due|until)\s+", "", cleaned, flags=re.IGNORECASE)
    if not cleaned:
        return None

    if match := _fully(_ISO, cleaned):
        return _safe_date(int(match["year"]), int(match["month"]), int(match["day"]))

    if match := _fully(_NUMERIC, cleaned):
        a, b = int(match["a"]), int(match["b"])
        year = _year(match["year"], reference)
        if year is None:
            return None
        if a > 12 >= b:
            return _safe_date(year, b, a)
        if b > 12 >= a:
            return _safe_date(year, a, b)
        return _safe_date(year, b, a) if day_first else _safe_date(year, a, b)

    for pattern in (_DAY_MONTH, _MONTH_DAY):
        if match := _fully(pattern, cleaned):
            year = _year(match["year"], reference)
            month = _MONTHS[match["month"].casefold()]
            if year is None:
                return None
            return _safe_date(year, month, int(match["day"]))

    if match := _fully(_MONTH_YEAR, cleaned):
        return _end_of_month(int(match["year"]), _MONTHS[match["month"].casefold()])

    if match := _fully(_QUARTER, cleaned):
        quarter = int(match["q"] or match["q2"])
        year = _year(match["year"], reference)
        return None if year is None else _end_of_month(year, quarter * 3)

    if reference is None:
        return None

    if match := _fully(_RELATIVE, cleaned):
        raw = match["n"].casefold()
        count = int(raw) if raw.isdigit() else _WORD_NUMBERS[raw]
        return add_period(reference, count, match["unit"].casefold())

    span = _END_OF.get(cleaned.casefold())
    if span == "day":
        return reference
    if span == "week":
        return reference + timedelta(days=(4 - reference.weekday()) % 7)
    if span == "month":
        return _end_of_month(reference.year, reference.month)
    if span == "year":
        return date(reference.year, 12, 31)
    return None


_DATE_IN_TEXT = lazy(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def first_iso_date(text: str) -> date | None:
    """The first YYYY-MM-DD date in `text` (a title or file name), if it is a real date."""
    for match in _DATE_IN_TEXT.finditer(text):
        found = _safe_date(int(match[1]), int(match[2]), int(match[3]))
        if found:
            return found
    return None


_STATED_RE = lazy(
    r"^[\s*_>|-]*(?:incident\s+)?(?:date|when|occurred|started)[\s*_]*[:|][\s*_]*(?P<value>[^|\n]{6,40})",
    re.IGNORECASE | re.MULTILINE,
)


def stated_date(text: str) -> date | None:
    """A `Date: 5 March 2026` / `**Incident date:** 2026-03-05` line near the top, if any."""
    head = "\n".join(text.splitlines()[:40])
    for match in _STATED_RE.finditer(head):
        value = re.split(r"\s+(?:at\s+)?\d{1,2}:\d{2}|,\s*\d{1,2}:\d{2}", match["value"].strip())[0]
        found = parse_due(value.strip(" *_."))
        if found is not None:
            return found
    return None


_HALF = lazy(r"(?:(?:the\s+)?end\s+of\s+)?H(?P<h>[12])(?:\s*(?:FY)?\s*'?(?P<year>\d{4}))?", re.I)
_WHOLE_YEAR = lazy(r"(?:(?:the\s+)?end\s+of\s+)?(?:FY\s*)?(?P<year>20\d{2})", re.I)
_NEXT = lazy(r"(?P<which>this|next)\s+(?P<unit>week|month|quarter|year)", re.I)


def timeframe_end(text: str, reference: date) -> date | None:
    """The last day of a period an item is due in (`Q2 2026`, `H1`, `2026`, `next month`), as of
    `reference` (the incident); None when the text names no period with a clear end ("before
    the freeze", "next sprint")."""
    cleaned = re.sub(r"\s+", " ", text.strip().strip("*_").strip()).rstrip(".")
    cleaned = re.sub(r"^(?:by|before|in|during|until)\s+", "", cleaned, flags=re.IGNORECASE)
    month = 0
    if (match := _QUARTER.fullmatch(cleaned)) is not None:
        month = 3 * int(match["q"] or match["q2"])
    elif (match := _HALF.fullmatch(cleaned)) is not None:
        month = 6 * int(match["h"])
    if match is not None:
        # A quarter or half without a year is the next one to end after the incident.
        year = _year(match["year"], reference) or reference.year
        end = _end_of_month(year, month)
        return end if match["year"] or end >= reference else _end_of_month(year + 1, month)
    found = parse_due(text, reference)
    if found is not None:
        return found
    if match := _WHOLE_YEAR.fullmatch(cleaned):
        return date(int(match["year"]), 12, 31)
    if match := _NEXT.fullmatch(cleaned):
        step = 1 if match["which"].casefold() == "next" else 0
        unit = match["unit"].casefold()
        if unit == "week":
            return reference + timedelta(days=(6 - reference.weekday()) + 7 * step)
        if unit == "year":
            return date(reference.year + step, 12, 31)
        months = 3 if unit == "quarter" else 1
        first = (reference.month - 1) // months * months  # the period's first month, from 0
        index = first + months * (step + 1) - 1
        return _end_of_month(reference.year + index // 12, index % 12 + 1)
    return None
