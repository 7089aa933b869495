"""The native runtime against TFLM and the best published MLPerf Tiny figures, on the reference
models and the emulated Cortex-M cores, measured in one run: bench/sweeps/native_vs_tflm.yaml.

Every firmware is built for its board, audited and run in QEMU (-icount shift=0: instructions,
not board time); its raw outputs are compared with the host TFLM interpreter on the reference
sample input (kws, ic) and a seeded random one.

Four cores (the default, --boards): each model with TFLM+CMSIS-NN and the native runtime (its
own kernels, with their DSP-extension loops where the core has them) on mps2_an385 (Cortex-M3:
no DSP extension, so both run plain C, CMSIS-NN its portable loops), mps2_an386 (M4F),
mps2_an500 (M7) and mps2_an505 (M33); a summary per model and core:

  native instr     native instructions per inference (the sweep's performance step: the
                   median of five timed windows)
  vs TFLM          / TFLM+CMSIS-NN's instructions on the same core, this run
  published        the best published MLPerf Tiny cycles per inference on that core (closed
                   division; cited below, not measured here): the NUCLEO-L4R5ZI's for the M4,
                   with the goal native instructions <= 1.0x those cycles (an M4 issues at most
                   one instruction a cycle); the DISCO-F746NG's and the NUCLEO-H7A3ZI-Q's for
                   the M7 (dual issue: instructions are no lower bound of its cycles); none for
                   the M3 and M33
  RAM / arena      native RAM without the harness's input buffer (arena, stack, data: what the
                   runtime needs) / TFLM's measured arena on the same core, goal <= 0.8x
  bit-exact        both firmwares' outputs equal the host interpreter's

One board (--board B): each model with TFLM's reference and CMSIS-NN kernels and the native
runtime in plain C (native-portable), with its DSP loops (native) and with CMSIS-NN calls
(native+cmsis-nn); ratios native / TFLM within a kernel family (portable C / reference; DSP
loops or CMSIS-NN / CMSIS-NN), this run, then the summary above for that board:

  flash w/o model  every flash byte but the model's (the .tflite array for TFLM; the weights,
                   folded biases, multipliers and operator parameters for native)
  RAM              data + bss: arena, stack, heap, harness buffers
  arena            TFLM: the minimum AllocateTensors accepts; native: the planned peak
  instructions     per inference, as above

    python bench/native_vs_tflm.py [--boards mps2_an385 mps2_an386 mps2_an500 mps2_an505 |
        --board mps2_an386] [--models kws vww ic ad] [--variants ...] [--jobs N] [--out DIR]
        [--json F]

--json F writes {"summary": [...one record per model and core...], "rows": [...the sweep's
rows...]}.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from reference_sweep import (  # bench/ is on sys.path when run
    Row,
    failures,
    number,
    parse_common,
    ratio,
    run_sweep,
    yes_no,
)

from tinygen.board import load_board
from tinygen.tables import format_table

# (label, runtime, kernel set); each native set is compared with the TFLM set of its family.
VARIANTS = (("tflm reference", "tflm", "reference"), ("tflm cmsis-nn", "tflm", "cmsis-nn"),
            ("native portable", "native", "native-portable"), ("native", "native", "native"),
            ("native cmsis-nn", "native", "cmsis-nn"))
FAMILIES = (("native-portable", "tflm reference"), ("native", "tflm cmsis-nn"),
            ("native+cmsis-nn", "tflm cmsis-nn"))
# The four emulated cores of the default run, and the variants run on each: the summary's pair.
CORES = ("mps2_an385", "mps2_an386", "mps2_an500", "mps2_an505")
CORE_VARIANTS = ("tflm cmsis-nn", "native")
SUMMARY_PAIR = ("native", "tflm cmsis-nn")
RAM_GOAL = 0.8  # native RAM without the input buffer / TFLM's arena (issue 12, section 3)
CYCLES_GOAL = 1.0  # native instructions / the best published M4 cycles (issue 12, section 1)
GOAL_CORE = "cortex-m4"


@dataclass(frozen=True)
class Published:
    """One published MLPerf Tiny latency (closed division, performance mode: 1000 / the median
    throughput of the submission's results.txt) and the clock it ran at."""

    system: str
    clock_hz: int
    latency_ms: float
    engine: str

    @property
    def cycles(self) -> int:
        """Cycles per inference at the board's clock, to the nearest thousand (the latency has
        four significant digits)."""
        return round(self.latency_ms * self.clock_hz / 1e6) * 1000


_L4R5 = ("NUCLEO-L4R5ZI", 120_000_000)
_F746 = ("DISCO-F746NG", 216_000_000)
_H7A3 = ("NUCLEO-H7A3ZI-Q", 280_000_000)
# The best published figures per core and model, cited from mlcommons/tiny_results_v1.1 and
# tiny_results_v1.2 (closed/<submitter>/results/<system>/<benchmark>/performance/results.txt and
# systems/<system>.json). The Cortex-M3 and M33 have none.
PUBLISHED: dict[str, dict[str, tuple[Published, ...]]] = {
    "cortex-m4": {
        "kws": (Published(*_L4R5, 43.19, "STMicroelectronics X-CUBE-AI 9.0, v1.2"),),
        "vww": (Published(*_L4R5, 88.93, "STMicroelectronics X-CUBE-AI 9.0, v1.2"),),
        "ic": (Published(*_L4R5, 165.13, "STMicroelectronics X-CUBE-AI 9.0, v1.2"),),
        "ad": (Published(*_L4R5, 4.05, "Plumerai, v1.1"),),
    },
    "cortex-m7": {
        "kws": (Published(*_F746, 17.75, "Plumerai, v1.1"),
                Published(*_H7A3, 11.32, "STMicroelectronics X-CUBE-AI 9.0, v1.2")),
        "vww": (Published(*_F746, 34.08, "Plumerai, v1.1"),
                Published(*_H7A3, 23.80, "STMicroelectronics X-CUBE-AI 9.0, v1.2")),
        "ic": (Published(*_F746, 61.57, "Bosch HALE, v1.2"),
               Published(*_H7A3, 40.85, "STMicroelectronics X-CUBE-AI 9.0, v1.2")),
        "ad": (Published(*_F746, 1.425, "Bosch HALE, v1.2"),
               Published(*_H7A3, 1.083, "Bosch HALE, v1.2")),
    },
}


def summarize(rows: list[Row], cores: dict[str, str]) -> list[dict[str, Any]]:
    """One record per model and board that has both firmwares of SUMMARY_PAIR: instructions
    against TFLM+CMSIS-NN and the published cycles of the board's core (``cores``: board ->
    core), RAM without the input buffer against TFLM's arena, each with its goal."""
    records = []
    ours, theirs = SUMMARY_PAIR
    for (model, board), mine in _by_model_board(rows).items():
        if ours not in mine or theirs not in mine:
            continue
        native, tflm = mine[ours], mine[theirs]
        core = cores[board]
        ok = native["status"] == "ok" and tflm["status"] == "ok"
        instr = native.get("instructions") if ok else None
        ram = (native["ram"] - native["input_buffer"]
               if ok and isinstance(native.get("input_buffer"), int) else None)
        arena = tflm.get("arena") if ok else None
        published = [{"system": p.system, "engine": p.engine, "cycles": p.cycles,
                      "ratio": _exact_ratio(instr, p.cycles)}
                     for p in PUBLISHED.get(core, {}).get(model, ())]
        ram_ratio = _exact_ratio(ram, arena)
        goal = published[0]["ratio"] if core == GOAL_CORE and published else None
        records.append({
            "model": model, "board": board, "core": core, "status": "ok" if ok else "failed",
            "native_instructions": instr, "tflm_instructions": tflm.get("instructions"),
            "vs_tflm": _exact_ratio(instr, tflm.get("instructions")),
            "published": published,
            "cycles_goal_met": None if goal is None else goal <= CYCLES_GOAL,
            "ram_without_input": ram, "tflm_arena": arena, "ram_ratio": ram_ratio,
            "ram_goal_met": None if ram_ratio is None else ram_ratio <= RAM_GOAL,
            "bit_exact": (native.get("bit_exact") is True and tflm.get("bit_exact") is True)
            if ok else None,
        })
    return records


def summary_table(records: list[dict[str, Any]]) -> str:
    """The summary records as a table, the goals marked ok or MISSED."""
    lines = []
    for r in records:
        cycles = " / ".join(f"{p['cycles']:,}" for p in r["published"]) or "none published"
        ratios = " / ".join(_ratio_text(p["ratio"]) for p in r["published"]) or "-"
        if r["cycles_goal_met"] is not None:
            ratios = _mark(ratios, r["cycles_goal_met"])
        ram = "-"
        if r["ram_ratio"] is not None:
            ram = _mark(f"{r['ram_without_input']:,} / {r['tflm_arena']:,} = "
                        f"{r['ram_ratio']:.2f}x", r["ram_goal_met"])
        lines.append((r["model"], f"{r['board']} ({_short_core(r['core'])})",
                      number(r["native_instructions"]), number(r["tflm_instructions"]),
                      _ratio_text(r["vs_tflm"]), cycles, ratios, ram, yes_no(r["bit_exact"])))
    return format_table(
        ("model", "board (core)", "native instr/inf", "TFLM+CMSIS-NN", "vs TFLM",
         "published cycles", f"vs published (M4 <= {CYCLES_GOAL:.1f}x)",
         f"RAM w/o input / TFLM arena (<= {RAM_GOAL:.1f}x)", "bit-exact"),
        lines, align_right=(2, 3, 4, 5, 6, 7))


def published_notes(records: list[dict[str, Any]]) -> list[str]:
    """Where the published columns come from, once per system shown; and the cores without."""
    notes: dict[str, str] = {}
    for r in records:
        for p in r["published"]:
            notes.setdefault(p["system"], f"{p['system']} ({_short_core(r['core'])})")
        if not r["published"]:
            notes.setdefault(r["core"], f"{_short_core(r['core'])}: no published figure")
    return ["published: best closed-division latency x clock, mlcommons/tiny_results v1.1/v1.2; "
            + "; ".join(notes.values())] if notes else []


def _by_model_board(rows: list[Row]) -> dict[tuple[str, str], dict[str, Row]]:
    """(model, board) -> firmware name -> row, in the sweep's order."""
    grouped: dict[tuple[str, str], dict[str, Row]] = {}
    for row in rows:
        grouped.setdefault((row["name"], row["board"]), {})[_firmware(row)] = row
    return grouped


def _short_core(core: str) -> str:
    return core.removeprefix("cortex-").upper()


def _ratio_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _firmware(row: Row) -> str:
    """How the table names a row's firmware: tflm <kernels>, native-portable, native,
    native+cmsis-nn."""
    kernels = str(row["kernels"])
    if row["runtime"] == "tflm":
        return f"tflm {kernels}"
    return kernels if kernels.startswith("native") else f"native+{kernels}"


def _pairs(rows: list[Row]) -> list[tuple[str, str, str, Row, Row]]:
    """(model, native firmware, TFLM firmware, native row, TFLM row) per model, board and
    family."""
    return [(model, ours, theirs, mine[ours], mine[theirs])
            for (model, _), mine in _by_model_board(rows).items()
            for ours, theirs in FAMILIES if ours in mine and theirs in mine]


def table(rows: list[Row]) -> str:
    """One line per model and variant, then the ratios of each native kernel set to the TFLM
    set of the same family (portable C to reference, DSP paths to CMSIS-NN)."""
    lines = []
    for model in dict.fromkeys(r["name"] for r in rows):
        for row in (r for r in rows if r["name"] == model):
            lines.append((model, _firmware(row), number(row.get("flash_without_model")),
                          number(row.get("ram")), number(row.get("arena")),
                          number(row.get("instructions")), yes_no(row.get("bit_exact"))))
        for _, ours, theirs, native, base in (p for p in _pairs(rows) if p[0] == model):
            lines.append((model, f"{ours} / {theirs}",
                          *(ratio(native.get(k), base.get(k)) for k in
                            ("flash_without_model", "ram", "arena", "instructions")), ""))
    return format_table(("model", "firmware", "flash w/o model", "RAM", "arena",
                         "instructions/inf", "bit-exact"), lines, align_right=(2, 3, 4, 5))


def goals(rows: list[Row]) -> str:
    """Issue 7's goals per model and native kernel set, against the TFLM set of its family:
    flash overhead at most half of TFLM's; RAM no more than TFLM's arena (the whole RAM, and
    without the harness's input buffer, which holds the same bytes in both runtimes); no more
    instructions."""
    lines = []
    for model, ours, theirs, native, base in _pairs(rows):
        if native["status"] != "ok" or base["status"] != "ok":
            lines.append((model, f"{ours} vs {theirs}", "-", "-", "-", "-"))
            continue
        ram, arena = native["ram"], base["arena"]
        runtime_ram = ram - native["input_buffer"]
        flash = native["flash_without_model"] / base["flash_without_model"]
        instr = _exact_ratio(native.get("instructions"), base.get("instructions"))
        lines.append((
            model, f"{ours} vs {theirs}", _mark(f"{flash:.2f}x", flash <= 0.5),
            _mark(f"{ram:,} / {arena:,}", ram <= arena),
            _mark(f"{runtime_ram:,} / {arena:,}", runtime_ram <= arena),
            _mark(f"{instr:.4f}x", instr <= 1.0) if instr is not None else "-"))
    return format_table(("model", "native vs TFLM", "flash w/o model (<= 0.5x)",
                         "RAM / TFLM arena", "RAM w/o input buffer / TFLM arena",
                         "instructions (<= 1x)"), lines, align_right=(2, 3, 4, 5))


def _exact_ratio(value: object, base: object) -> float | None:
    if not isinstance(value, int) or not isinstance(base, int) or base == 0:
        return None
    return value / base


def _mark(text: str, ok: bool) -> str:
    return f"{text} {'ok' if ok else 'MISSED'}"


def _options(variants: list[str], default: tuple[str, ...]) -> dict[str, Any]:
    """The sweep's runtime and kernel options for ``variants``; none when they are the sweep
    file's own (``default``)."""
    if list(variants) == list(default):
        return {}
    kernels: dict[str, list[str]] = {}
    for label, runtime, kernel_set in VARIANTS:
        if label in variants:
            kernels.setdefault(runtime, []).append(kernel_set)
    return {"runtime": list(kernels), "kernels": kernels}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--boards", nargs="+", metavar="BOARD",
                       help=f"the cores' run (default: {' '.join(CORES)}), with --variants "
                            f"(default: {', '.join(CORE_VARIANTS)}) on each")
    where.add_argument("--board", help="one board, every variant (or --variants) on it")
    parser.add_argument("--variants", nargs="+", choices=[v[0] for v in VARIANTS])
    args = parse_common(parser, "native-vs-tflm")
    if args is None:
        return 0
    json_file, args.json = args.json, None  # written below, with the summary
    one_board = args.board is not None
    variants = args.variants or ([v[0] for v in VARIANTS] if one_board else list(CORE_VARIANTS))
    boards = [args.board] if one_board else (args.boards or list(CORES))
    options = _options(variants, CORE_VARIANTS)
    rows = run_sweep("native_vs_tflm", args, None if boards == list(CORES) else boards, options)
    if isinstance(rows, int):
        return rows
    cores = {board.name: board.core for board in map(load_board, boards)}
    records = summarize(rows, cores)
    if one_board:
        print(table(rows))
        print()
        print(goals(rows))
        print()
    print(summary_table(records))
    for line in published_notes(records):
        print(line)
    if json_file:
        json_file.write_text(json.dumps({"summary": records, "rows": rows}, indent=2) + "\n")
    for line in failures(rows):
        print(line)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
