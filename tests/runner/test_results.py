"""The session log, the results JSON and the progress bar."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tinygen import __version__
from tinygen.errors import InputError
from tinygen.runner.progress import ProgressBar
from tinygen.runner.results import SessionLog, results_document, write_results


def test_session_log_marks_direction_and_escapes_control_bytes(tmp_path: Path) -> None:
    path = tmp_path / "session.log"
    with SessionLog(path) as log:
        log.sent("name%")
        log.received("m-name-dut-[x]")
        log.received("bad\x00\x1b[2J\ufffd")
        log.note("resync")
    lines = path.read_text().splitlines()
    assert [re.sub(r"^\s*\d+\.\d{3} ", "", ln) for ln in lines] == [
        "> name%", "< m-name-dut-[x]", "< bad\\x00\\x1b[2J\ufffd", "# resync"]


def test_session_log_in_a_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write the session log"):
        SessionLog(tmp_path / "no" / "such" / "dir.log")


def test_results_document_is_stable_json(tmp_path: Path) -> None:
    doc = results_document("accuracy", {"board": "b"}, {"top1_percent": 50.0})
    assert doc == {"format": 1, "tinygen_version": __version__, "mode": "accuracy",
                   "board": "b", "result": {"top1_percent": 50.0}}
    write_results(tmp_path / "r.json", doc)
    assert json.loads((tmp_path / "r.json").read_text()) == doc
    with pytest.raises(InputError, match="cannot write the results"):
        write_results(tmp_path / "missing" / "r.json", doc)


def test_progress_bar_draws_on_one_line_and_ends_it() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, enabled=True)
    bar.update(0, 4, "accuracy")
    bar.update(4, 4, "accuracy")
    bar.close()
    text = out.getvalue()
    assert text.startswith("\raccuracy [") and text.endswith("] 4/4\x1b[K\n")
    quiet = io.StringIO()
    ProgressBar(quiet).update(1, 2, "x")  # StringIO is not a terminal: nothing drawn
    assert quiet.getvalue() == ""
