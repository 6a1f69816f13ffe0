"""Structured logging: JSON lines for machines, a readable console for people, secrets masked.

Logs go to stderr, so that `--format json` output on stdout stays parseable.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

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


_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "exception": 40, "critical": 50}
# What `configure` was asked for, applied when structlog is first needed: a command that logs
# nothing at its level (`lint`, `--help`) never imports it.
_pending: dict[str, Any] = {"level": "debug", "stream": None, "json": None, "done": True}


def configure(level: str = "info", stream: TextIO | None = None, json: bool | None = None) -> None:
    """Set up structlog once per process; `json` defaults to "stream is not a terminal"."""
    _pending.update(level=level, stream=stream, json=json, done=False)
    if "structlog" in sys.modules:
        _apply()


def _apply() -> None:
    import structlog

    _pending["done"] = True
    out = _pending["stream"] or sys.stderr
    as_json = (not out.isatty()) if _pending["json"] is None else _pending["json"]
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
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[_pending["level"]]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


class Logger:
    """A structlog logger that imports structlog on the first event at or above the configured
    level; once structlog is loaded, every call goes straight to it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _emit(self, method: str, event: str, fields: dict[str, Any]) -> None:
        if not _pending["done"]:
            if _LEVELS[method] < _LEVELS[_pending["level"]]:
                return
            _apply()
        import structlog

        getattr(structlog.get_logger(self.name), method)(event, **fields)

    def debug(self, event: str, **fields: Any) -> None:
        self._emit("debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit("info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit("error", event, fields)

    def exception(self, event: str, **fields: Any) -> None:
        self._emit("exception", event, fields)


def get_logger(name: str) -> Logger:
    return Logger(name)
