"""What a benchmark run leaves behind: the results JSON and the log of the raw session."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from tinygen import __version__
from tinygen.outputs import writing

RESULTS_FORMAT = 1  # bump when a key of the results JSON changes meaning


class SessionLog:
    """Every line of the session, in order, with seconds since the start:
    ``   0.012 > name%`` (sent), ``   0.014 < m-name-dut-[x]`` (received), ``   0.020 # ...``
    (a remark of the runner). Lines are written as they happen, so a log of a run that failed
    or hung shows the last exchange."""

    def __init__(self, path: Path) -> None:
        with writing(path, "the session log"):
            self._file: TextIO = path.open("w", encoding="utf-8", errors="replace")
        self.path = path
        self._start = time.monotonic()

    def _write(self, marker: str, text: str) -> None:
        # Control characters would garble the log (and a terminal showing it): escape them.
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
        self._file.write(f"{time.monotonic() - self._start:9.3f} {marker} {shown}\n")
        self._file.flush()

    def sent(self, text: str) -> None:
        self._write(">", text)

    def received(self, line: str) -> None:
        self._write("<", line)

    def note(self, text: str) -> None:
        self._write("#", text)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def results_document(mode: str, run: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The results JSON: what ran where (``run``: board, firmware, transport, device) and the
    mode's result. No timestamps, so two runs of an emulated board give identical files."""
    return {"format": RESULTS_FORMAT, "tinygen_version": __version__, "mode": mode, **run,
            "result": result}


def write_results(path: Path, document: dict[str, Any]) -> None:
    with writing(path, "the results"):
        path.write_text(json.dumps(document, indent=2) + "\n")
