"""A progress display for people at a terminal: long reads and writes show how far they are
(tqdm, on stderr, once a step has taken more than two seconds). Off unless a command turns
it on, which it does only when stderr is a terminal and its output is not JSON: pipes, cron
and logs never see it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

DELAY = 2.0  # seconds a step runs before its bar shows

_stream: TextIO | None = None


def enable(stream: TextIO | None) -> None:
    """Show progress on `stream` from now on (None: never)."""
    global _stream
    _stream = stream


@contextmanager
def bar(total: int, label: str, delay: float = DELAY) -> Iterator[Callable[[int], object]]:
    """A bar for `total` steps; the block calls what it yields with the steps done."""
    if _stream is None or total <= 0:
        yield lambda steps: None
        return
    from tqdm import tqdm

    with tqdm(
        total=total, desc=label, unit="", file=_stream, delay=delay, leave=False, dynamic_ncols=True
    ) as shown:
        yield shown.update
