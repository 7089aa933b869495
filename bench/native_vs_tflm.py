"""The native runtime against TFLM on the MLPerf Tiny reference models, measured in one run.

For every model: the TFLM firmware with the reference and the CMSIS-NN kernels, and the native
firmware with tinygen's kernels in plain C (native-portable), with their DSP-extension inner
loops (native, the default on cores that have them) and with CMSIS-NN calls for the operators
CMSIS-NN covers (native+cmsis-nn). Each is built for the same board, audited and run in QEMU
(-icount shift=0: instructions, not board time); its raw outputs are compared with the host
TFLM interpreter on the reference sample input and a seeded random one. Ratios are native /
TFLM within a kernel family (portable C / reference; DSP loops or CMSIS-NN / CMSIS-NN), this
run:

  flash w/o model  every flash byte but the model's (the .tflite array for TFLM; the weights,
                   folded biases, multipliers and operator parameters for native)
  RAM              data + bss: arena, stack, heap, harness buffers
  arena            TFLM: the minimum AllocateTensors accepts; native: the planned peak
  instructions     per inference, a timed window of 10 inferences

    python bench/native_vs_tflm.py [--board mps2_an386] [--models kws vww ic ad] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys

from reference_models import measure, parse_common  # bench/ is on sys.path when run

from tinygen.tables import format_table

# (label, runtime, kernel set); each native set is compared with the TFLM set of its family.
VARIANTS = (("tflm reference", "tflm", "reference"), ("tflm cmsis-nn", "tflm", "cmsis-nn"),
            ("native portable", "native", "native-portable"), ("native", "native", "native"),
            ("native cmsis-nn", "native", "cmsis-nn"))
FAMILIES = (("native-portable", "tflm reference"), ("native", "tflm cmsis-nn"),
            ("native+cmsis-nn", "tflm cmsis-nn"))


def _firmware(row: dict[str, object]) -> str:
    """How the table names a row's firmware: tflm <kernels>, native-portable, native,
    native+cmsis-nn."""
    kernels = str(row["kernels"])
    if row.get("runtime", "tflm") == "tflm":
        return f"tflm {kernels}"
    return kernels if kernels.startswith("native") else f"native+{kernels}"


def _ratio(value: object, base: object) -> str:
    if not isinstance(value, int) or not isinstance(base, int) or base == 0:
        return "-"
    return f"{value / base:.2f}x"


def _yes_no(value: object) -> str:
    return "yes" if value is True else "NO" if value is False else "-"


def table(rows: list[dict[str, object]]) -> str:
    """One line per model and variant, then the ratios of each native kernel set to the TFLM
    set of the same family (portable C to reference, DSP paths to CMSIS-NN)."""
    lines = []
    for model in dict.fromkeys(str(r["model"]) for r in rows):
        mine = {_firmware(r): r for r in rows if r["model"] == model}
        for label, row in mine.items():
            instr = row.get("instructions")
            lines.append((
                model, label,
                f"{row['flash_without_model']:,}", f"{row['ram']:,}", f"{row['arena']:,}",
                f"{instr:,}" if isinstance(instr, int) else "-",
                _yes_no(row.get("bit_exact")),
            ))
        for ours, theirs in FAMILIES:
            native, base = mine.get(ours), mine.get(theirs)
            if native is None or base is None:
                continue
            lines.append((
                model, f"{ours} / {theirs}",
                _ratio(native["flash_without_model"], base["flash_without_model"]),
                _ratio(native["ram"], base["ram"]), _ratio(native["arena"], base["arena"]),
                _ratio(native.get("instructions"), base.get("instructions")), ""))
    return format_table(("model", "firmware", "flash w/o model", "RAM", "arena",
                         "instructions/inf", "bit-exact"), lines, align_right=(2, 3, 4, 5))


def goals(rows: list[dict[str, object]]) -> str:
    """Issue 7's goals per model and native kernel set, against the TFLM set of its family:
    flash overhead at most half of TFLM's; RAM no more than TFLM's arena (the whole RAM, and
    without the harness's input buffer, which holds the same bytes in both runtimes); no more
    instructions."""
    lines = []
    for model in dict.fromkeys(str(r["model"]) for r in rows):
        mine = {_firmware(r): r for r in rows if r["model"] == model}
        for ours, theirs in FAMILIES:
            native, base = mine.get(ours), mine.get(theirs)
            if native is None or base is None:
                continue
            ram, arena = int(native["ram"]), int(base["arena"])  # type: ignore[call-overload]
            runtime_ram = ram - int(native["input_buffer"])  # type: ignore[call-overload]
            flash = _exact_ratio(native["flash_without_model"], base["flash_without_model"])
            instr = _exact_ratio(native.get("instructions"), base.get("instructions"))
            lines.append((
                model, f"{ours} vs {theirs}",
                _mark(f"{flash:.2f}x", flash <= 0.5) if flash is not None else "-",
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
    args = parse_common(parser, "build/bench-native")
    if args is None:
        return 0
    rows = []
    for model in args.models:
        for label, runtime, kernels in VARIANTS:
            if label not in args.variants:
                continue
            print(f"{model} / {label} on {args.board}", file=sys.stderr)
            out = args.out / f"{args.board}-{model}-{label.replace(' ', '-')}"
            rows.append(measure(args.board, model, kernels, out, args.shared, runtime=runtime))
    print(table(rows))
    print()
    print(goals(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r.get("bit_exact", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
