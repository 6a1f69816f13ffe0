"""The word lists rules use, read from the data files in rules/data/."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Phrase:
    """A phrase to look for, and what to write instead."""

    pattern: re.Pattern[str]
    label: str
    rewrite: str
    unless: str | None = None  # "threshold", "output" or "mechanism": what makes it concrete

    @classmethod
    def literal(cls, phrase: str, rewrite: str) -> Phrase:
        """A phrase from config: plain words, matched as words, case-insensitively."""
        words = r"\s+".join(re.escape(word) for word in phrase.split())
        return cls(re.compile(rf"\b{words}\b", re.IGNORECASE), phrase, rewrite)


@cache
def _data(name: str) -> dict[str, Any]:
    return tomllib.loads((Path(__file__).parent / "data" / name).read_text(encoding="utf-8"))


def _phrases(name: str) -> tuple[Phrase, ...]:
    return tuple(
        Phrase(
            re.compile(entry["pattern"], re.IGNORECASE),
            entry["label"],
            entry["rewrite"],
            entry.get("unless"),
        )
        for entry in _data(name)["phrase"]
    )


@cache
def vague_phrases() -> tuple[Phrase, ...]:
    return _phrases("vague.toml")


@cache
def blame_phrases() -> tuple[Phrase, ...]:
    return _phrases("blame.toml")


@cache
def word_list(name: str) -> frozenset[str]:
    words: list[str] = _data("words.toml")[name]
    return frozenset(words)


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9'-]*", text.casefold())
