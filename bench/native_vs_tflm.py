"""The native runtime against TFLM on the MLPerf Tiny reference models, measured in one run:
bench/sweeps/native_vs_tflm.yaml.

For every model: the TFLM firmware with the reference and the CMSIS-NN kernels, and the native
firmware with tinygen's kernels in plain C (native-portable), with their DSP-extension inner
loops (native, the default on cores that have them) and with CMSIS-NN calls for the operators
CMSIS-NN covers (native+cmsis-nn). Each is built for the same board, audited and run in QEMU
(-icount shift=0: instructions, not board time); its raw outputs are compared with the host
TFLM interpreter on the reference sample input (kws, ic) and a seeded random one. Ratios are
native / TFLM within a kernel family (portable C / reference; DSP loops or CMSIS-NN /
CMSIS-NN), this run:

  flash w/o model  every flash byte but the model's (the .tflite array for TFLM; the weights,
                   folded biases, multipliers and operator parameters for native)
  RAM              data + bss: arena, stack, heap, harness buffers
  arena            TFLM: the minimum AllocateTensors accepts; native: the planned peak
  instructions     per inference: the sweep's performance step (the median of five timed
                   windows)

    python bench/native_vs_tflm.py [--board mps2_an386] [--models kws vww ic ad]
        [--variants ...] [--jobs N] [--out DIR] [--json F]
"""

from __future__ import annotations

import argparse
import sys

from reference_sweep import (  # bench/ is on sys.path when run
    Row,
    failures,
    number,
    parse_common,
    ratio,
    run_sweep,
    yes_no,
)

from tinygen.tables import format_table

# (label, runtime, kernel set); each native set is compared with the TFLM set of its family.
VARIANTS = (("tflm reference", "tflm", "reference"), ("tflm cmsis-nn", "tflm", "cmsis-nn"),
            ("native portable", "native", "native-portable"), ("native", "native", "native"),
            ("native cmsis-nn", "native", "cmsis-nn"))
FAMILIES = (("native-portable", "tflm reference"), ("native", "tflm cmsis-nn"),
            ("native+cmsis-nn", "tflm cmsis-nn"))


def _firmware(row: Row) -> str:
    """How the table names a row's firmware: tflm <kernels>, native-portable, native,
    native+cmsis-nn."""
    kernels = str(row["kernels"])
    if row["runtime"] == "tflm":
        return f"tflm {kernels}"
    return kernels if kernels.startswith("native") else f"native+{kernels}"


def _pairs(rows: list[Row]) -> list[tuple[str, str, str, Row, Row]]:
    """(model, native firmware, TFLM firmware, native row, TFLM row) per model and family."""
    pairs = []
    for model in dict.fromkeys(r["name"] for r in rows):
        mine = {_firmware(r): r for r in rows if r["name"] == model}
        pairs += [(model, ours, theirs, mine[ours], mine[theirs]) for ours, theirs in FAMILIES
                  if ours in mine and theirs in mine]
    return pairs


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2_an386")
    parser.add_argument("--variants", nargs="+", default=[v[0] for v in VARIANTS],
                        choices=[v[0] for v in VARIANTS])
    args = parse_common(parser, "native-vs-tflm")
    if args is None:
        return 0
    options = {}
    if args.variants != [v[0] for v in VARIANTS]:
        kernels: dict[str, list[str]] = {}
        for label, runtime, kernel_set in VARIANTS:
            if label in args.variants:
                kernels.setdefault(runtime, []).append(kernel_set)
        options = {"runtime": list(kernels), "kernels": kernels}
    boards = None if args.board == "mps2_an386" else [args.board]
    rows = run_sweep("native_vs_tflm", args, boards, options)
    if isinstance(rows, int):
        return rows
    print(table(rows))
    print()
    print(goals(rows))
    for line in failures(rows):
        print(line)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
