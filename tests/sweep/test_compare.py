"""--compare: per-cell changes, regressions first, exit 5 past the threshold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinygen.cli import main
from tinygen.sweep.compare import RegressionError, compare_folders
from tinygen.sweep.results import write_results


def _row(cell: str, **figures: Any) -> dict[str, Any]:
    return {"cell": cell, "status": "ok", "flash": 1000, "ram": 500, "instructions": 100000,
            "instructions_resolution": 1000.0, **figures}


def _sweep(folder: Path, rows: list[dict[str, Any]]) -> Path:
    folder.mkdir()
    write_results(folder, rows)
    return folder


def test_regressions_come_first_and_fail_the_gate(tmp_path: Path) -> None:
    old = _sweep(tmp_path / "old", [_row("a"), _row("b"), _row("c"), _row("gone")])
    new = _sweep(tmp_path / "new", [
        _row("a", flash=1005),  # +0.5 %: under the default 1 % threshold
        _row("b", flash=900, ram=600),  # smaller flash, but RAM +20 %
        _row("c", status="failed", flash=None, error_class="build-failed"),
        _row("added")])
    changes = compare_folders(old, new, 1.0)
    assert [(c.cell, c.figure) for c in changes.regressions] == [("c", "status"), ("b", "ram")]
    assert changes.changes[0].regression and changes.changes[1].regression
    assert not any(c.regression for c in changes.changes[2:])
    assert changes.added == ("added",) and changes.removed == ("gone",)
    with pytest.raises(RegressionError, match="2 figure"):
        changes.check()
    assert compare_folders(old, new, 50.0).regressions[0].figure == "status"


def test_timing_noise_within_the_counter_step_is_no_change(tmp_path: Path) -> None:
    old = _sweep(tmp_path / "old", [_row("a")])
    new = _sweep(tmp_path / "new", [_row("a", instructions=100900)])
    assert compare_folders(old, new, 0.0).changes == ()
    worse = _sweep(tmp_path / "worse", [_row("a", instructions=120000, accuracy=80.0)])
    changes = compare_folders(old, worse, 1.0)
    assert [c.figure for c in changes.regressions] == ["instructions"]


def test_the_command_exits_5_on_a_regression_and_0_without(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _sweep(tmp_path / "old", [_row("a", accuracy=90.0)])
    same = _sweep(tmp_path / "same", [_row("a", accuracy=90.0)])
    worse = _sweep(tmp_path / "worse", [_row("a", accuracy=85.0)])
    assert main(["sweep", "--compare", str(old), str(same)]) == 0
    assert "0 regression(s)" in capsys.readouterr().out
    assert main(["sweep", "--compare", str(old), str(worse)]) == 5
    captured = capsys.readouterr()
    assert "REGRESSION" in captured.out and "accuracy" in captured.out
    assert "error: 1 figure(s) got worse by more than 1 %" in captured.err
    assert main(["sweep", "--compare", str(old), str(worse), "--threshold", "10"]) == 0
    capsys.readouterr()
    assert main(["sweep", "--compare", str(old), str(worse), "--json"]) == 5
    document = json.loads(capsys.readouterr().out.split("\n{\"error\"")[0])
    assert document["regressions"] == 1


def test_a_folder_without_results_is_bad_input(tmp_path: Path) -> None:
    old = _sweep(tmp_path / "old", [_row("a")])
    assert main(["sweep", "--compare", str(old), str(tmp_path)]) == 3
