"""Results: one JSON per cell as it finishes, then results.csv and results.jsonl for all."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULT_FILE = "result.json"
# Every column, inputs first; rows may lack the figures of steps that did not run.
COLUMNS = (
    "cell", "model", "board", "runtime", "kernels", "optimize", "benchmark",
    "arena_size_given", "budget_flash_given", "budget_ram_given",
    "status", "exit_code", "error_class", "failed_step", "error", "hint",
    "flash", "ram", "flash_budget", "ram_budget", "flash_share", "ram_share",
    "flash_over", "ram_over", "fits", "model_flash", "flash_without_model",
    "arena", "arena_source", "stack", "stack_peak", "heap",
    "kernels_used", "benchmark_used", "warnings", "layout_problems",
    "bit_exact", "verified_inputs", "instructions", "instructions_resolution",
    "latency_ms", "throughput", "accuracy", "auc", "smoke",
    "steps", "build_seconds", "seconds", "model_sha256", "input_key",
)
# The figures that depend only on the inputs (not on timing or paths): equal across runs.
DETERMINISTIC = (
    "status", "exit_code", "error_class", "failed_step",
    "flash", "ram", "flash_budget", "ram_budget", "flash_share", "ram_share", "flash_over",
    "ram_over", "fits", "model_flash", "flash_without_model", "arena", "stack", "stack_peak",
    "heap", "kernels_used", "benchmark_used", "warnings", "layout_problems", "bit_exact",
    "verified_inputs", "accuracy", "auc", "smoke", "steps", "input_key",
)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``path`` whole or not at all (an interrupted sweep leaves no half result)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_cell_result(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # layout_problems
        return "; ".join(map(str, value))
    return value


def write_results(out: Path, rows: Sequence[dict[str, Any]]) -> tuple[Path, Path]:
    """results.csv (fixed columns) and results.jsonl (one object per line, same keys)."""
    jsonl, table = out / "results.jsonl", out / "results.csv"
    lines = [json.dumps({c: row.get(c) for c in COLUMNS}) for row in rows]
    tmp = jsonl.with_name(jsonl.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines))
    os.replace(tmp, jsonl)
    tmp = table.with_name(table.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_csv_value(row.get(c)) for c in COLUMNS])
    os.replace(tmp, table)
    return table, jsonl


def read_results(folder: Path) -> list[dict[str, Any]]:
    """The rows of a sweep's results.jsonl (for --compare)."""
    rows = []
    with (folder / "results.jsonl").open() as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows
