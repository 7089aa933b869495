"""The sweep's progress: cells done, failed and remaining with an ETA; rich on a terminal,
plain lines on stderr otherwise (CI logs, pipes)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class SweepProgress:
    def __init__(self, total: int, reused: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total, self.reused = total, reused
        self.done = reused
        self.failed = 0
        self.start = time.monotonic()
        self._rich: Any = None
        self._task: Any = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )
            self._rich = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[state]}"), TimeRemainingColumn(),
                                  console=Console(file=self.stream), transient=False)
            self._task = self._rich.add_task("sweep", total=total, completed=reused,
                                             state=self._state())
            self._rich.start()
        elif reused:
            self._line(f"{reused} cells reused from the earlier run (--resume)")

    def _state(self) -> str:
        return (f"{self.done - self.failed} ok, {self.failed} failed, "
                f"{self.total - self.done} remaining")

    def eta(self) -> float | None:
        ran = self.done - self.reused
        if ran <= 0:
            return None
        return (time.monotonic() - self.start) / ran * (self.total - self.done)

    def _line(self, text: str) -> None:
        print(f"sweep: {text}", file=self.stream, flush=True)

    def advance(self, cell: str, row: dict[str, Any]) -> None:
        self.done += 1
        if row.get("status") != "ok":
            self.failed += 1
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done, state=self._state())
            if row.get("status") != "ok":
                self._rich.console.print(f"[red]failed[/red] {cell}: {row.get('error_class')}:"
                                         f" {row.get('error')}", markup=True, highlight=False)
            return
        eta = self.eta()
        error = str(row.get("error"))
        error = error if len(error) <= 100 else error[:97] + "..."
        what = ("ok" if row.get("status") == "ok"
                else f"FAILED ({row.get('error_class')}: {error})")
        self._line(f"[{self.done}/{self.total}] {cell}: {what}; {self._state()}"
                   + (f", ETA {_duration(eta)}" if eta is not None and self.done < self.total
                      else ""))

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
