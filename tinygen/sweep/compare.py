"""``--compare OLD NEW``: what changed per cell between two sweeps, regressions first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinygen.errors import ExitCode, InputError, TinygenError
from tinygen.sweep.results import read_results
from tinygen.tables import format_table

DEFAULT_THRESHOLD_PERCENT = 1.0
# Figures compared, and whether a larger value is worse.
FIGURES: tuple[tuple[str, bool], ...] = (
    ("flash", True), ("ram", True), ("flash_without_model", True), ("arena", True),
    ("stack_peak", True), ("instructions", True), ("latency_ms", True),
    ("accuracy", False), ("auc", False),
)


class RegressionError(TinygenError):
    """A figure got worse past the threshold: the size (or speed) gate of a CI job."""

    exit_code = ExitCode.OVER_BUDGET


@dataclass(frozen=True)
class Change:
    cell: str
    figure: str
    old: Any
    new: Any
    percent: float | None  # None for a status change
    regression: bool

    def to_json(self) -> dict[str, Any]:
        return {"cell": self.cell, "figure": self.figure, "old": self.old, "new": self.new,
                "percent": self.percent, "regression": self.regression}


@dataclass(frozen=True)
class Changes:
    changes: tuple[Change, ...]  # regressions first, then the largest changes
    added: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    threshold: float

    @property
    def regressions(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.regression)

    def to_json(self) -> dict[str, Any]:
        return {"threshold_percent": self.threshold,
                "regressions": len(self.regressions),
                "changes": [c.to_json() for c in self.changes], "added": list(self.added),
                "removed": list(self.removed), "unchanged_cells": self.unchanged}

    def check(self) -> None:
        bad = self.regressions
        if bad:
            first = bad[0]
            raise RegressionError(
                f"{len(bad)} figure(s) got worse by more than {self.threshold:g} % (first: "
                f"{first.cell} {first.figure} {first.old} -> {first.new})",
                hint="see the table above; raise --threshold to accept the change")


def _rows(folder: Path) -> dict[str, dict[str, Any]]:
    if not (folder / "results.jsonl").is_file():
        raise InputError(f"{folder} holds no results.jsonl",
                         hint="give the --out folders of two sweeps")
    try:
        return {row["cell"]: row for row in read_results(folder)}
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{folder / 'results.jsonl'} is not a sweep's results: {exc}",
                         hint="give the --out folders of two sweeps") from None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def cell_changes(cell: str, old: dict[str, Any], new: dict[str, Any],
                 threshold: float) -> list[Change]:
    found: list[Change] = []
    if old.get("status") != new.get("status"):
        found.append(Change(cell, "status", old.get("status"), new.get("status"), None,
                            new.get("status") != "ok"))
    if old.get("bit_exact") is True and new.get("bit_exact") is False:
        found.append(Change(cell, "bit_exact", True, False, None, True))
    for figure, larger_is_worse in FIGURES:
        a, b = _number(old.get(figure)), _number(new.get(figure))
        if a is None or b is None or a == b:
            continue
        # Emulated timings are exact up to the counter's step: smaller differences are noise.
        step = max(_number(old.get("instructions_resolution")) or 0,
                   _number(new.get("instructions_resolution")) or 0)
        if figure == "instructions" and abs(b - a) <= step:
            continue
        percent = (b - a) / abs(a) * 100 if a else float("inf")
        worse = (b > a) if larger_is_worse else (b < a)
        found.append(Change(cell, figure, old.get(figure), new.get(figure), round(percent, 3),
                            worse and abs(percent) > threshold))
    return found


def compare_folders(old_dir: Path, new_dir: Path, threshold: float) -> Changes:
    old, new = _rows(old_dir), _rows(new_dir)
    changes: list[Change] = []
    unchanged = 0
    for cell in new:
        if cell in old:
            found = cell_changes(cell, old[cell], new[cell], threshold)
            changes += found
            unchanged += not found
    changes.sort(key=lambda c: (not c.regression, -abs(c.percent or float("inf")), c.cell))
    return Changes(tuple(changes), tuple(c for c in new if c not in old),
                   tuple(c for c in old if c not in new), unchanged, threshold)


def render_changes(changes: Changes) -> str:
    lines = []
    if changes.changes:
        rows = [("REGRESSION" if c.regression else "", c.cell, c.figure, c.old, c.new,
                 "" if c.percent is None else f"{c.percent:+.2f} %") for c in changes.changes]
        lines += [format_table(("", "cell", "figure", "old", "new", "change"), rows,
                               align_right=(3, 4, 5)), ""]
    lines.append(f"{len(changes.regressions)} regression(s) past {changes.threshold:g} %, "
                 f"{len(changes.changes) - len(changes.regressions)} other change(s), "
                 f"{changes.unchanged} cell(s) unchanged")
    if changes.added:
        lines.append(f"new cells: {', '.join(changes.added)}")
    if changes.removed:
        lines.append(f"cells no longer in the sweep: {', '.join(changes.removed)}")
    return "\n".join(lines)
