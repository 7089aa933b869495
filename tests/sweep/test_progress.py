"""The progress display: plain lines with done / failed / remaining and an ETA off a terminal,
a rich bar on one."""

from __future__ import annotations

import io
import re

from tinygen.sweep.progress import SweepProgress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_count_done_failed_remaining_with_an_eta() -> None:
    stream = io.StringIO()
    with SweepProgress(total=4, reused=1, stream=stream) as bar:
        bar.advance("a", {"status": "ok"})
        bar.advance("b", {"status": "failed", "error_class": "over-budget",
                          "error": "x" * 300})
    lines = stream.getvalue().splitlines()
    assert lines[0] == "sweep: 1 cells reused from the earlier run (--resume)"
    assert lines[1].startswith("sweep: [2/4] a: ok; 2 ok, 0 failed, 2 remaining, ETA ")
    assert lines[2].startswith("sweep: [3/4] b: FAILED (over-budget: xxx")
    assert "1 failed, 1 remaining" in lines[2] and len(lines[2]) < 250


def test_a_terminal_gets_a_bar() -> None:
    stream = _Terminal()
    with SweepProgress(total=2, reused=0, stream=stream) as bar:
        bar.advance("a", {"status": "failed", "error_class": "device", "error": "silent"})
        bar.advance("b", {"status": "ok"})
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())  # colours, cursor
    assert "failed a: device: silent" in text
    assert "2/2" in text and "1 ok, 1 failed, 0 remaining" in text
