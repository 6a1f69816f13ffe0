"""YAML front matter at the top of a document (`---` ... `---`), read safely."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from syncer.errors import DocumentError

_FRONT_RE = re.compile(
    r"\A(?:\ufeff)?---[ \t]*\r?\n(?P<body>.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*$\r?\n?",
    re.DOTALL | re.MULTILINE,
)
_MAX_FRONT_MATTER = 64 * 1024


@dataclass(frozen=True, slots=True)
class FrontMatter:
    data: dict[str, Any]
    body: str
    line_offset: int

    def text(self, *keys: str) -> str | None:
        for key in keys:
            value = self.data.get(key)
            if value is not None and str(value).strip():
                return str(value).strip()
        return None

    def date(self, *keys: str) -> date | None:
        for key in keys:
            value = self.data.get(key)
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            if isinstance(value, str):
                try:
                    return date.fromisoformat(value.strip()[:10])
                except ValueError:
                    continue
        return None


def split_front_matter(text: str, path: str) -> FrontMatter:
    """Separate front matter from the body; the body keeps its line numbers via `line_offset`."""
    match = _FRONT_RE.match(text)
    if not match:
        return FrontMatter({}, text.removeprefix("\ufeff"), 0)
    raw = match["body"]
    if len(raw) > _MAX_FRONT_MATTER:
        raise DocumentError(path, "front matter is larger than 64 KiB", line=1)
    import yaml  # only documents with front matter need it

    try:
        # libyaml's loader where PyYAML was built with it: the same safe subset, in C.
        data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        error = exc
        try:  # the pure-Python loader says where the problem is the way people count lines
            yaml.safe_load(raw)
        except yaml.YAMLError as again:
            error = again
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        # One line, as every finding is: what is wrong, and at which column.
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        where = f" (column {mark.column + 1})" if mark is not None else ""
        message = f"front matter is not valid YAML: {problem}{where}"
        raise DocumentError(path, message, line=line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DocumentError(path, "front matter is not a mapping of keys to values", line=1)
    consumed = text[: match.end()]
    return FrontMatter(data, text[match.end() :], consumed.count("\n"))
