"""``tinygen profile``: the time of every operator of one inference, measured by a profile build
of the firmware, in QEMU or on a board through its serial port."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import sys
from pathlib import Path
from typing import Any

from tinygen.audit.target import check_firmware_for_board
from tinygen.benchmarks import GENERIC, benchmark_names, payload_bytes
from tinygen.board import Board, load_board
from tinygen.build_options import RUNTIMES, BuildOptions
from tinygen.commands.args import add_board_argument, baud_rate, non_negative_int, seconds
from tinygen.commands.build_cmd import check_runtime_flags
from tinygen.errors import InputError, UsageError
from tinygen.firmware import build_firmware
from tinygen.model import ModelInfo, load_model
from tinygen.native.render import NATIVE_KERNELS
from tinygen.outputs import check_writable, writing
from tinygen.profile import (
    Profile,
    build_profile,
    format_profile,
    measure_ops,
    render_html,
    render_svg,
)
from tinygen.runner.dataset import synthetic_input
from tinygen.runner.emulator import require_emulated
from tinygen.runner.protocol import DEFAULT_TIMEOUT, DutClient
from tinygen.runner.results import SessionLog
from tinygen.runner.session import identify, open_transport, start_session, transport_json
from tinygen.tables import emit_json, progress
from tinygen.tflm.library import KERNEL_SETS

DEFAULT_WARMUP = 1  # one untimed inference first: caches and branch predictors warmed


def register(sub: Any) -> None:
    p = sub.add_parser(
        "profile", help="time every operator of one inference (table, JSON, HTML or SVG)",
        description="Build the profile firmware of a model (the normal firmware with a timer "
                    "reading between operators: TFLM's profiler hook, or calls the native "
                    "code generator places) and run one inference in QEMU, or on a board "
                    "through --port. Prints each operator's time, share and MACs per cycle. "
                    "Under QEMU time is instruction count (-icount shift=0); on a board, core "
                    "clock cycles (DWT or SysTick). The normal firmware is not changed.")
    add_board_argument(p)
    p.add_argument("--model", type=Path, required=True, metavar="MODEL.tflite",
                   help="the quantized .tflite model (also names the operators of --elf)")
    p.add_argument("--runtime", choices=RUNTIMES, default="tflm",
                   help="tflm: TFLM's interpreter, timed through its profiler hook (default); "
                        "native: tinygen's generated code")
    p.add_argument("--kernels", choices=tuple(dict.fromkeys((*KERNEL_SETS, *NATIVE_KERNELS))),
                   help="kernel set, as for tinygen build")
    p.add_argument("--benchmark", choices=benchmark_names(generic=True),
                   help="benchmark port (default: from the model's input/output signature)")
    p.add_argument("--optimize", choices=("speed", "size"), default="speed",
                   help="as for tinygen build")
    p.add_argument("--deps-dir", type=Path, help="as for tinygen build")
    p.add_argument("--elf", type=Path, metavar="FIRMWARE.elf",
                   help="a profile firmware built before (default: build it into --build-dir)")
    p.add_argument("--build-dir", type=Path, metavar="DIR",
                   help="the profile firmware's folder (default "
                        "build/<board>-<model>-<runtime>-profile)")
    p.add_argument("--port", help="serial port of a board running the profile firmware (or a "
                                  "pyserial URL); without it an emulated board runs in QEMU")
    p.add_argument("--baud", type=baud_rate, help="baud rate (default: the board's)")
    p.add_argument("--warmup", type=non_negative_int, default=DEFAULT_WARMUP, metavar="W",
                   help=f"untimed inferences before the profiled one (default {DEFAULT_WARMUP})")
    p.add_argument("--timeout", type=seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"wait this long for each answer line (default {DEFAULT_TIMEOUT:g}; the "
                        "inference waits at least 300 s)")
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    picture = p.add_mutually_exclusive_group()
    picture.add_argument("--html", type=Path, metavar="FILE.html",
                         help="also write a page with a bar per operator and the table")
    picture.add_argument("--svg", type=Path, metavar="FILE.svg",
                         help="also write the bar chart as an SVG picture")
    p.add_argument("--log", type=Path, metavar="SESSION.log",
                   help="write every command and answer of the session")
    p.set_defaults(_command_module=sys.modules[__name__])


def _check_options(args: argparse.Namespace, board: Board) -> None:
    check_runtime_flags(args, board)
    if args.port is None:
        require_emulated(board, hint="give the board's serial port, e.g. --port /dev/ttyACM0")
    if args.baud is not None and args.port is None:
        raise UsageError("--baud goes with --port (QEMU's UART has no baud rate)",
                         hint="drop --baud for an emulated board")
    if args.elf is not None and args.build_dir is not None:
        raise UsageError("--elf and --build-dir exclude each other",
                         hint="--elf runs a firmware built before; --build-dir names where to "
                              "build one")
    if args.elf is not None and not args.elf.is_file():
        raise InputError(f"{args.elf} does not exist",
                         hint="leave out --elf: tinygen profile builds the profile firmware")
    for path, what in ((args.html, "the profile page"), (args.svg, "the profile chart"),
                       (args.log, "the session log")):
        if path is not None:
            check_writable(path, what)
    if args.elf is not None:
        check_firmware_for_board(args.elf, board)


def _firmware(args: argparse.Namespace, board: Board, info: ModelInfo) -> tuple[Path, str,
                                                                                 str | None]:
    """The profile firmware's ELF, the benchmark it runs and its kernels (None: not known)."""
    if args.elf is not None:
        return args.elf, args.benchmark or info.benchmark or GENERIC, args.kernels
    folder = args.build_dir or Path("build") / f"{board.name}-{args.model.stem}-" \
                                               f"{args.runtime}-profile"
    opts = BuildOptions(board=board, out_dir=folder, model_path=args.model,
                        benchmark=args.benchmark, kernels=args.kernels, optimize=args.optimize,
                        deps_dir=args.deps_dir, runtime=args.runtime, profile=True)
    result = build_firmware(opts, progress, model=info)
    if args.port is not None:
        progress(f"note: tinygen does not flash boards; the board on {args.port} must run "
                 f"{result.elf}")
    return result.elf, result.benchmark, result.kernels


def _title(args: argparse.Namespace, board: Board, kernels: str | None) -> str:
    runtime = f"{args.runtime}, {kernels} kernels" if kernels else args.runtime
    return f"{args.model.name} on {board.name} ({runtime})"


def _write(path: Path, text: str, what: str) -> None:
    with writing(path, what):
        path.write_text(text)


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    _check_options(args, board)
    info = load_model(args.model)
    elf, benchmark, kernels = _firmware(args, board, info)
    payload = synthetic_input(payload_bytes(info, benchmark), 0)
    emulated = args.port is None
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(SessionLog(args.log)) if args.log else None
        transport = stack.enter_context(open_transport(board, elf, args.port, args.baud))
        client = DutClient(transport, timeout=args.timeout, recorder=log, elf=elf)
        start_session(client, emulated)
        device = identify(client, benchmark)
        measured = measure_ops(client, payload, args.warmup)
    profile: Profile = build_profile(info, measured, emulated)
    title = _title(args, board, kernels)
    if args.html is not None:
        _write(args.html, render_html(profile, title), "the profile page")
    if args.svg is not None:
        _write(args.svg, render_svg(profile, title), "the profile chart")
    if args.json:
        emit_json({
            "board": board.name, "model": str(args.model), "model_sha256": info.sha256,
            "runtime": args.runtime, "kernels": kernels, "benchmark": benchmark,
            "firmware": {"elf": str(elf),
                         "sha256": hashlib.sha256(elf.read_bytes()).hexdigest()},
            "transport": transport_json(board, args.port, args.baud),
            "device": device.to_json(), **profile.to_json()})
        return 0
    print(title)
    print(format_profile(profile))
    return 0
