"""Structured logging: JSON lines for machines, a readable console for people, secrets masked.

Logs go to stderr, so that `--format json` output on stdout stays parseable.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

MASK = "********"

# Shapes of credentials that must never be printed, whatever field they arrive in.
_TOKEN_RE = re.compile(
    r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|ATATT[A-Za-z0-9_=-]{20,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    r"|(?i:bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{16,})"
)
_SECRET_KEYS = re.compile(r"(?i)(token|password|secret|api_key|authorization|private_key)")


class Redactor:
    """A structlog processor that masks known secret values and anything shaped like a token."""

    def __init__(self) -> None:
        self._known: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        self._known.update(s for s in secrets if len(s) >= 4)

    def scrub(self, text: str) -> str:
        for secret in self._known:
            text = text.replace(secret, MASK)
        return _TOKEN_RE.sub(MASK, text)

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event.items():
            if _SECRET_KEYS.search(key) and value:
                event[key] = MASK
            elif isinstance(value, str):
                event[key] = self.scrub(value)
            elif isinstance(value, BaseException):
                event[key] = self.scrub(repr(value))
        return event


REDACTOR = Redactor()


def configure(level: str = "info", stream: TextIO | None = None, json: bool | None = None) -> None:
    """Set up structlog once per process; `json` defaults to "stream is not a terminal"."""
    out = stream or sys.stderr
    as_json = (not out.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            REDACTOR,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
