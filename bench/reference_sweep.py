"""The MLPerf Tiny reference sweeps of bench/sweeps/ for the bench scripts: the command line's
subset of a sweep file's models, boards and options, run by `tinygen sweep`, its rows read back.

With the defaults the script runs the sweep file itself; a subset (--models, --boards,
--kernels, --shared, ...) is written beside the output folder as OUT.sweep.yaml and run from
there, so the sweep run is always a file to look at or run again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tinygen.benchmarks import payload_bytes
from tinygen.model import load_model

REPO = Path(__file__).resolve().parents[1]
SWEEPS = REPO / "bench" / "sweeps"
SHARED = REPO.parent / "shared" / "mlperf-tiny"
# The names the scripts take and print, and the file stems of the reference models.
MODELS = {"kws": "kws_ref_model", "vww": "vww_96_int8", "ic": "pretrainedResnet_quant",
          "ad": "ad01_int8"}

Row = dict[str, Any]


def parse_common(parser: argparse.ArgumentParser, sweep: str) -> argparse.Namespace | None:
    """Add the options every reference-model bench has (--models, --out, --jobs, --json,
    --shared) and parse; None (after saying so) when the MLPerf Tiny reference data is
    absent."""
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--out", type=Path, default=Path("build") / f"sweep-{sweep}",
                        help="the sweep's output folder (default %(default)s)")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="cells run at once (default: tinygen sweep's, the cores)")
    parser.add_argument("--json", type=Path, metavar="F",
                        help="also write the sweep's rows to F as one JSON list")
    parser.add_argument("--shared", type=Path, default=SHARED,
                        help="the MLPerf Tiny reference data (default ../shared/mlperf-tiny)")
    args = parser.parse_args()
    if not args.shared.is_dir():
        print(f"skipped: {args.shared} (the MLPerf Tiny reference models) is absent",
              file=sys.stderr)
        return None
    return args


def _rebased(entry: str, shared: Path) -> str:
    """A path of a sweep file in bench/sweeps/, absolute, under ``shared`` instead of
    ../shared/mlperf-tiny."""
    full = Path(os.path.normpath(SWEEPS / entry))
    try:
        return str(shared.resolve() / full.relative_to(SHARED))
    except ValueError:
        return str(full)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def derive_sweep(name: str, models: list[str], shared: Path, boards: list[str] | None = None,
                 options: dict[str, Any] | None = None) -> dict[str, Any]:
    """bench/sweeps/NAME.yaml with only ``models`` (short names, in that order), its
    reference data under ``shared``, and ``boards`` and ``options`` replacing its own."""
    raw: dict[str, Any] = yaml.safe_load((SWEEPS / f"{name}.yaml").read_text())
    stems = [MODELS[m] for m in models]
    raw["models"] = [_rebased(e, shared) for stem in stems for e in raw["models"]
                     if Path(e).stem == stem]
    verify = (raw.get("steps") or {}).get("verify") or {}
    if "inputs" in verify:
        verify["inputs"] = {stem: [_rebased(e, shared) for e in _listed(files)]
                            for stem, files in verify["inputs"].items() if stem in stems}
        if not verify["inputs"]:
            del verify["inputs"]
    if boards is not None:
        raw["boards"] = [str(Path(b).resolve()) if Path(b).suffix in (".yaml", ".yml") else b
                         for b in boards]
    raw["options"] = {**(raw.get("options") or {}), **(options or {})}
    return raw


def run_sweep(name: str, args: argparse.Namespace, boards: list[str] | None = None,
              options: dict[str, Any] | None = None) -> list[Row] | int:
    """Run bench/sweeps/NAME.yaml (or the subset the arguments ask for) with `tinygen sweep`;
    its rows, each with the model's short ``name`` and its ``input_buffer`` (the bytes the
    harness holds for one input); or the sweep's exit code if it did not run."""
    spec = derive_sweep(name, args.models, args.shared, boards, options)
    out: Path = args.out
    if spec == derive_sweep(name, list(MODELS), SHARED):
        file = SWEEPS / f"{name}.yaml"
    else:
        file = out.with_name(f"{out.name}.sweep.yaml")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"# {name}.yaml for: {' '.join(sys.argv)}\n"
                        + yaml.safe_dump(spec, sort_keys=False))
    command = ["tinygen", "sweep", str(file), "--out", str(out)]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    print("$ " + " ".join(command), file=sys.stderr)
    # The sweep's own summary goes to stderr with its progress: stdout is the tables.
    code = subprocess.run([sys.executable, "-m", *command], stdout=sys.stderr).returncode
    if code:
        return code
    with (out / "results.jsonl").open() as f:
        rows: list[Row] = [json.loads(line) for line in f if line.strip()]
    infos = {Path(p).stem: load_model(Path(p)) for p in spec["models"]}
    short = {stem: key for key, stem in MODELS.items()}
    for row in rows:
        row["name"] = short.get(row["model"], row["model"])
        benchmark = row.get("benchmark_used")
        row["input_buffer"] = (payload_bytes(infos[row["model"]], benchmark)
                               if benchmark else None)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def yes_no(value: object) -> str:
    return "yes" if value is True else "NO" if value is False else "-"


def number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "-"


def ratio(value: object, base: object, digits: int = 2) -> str:
    if not isinstance(value, int | float) or not isinstance(base, int | float) or not base:
        return "-"
    return f"{value / base:.{digits}f}x"


def failures(rows: list[Row]) -> list[str]:
    """One line per failed cell: what failed and why."""
    return [f"{r['cell']}: {r.get('failed_step')} failed ({r.get('error_class')}): "
            f"{r.get('error')}" for r in rows if r.get("status") != "ok"]
