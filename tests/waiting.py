"""Waiting in tests: poll a condition until it holds, with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(condition: Callable[[], T], within: float = 30.0, every: float = 0.05) -> T:
    """What `condition` returns once it is truthy, asked every `every` seconds; the test fails
    when it is still false after `within` seconds."""
    deadline = time.monotonic() + within
    while not (found := condition()):
        if time.monotonic() > deadline:
            what = (condition.__doc__ or getattr(condition, "__name__", "")).strip()
            raise AssertionError(f"still not so after {within} s: {what or condition!r}")
        time.sleep(every)
    return found
