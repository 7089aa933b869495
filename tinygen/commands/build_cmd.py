"""``tinygen build`` and ``tinygen generate``: benchmark firmware from a model and a board."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygen.audit import render_text
from tinygen.benchmarks import benchmark_names
from tinygen.board import Board, load_board
from tinygen.build_options import RUNTIMES, BuildOptions
from tinygen.commands.args import add_board_argument, parse_size
from tinygen.errors import UsageError
from tinygen.firmware import build_firmware, generate_firmware
from tinygen.native.cmsis_nn import MVE_CORES
from tinygen.native.render import NATIVE_KERNELS
from tinygen.tables import emit_json, progress
from tinygen.tflm.library import KERNEL_SETS


def _add_common(p: argparse.ArgumentParser) -> None:
    add_board_argument(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", type=Path, help="quantized int8 .tflite model")
    src.add_argument("--bringup", action="store_true",
                     help="no model: harness + board support only, to bring up a new board")
    _add_options(p)


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    """The build options, for commands that build a model's firmware first."""
    add_board_argument(p)
    p.add_argument("--model", type=Path, required=True, help="quantized int8 .tflite model")
    _add_options(p)


def _add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, help="output folder (default build/<board>-<model>)")
    p.add_argument("--benchmark", choices=benchmark_names(generic=True),
                   help="benchmark port (default: from the model's input/output signature)")
    p.add_argument("--runtime", choices=RUNTIMES, default="tflm",
                   help="tflm: the TFLM interpreter (default); native: plain C for the "
                        "model's graph with tinygen's kernels, bit-exact with TFLM, no "
                        "interpreter (needs no TFLM sources)")
    p.add_argument("--kernels", choices=tuple(dict.fromkeys((*KERNEL_SETS, *NATIVE_KERNELS))),
                   help="kernel set (default: cmsis-nn on cores with DSP, else reference); with "
                        "--runtime native: native (DSP-extension loops where the core has "
                        "them, the default), native-portable (plain C) or cmsis-nn (CMSIS-NN "
                        "calls for the operators it covers, native kernels for the rest; needs "
                        "the CMSIS-NN sources, see tinygen deps)")
    p.add_argument("--optimize", choices=("speed", "size"), default="speed",
                   help="speed: TFLM's defaults (-O2 kernels, -Os framework); size: -Os")
    p.add_argument("--energy", action="store_true",
                   help="energy mode: timestamps on the GPIO pin, UART at 9600 baud")
    p.add_argument("--arena-size", type=parse_size,
                   help="tensor arena bytes (default: measured by the firmware in QEMU)")
    p.add_argument("--deps-dir", type=Path,
                   help="offline: folder with checkouts of the pinned dependencies "
                        "(or set TINYGEN_DEPS_DIR)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def register(sub: Any) -> None:
    b = sub.add_parser("build", help="generate, compile, link and audit a benchmark firmware")
    _add_common(b)
    b.add_argument("--budget-flash", type=parse_size, help="flash budget (default: board)")
    b.add_argument("--budget-ram", type=parse_size, help="RAM budget (default: board)")
    b.set_defaults(_command_module=sys.modules[__name__], _generate_only=False)
    g = sub.add_parser("generate", help="write the firmware project's sources only")
    _add_common(g)
    g.set_defaults(_command_module=sys.modules[__name__], _generate_only=True,
                   budget_flash=None, budget_ram=None)


# Options that mean something only for a model build.
_MODEL_ONLY = (("kernels", "--kernels"), ("arena_size", "--arena-size"),
               ("deps_dir", "--deps-dir"))


def check_runtime_flags(args: argparse.Namespace, board: Board) -> None:
    """The flag combinations a runtime refuses, named as flags before anything runs."""
    if args.runtime == "tflm":
        if args.kernels is not None and args.kernels not in KERNEL_SETS:
            raise UsageError(f"--kernels {args.kernels} is a kernel set of --runtime native",
                             hint=f"with --runtime tflm use one of {', '.join(KERNEL_SETS)}")
        return
    if getattr(args, "arena_size", None):
        raise UsageError("--arena-size applies to --runtime tflm only",
                         hint="the native runtime plans its arena when it generates the code; "
                              "drop the option")
    if args.kernels is not None and args.kernels not in NATIVE_KERNELS:
        raise UsageError(f"--kernels {args.kernels} is a TFLM kernel set",
                         hint=f"with --runtime native use one of {', '.join(NATIVE_KERNELS)}")
    if args.kernels == "cmsis-nn" and board.core in MVE_CORES:
        raise UsageError(f"--runtime native --kernels cmsis-nn does not support the "
                         f"{board.core} (Helium) yet",
                         hint="use --kernels native, or --runtime tflm --kernels cmsis-nn")


def options_from(args: argparse.Namespace) -> BuildOptions:
    if args.bringup:
        given = [flag for attr, flag in _MODEL_ONLY if getattr(args, attr, None)]
        if args.runtime != "tflm":
            given.append("--runtime")
        if given:
            raise UsageError(f"{', '.join(given)} cannot be used with --bringup",
                             hint="the bring-up firmware has no model, kernels or arena; drop "
                                  "the option or build a model with --model")
    board = load_board(args.board)
    check_runtime_flags(args, board)
    stem = "bringup" if args.bringup else args.model.stem
    out = args.out or Path("build") / f"{board.name}-{stem}"
    return BuildOptions(
        board=board, out_dir=out, model_path=None if args.bringup else args.model,
        benchmark=args.benchmark, kernels=args.kernels, optimize=args.optimize,
        energy=args.energy,
        arena_size=args.arena_size, deps_dir=args.deps_dir,
        budget_flash=args.budget_flash, budget_ram=args.budget_ram, runtime=args.runtime,
    )


def run(args: argparse.Namespace) -> int:
    opts = options_from(args)
    if args._generate_only:
        folder = generate_firmware(opts, progress)
        if args.json:
            emit_json({"out_dir": str(folder)})
        else:
            print(f"wrote {folder} (build it: scons -C {folder})")
        return 0
    result = build_firmware(opts, progress)
    if args.json:
        emit_json(result.to_json())
        return 0
    lib = result.library
    lines = [
        f"firmware   {result.elf}  (.bin .hex .map beside it)",
        f"board      {result.board.name} ({result.board.core}, {result.board.fpu})",
        f"benchmark  {result.benchmark}",
        f"runtime    {result.runtime}",
    ]
    if result.kernels:
        lines.append(f"kernels    {result.kernels}")
    if result.arena_size is not None:
        lines.append(f"arena      {result.arena_size} bytes ({result.arena_source})")
    if result.stack_peak is not None:
        how = ("sized from" if result.stack_source == "measured"
               else "from the board file; measured")
        lines.append(f"stack      {result.stack_size} bytes ({how} a peak of "
                     f"{result.stack_peak}), heap {result.heap_size} bytes")
    if lib is not None:
        state = f"compiled in {lib.seconds:.0f} s" if lib.built else "reused from the cache"
        lines.append(f"library    {lib.path.name} ({state})")
    lines.append(f"time       {result.seconds:.1f} s")
    if result.warnings:
        lines.append(f"warnings   {len(result.warnings)} (see --json)")
    print("\n".join(lines))
    print()
    print(render_text(result.audit, top=5))
    return 0
