"""``tinygen sweep``: models x boards x build options, here or on a Dask cluster, one report."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from tinygen import outdir
from tinygen.build_options import RUNTIMES
from tinygen.commands.args import name_list, whole_number
from tinygen.deps import cache_root
from tinygen.errors import InputError, UsageError
from tinygen.sweep.cells import Cell, expand_cells
from tinygen.sweep.compare import DEFAULT_THRESHOLD_PERCENT, compare_folders, render_changes
from tinygen.sweep.execute import cell_folder
from tinygen.sweep.pool import run_cluster, run_local
from tinygen.sweep.progress import SweepProgress
from tinygen.sweep.report import write_report
from tinygen.sweep.results import RESULT_FILE, read_cell_result, write_json_atomic, write_results
from tinygen.sweep.spec import SweepSpec, load_sweep, spec_from_args
from tinygen.tables import emit_json, format_table

SWEEP_MARKER = "sweep.json"  # what makes a folder a sweep's output (and ours to write into)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="build (and verify, bench) models x boards x options; results and a "
                      "report",
        description="Run a sweep file (docs/sweep.md), or --models/--boards for the common "
                    "case: every cell is built and audited, verified and benched where its "
                    "board is emulated or attached. Writes results.csv, results.jsonl and "
                    "report.html into --out. A failed cell is recorded, never stops the sweep.")
    p.add_argument("sweep", nargs="?", type=Path, metavar="SWEEP.yaml", help="the sweep file")
    p.add_argument("--models", action="append", default=[], metavar="GLOB",
                   help="without a sweep file: model files or globs (repeatable)")
    p.add_argument("--boards", type=name_list, default=[], metavar="A,B,C",
                   help="without a sweep file: board names or .yaml files, comma-separated")
    p.add_argument("--runtime", choices=RUNTIMES, default="tflm",
                   help="without a sweep file: the runtime (default tflm)")
    p.add_argument("--kernels", type=name_list, default=[], metavar="K1,K2",
                   help="without a sweep file: kernel sets (an axis; default the board's)")
    p.add_argument("--optimize", choices=("speed", "size"), default="speed",
                   help="without a sweep file: speed or size")
    p.add_argument("--jobs", type=whole_number(1, 1024),
                   metavar="N", help="cells run at once here (default: the cores)")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="run the cells on a Dask scheduler, e.g. tcp://host:8786 (pip install "
                        "'tinygen[cluster]')")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (default build/sweep-<name>)")
    p.add_argument("--resume", action="store_true",
                   help="reuse the results of cells whose inputs are unchanged")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"),
                   help="compare two sweeps' results; exit 5 if a figure got worse by more "
                        "than --threshold")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD_PERCENT,
                   metavar="PERCENT",
                   help=f"with --compare: worse by more than this is a regression (default "
                        f"{DEFAULT_THRESHOLD_PERCENT:g} %%)")
    p.add_argument("--json", action="store_true", help="print a summary as JSON")
    p.set_defaults(_command_module=sys.modules[__name__])


def _spec(args: argparse.Namespace) -> SweepSpec:
    if args.sweep is not None:
        if args.models or args.boards or args.kernels:
            raise UsageError("--models, --boards and --kernels replace a sweep file",
                             hint="give a sweep file or --models/--boards, not both")
        return load_sweep(args.sweep)
    if not args.models:
        raise UsageError("nothing to sweep: give a sweep file or --models and --boards",
                         hint="e.g. tinygen sweep --models 'models/*.tflite' --boards "
                              "mps2_an385,mps2_an386 --runtime native")
    return spec_from_args(args.models, args.boards, args.runtime, args.kernels, args.optimize)


def _out_folder(args: argparse.Namespace, spec: SweepSpec) -> Path:
    out: Path = (args.out or Path("build") / f"sweep-{spec.name}").expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file", hint="name a folder for the sweep's results")
    if out.is_dir() and any(out.iterdir()) and not (out / SWEEP_MARKER).is_file():
        raise InputError(f"--out {out} holds files that are not a sweep's output",
                         hint="name a new folder, or the --out of an earlier sweep")
    return out


def _reused(cells: list[Cell], out: Path, resume: bool) -> dict[str, dict[str, Any]]:
    """The rows --resume keeps; every other cell's old result is removed before it runs."""
    kept: dict[str, dict[str, Any]] = {}
    for cell in cells:
        folder = cell_folder(out, cell)
        old = read_cell_result(folder)
        if resume and old is not None and old.get("input_key") == cell.key:
            kept[cell.id] = old
        elif (folder / RESULT_FILE).exists():
            (folder / RESULT_FILE).unlink()
    return kept


def run(args: argparse.Namespace) -> int:
    if args.compare:
        return _compare(args)
    if args.cluster and args.jobs is not None:
        raise UsageError("--jobs and --cluster do not go together",
                         hint="the cluster's workers decide how many cells run at once")
    spec = _spec(args)
    cells = expand_cells(spec)  # every model and board is checked before anything runs
    out = _out_folder(args, spec)
    out.mkdir(parents=True, exist_ok=True)
    with outdir.locked(out, cache_root(), progress=lambda line: print(line, file=sys.stderr)):
        return _run_cells(args, spec, cells, out)


def _run_cells(args: argparse.Namespace, spec: SweepSpec, cells: list[Cell], out: Path) -> int:
    """Run the cells into ``out`` (locked: one sweep at a time writes a folder)."""
    write_json_atomic(out / SWEEP_MARKER, {"format": "tinygen-sweep/1", "name": spec.name,
                                           "source": spec.source,
                                           "cells": [c.id for c in cells]})
    rows = _reused(cells, out, args.resume)
    todo = [c for c in cells if c.id not in rows]

    with SweepProgress(len(cells), len(rows)) as bar:
        def on_result(cell: Cell, row: dict[str, Any]) -> None:
            folder = cell_folder(out, cell)  # made here too: a cluster worker may be remote
            folder.mkdir(parents=True, exist_ok=True)
            write_json_atomic(folder / RESULT_FILE, row)
            rows[cell.id] = row
            bar.advance(cell.id, row)

        try:
            if args.cluster:
                paths = {c.model_sha256: c.model_path for c in todo
                         if c.model_path and c.model_sha256}  # each model read once
                models = {sha: Path(path).read_bytes() for sha, path in paths.items()}
                run_cluster(todo, str(out), args.cluster, on_result, models)
            else:
                run_local(todo, str(out), args.jobs or os.cpu_count() or 1, on_result)
        finally:  # an interrupted sweep still leaves the results so far (and --resume)
            ordered = [rows[c.id] for c in cells if c.id in rows]
            write_results(out, ordered)
            write_report(out / "report.html", spec.name, ordered)
    return _summary(args, out, ordered)


def _summary(args: argparse.Namespace, out: Path, rows: list[dict[str, Any]]) -> int:
    failed = [r for r in rows if r.get("status") != "ok"]
    summary = {"cells": len(rows), "ok": len(rows) - len(failed), "failed": len(failed),
               "results": str(out / "results.csv"), "jsonl": str(out / "results.jsonl"),
               "report": str(out / "report.html")}
    if args.json:
        emit_json(summary)
        return 0
    if failed:
        print(format_table(("cell", "class", "error"),
                           [(r["cell"], r.get("error_class"), str(r.get("error"))[:100])
                            for r in failed]))
        print()
    print(f"{len(rows)} cells: {summary['ok']} ok, {len(failed)} failed")
    print(f"results  {summary['results']} (and results.jsonl)")
    print(f"report   {summary['report']}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    if args.sweep is not None or args.models:
        raise UsageError("--compare takes two sweep output folders only",
                         hint="tinygen sweep --compare OLD_DIR NEW_DIR")
    if not math.isfinite(args.threshold) or args.threshold < 0:
        raise UsageError(f"--threshold {args.threshold} is not a percentage >= 0",
                         hint="a percentage, e.g. 1")
    old, new = args.compare
    changes = compare_folders(old, new, args.threshold)
    if args.json:
        print(json.dumps(changes.to_json(), indent=2))
    else:
        print(render_changes(changes))
    changes.check()
    return 0
