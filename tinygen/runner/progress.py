"""A one-line progress bar on stderr for long runs; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tinygen.tables import bar


class ProgressBar:
    """``update(done, total, label)`` redraws ``label [=====     ] 12/200``; ``close()`` ends
    the line. Redraws at most ten times a second so a fast run is not slowed by the terminal."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._drawn = False
        self._last = 0.0

    def update(self, done: int, total: int, label: str) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        fraction = done / total if total else 1.0
        self._stream.write(f"\r{label} {bar(fraction, 30)} {done}/{total}\x1b[K")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
