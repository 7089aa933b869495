"""``tinygen verify``: build for an emulated board, run in QEMU, compare with the host, bytewise."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygen.benchmarks import GENERIC, payload_bytes
from tinygen.commands import build_cmd
from tinygen.errors import DeviceError, InputError, UsageError
from tinygen.firmware import build_firmware
from tinygen.model import ModelInfo, load_model
from tinygen.reference import input_tensor, random_payload
from tinygen.runner.emulator import require_emulated
from tinygen.tables import emit_json, format_table, progress
from tinygen.verify import InputCheck, verify_firmware


def register(sub: Any) -> None:
    p = sub.add_parser("verify", help="run the firmware in QEMU and compare its outputs with "
                                      "the host TFLM interpreter, byte for byte")
    build_cmd.add_build_arguments(p)
    p.add_argument("--input", type=Path, action="append", default=[],
                   help="an input file (the bytes the host sends); repeatable")
    p.add_argument("--random", type=int, default=3, metavar="N",
                   help="also N seeded random inputs (default 3)")
    p.set_defaults(_command_module=sys.modules[__name__], bringup=False, budget_flash=None,
                   budget_ram=None)


def _read_input(path: Path, info: ModelInfo, benchmark: str | None) -> bytes:
    """An --input file's bytes, checked against the model's payload before the build."""
    if not path.is_file():
        raise InputError(f"--input {path} is not a file",
                         hint="give a file of the bytes the host sends for one input")
    data = path.read_bytes()
    benchmark = benchmark or info.benchmark or GENERIC
    expected = payload_bytes(info, benchmark)  # a port the model does not fit: InputError
    if len(data) != expected:
        raise InputError(f"--input {path} is {len(data)} bytes; one input of this model "
                         f"({benchmark}) is {expected} bytes",
                         hint="is the file for another model, or truncated?")
    try:
        input_tensor(info, benchmark, data)  # float values the port cannot quantize
    except InputError as exc:
        raise InputError(f"--input {path}: {exc.message}", hint=exc.hint) from exc
    return data


def run(args: argparse.Namespace) -> int:
    opts = build_cmd.options_from(args)
    # Everything that can be wrong with the request is checked before the (long) build.
    require_emulated(opts.board)  # verify runs the firmware in QEMU
    if args.random < 0 or (args.random == 0 and not args.input):
        raise UsageError("nothing to verify: give --input FILE or --random N with N > 0",
                         hint="e.g. --random 3, or --input sample.bin")
    assert opts.model_path is not None
    info = load_model(opts.model_path)
    inputs = [(path.name, _read_input(path, info, opts.benchmark)) for path in args.input]
    result = build_firmware(opts, progress, model=info)
    inputs += [(f"random-{seed}", random_payload(info, result.benchmark, seed))
               for seed in range(args.random)]

    def show(check: InputCheck) -> None:
        progress(f"{check.label}: {'equal' if check.equal else 'DIFFERENT'}")

    checks = verify_firmware(opts.board, result.elf, info, result.benchmark,
                             inputs, on_input=show)
    bad = [c for c in checks if not c.equal]
    if args.json:
        emit_json({"elf": str(result.elf), "benchmark": result.benchmark,
                   "kernels": result.kernels, "arena_size": result.arena_size,
                   "inputs": [c.to_json() for c in checks], "all_equal": not bad})
    else:
        print(format_table(
            ("input", "bytes", "firmware == host", "instructions/inference"),
            [(c.label, len(c.device), "yes" if c.equal else "NO", f"{c.instructions:,}")
             for c in checks], align_right=(1, 3)))
    if bad:
        raise DeviceError(f"{len(bad)} of {len(checks)} outputs differ from the host "
                          f"interpreter (first: {bad[0].label})",
                          hint="a bug in tinygen's port or kernels: please report it with the "
                               "model and the input")
    return 0
