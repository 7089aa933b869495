"""``tinygen bench``: run the MLPerf Tiny benchmark against a firmware on a board or in QEMU."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import sys
from pathlib import Path
from typing import Any

from tinygen.audit.target import check_firmware_for_board
from tinygen.benchmarks import DEFAULT_BENCHMARK, GENERIC, benchmark_names
from tinygen.board import Board, load_board
from tinygen.build_options import BuildOptions
from tinygen.commands.args import (
    add_board_argument,
    baud_rate,
    non_negative_int,
    positive_int,
    seconds,
)
from tinygen.errors import DeviceError, InputError, UsageError
from tinygen.firmware import FirmwareIdentity, build_firmware, read_identity
from tinygen.model import ModelInfo, load_model
from tinygen.outputs import check_writable
from tinygen.runner.dataset import Dataset, load_dataset
from tinygen.runner.emulator import require_emulated
from tinygen.runner.modes import (
    EMULATED_MIN_WINDOW_S,
    HARDWARE_MIN_WINDOW_S,
    AccuracyResult,
    PerformanceResult,
)
from tinygen.runner.progress import ProgressBar
from tinygen.runner.protocol import DEFAULT_TIMEOUT, DutClient
from tinygen.runner.results import SessionLog, results_document, write_results
from tinygen.runner.session import (
    BenchPlan,
    open_transport,
    run_bench,
    start_session,
    transport_json,
)
from tinygen.runner.smoke import SmokeResult
from tinygen.tables import emit_json, format_table, progress

MODES = ("smoke", "performance", "accuracy")




def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench", help="run the MLPerf Tiny benchmark (smoke, performance, accuracy)",
        description="Run the MLPerf Tiny host protocol against a firmware: on a board through "
                    "its serial port (--port), or on an emulated board in QEMU. Prints the "
                    "MLCommons runner's summary lines. Under QEMU time is instruction count "
                    "(-icount shift=0), not the board's time. Exit code 6 when the device "
                    "fails.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--elf", type=Path, metavar="FIRMWARE.elf", help="a built firmware")
    src.add_argument("--model", type=Path, metavar="MODEL.tflite",
                     help="build (or reuse) the firmware for this model first")
    src.add_argument("--bringup", action="store_true",
                     help="build (or reuse) the bring-up firmware (no model) first")
    add_board_argument(p)
    p.add_argument("--port", help="serial port of a board (or a pyserial URL such as "
                                  "socket://host:4000); without it an emulated board runs in QEMU")
    p.add_argument("--baud", type=baud_rate, help="baud rate (default: the board's)")
    p.add_argument("--mode", choices=MODES, required=True)
    p.add_argument("--dataset", type=Path, metavar="DIR",
                   help="inputs in the MLCommons layout: DIR/<model id>/y_labels.csv and the "
                        "files (accuracy needs it; smoke and performance use synthetic inputs "
                        "without it)")
    p.add_argument("--benchmark", choices=benchmark_names(),
                   help="the benchmark the firmware runs (default: asked with 'profile'); "
                        "given, the dataset is checked before the device is started")
    p.add_argument("--iterations", type=positive_int, metavar="N",
                   help="inferences per timed window (default: chosen so a window lasts "
                        "--min-window)")
    p.add_argument("--warmup", type=non_negative_int, metavar="W",
                   help="untimed inferences before each window (default: the MLCommons "
                        "runner's, 10 for kws01/ad01, 5 for vww01/ic01)")
    p.add_argument("--min-window", type=seconds, metavar="SECONDS",
                   help=f"shortest timed window (default {HARDWARE_MIN_WINDOW_S:g} s on a board,"
                        f" {EMULATED_MIN_WINDOW_S:g} virtual s in QEMU, where the clock is the "
                        "instruction count and has no noise to average out)")
    p.add_argument("--limit", type=positive_int, metavar="K",
                   help="accuracy: only the first K files")
    p.add_argument("--timeout", type=seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"wait this long for each answer line (default {DEFAULT_TIMEOUT:g}; "
                        "infer waits at least 30 s)")
    p.add_argument("--build-dir", type=Path, metavar="DIR",
                   help="with --model/--bringup: the firmware folder (default "
                        "build/<board>-<model>)")
    p.add_argument("--rebuild", action="store_true",
                   help="with --model/--bringup: build even if a matching firmware exists")
    p.add_argument("--json", action="store_true", help="print the results JSON instead of text")
    p.add_argument("--out", type=Path, metavar="RESULTS.json", help="also write the results JSON")
    p.add_argument("--log", type=Path, metavar="SESSION.log",
                   help="write every command and answer of the session")
    p.set_defaults(_command_module=sys.modules[__name__])


# ---- firmware --------------------------------------------------------------------------


def _reusable(folder: Path, wanted: FirmwareIdentity) -> bool:
    """A firmware folder from an earlier build of the same model, board and benchmark, in
    performance mode, by this tinygen version (its tinygen_firmware.json says)."""
    return (folder / "firmware.elf").is_file() and read_identity(folder) == wanted


def _firmware(args: argparse.Namespace, board: Board) -> tuple[Path, str | None]:
    """The ELF to run and the benchmark it runs (None when only the device can tell)."""
    if args.elf is not None:
        return args.elf, args.benchmark
    info: ModelInfo | None = None
    if args.bringup:
        benchmark = args.benchmark or DEFAULT_BENCHMARK
        stem = "bringup"
    else:
        info = load_model(args.model)
        benchmark = args.benchmark or info.benchmark or GENERIC
        stem = args.model.stem
    folder = args.build_dir or Path("build") / f"{board.name}-{stem}"
    wanted = FirmwareIdentity.of(board, info.sha256 if info else None, benchmark, energy=False)
    if not args.rebuild and _reusable(folder, wanted):
        progress(f"reusing {folder / 'firmware.elf'} (same model, board and tinygen; "
                 "--rebuild builds it again)")
        return folder / "firmware.elf", benchmark
    opts = BuildOptions(board=board, out_dir=folder,
                        model_path=None if args.bringup else args.model,
                        benchmark=args.benchmark)
    result = build_firmware(opts, progress, model=info)
    return result.elf, result.benchmark


# ---- output ----------------------------------------------------------------------------


def _smoke_text(result: SmokeResult) -> str:
    rows = [(c.name, "ok" if c.ok else "FAILED", c.detail) for c in result.checks]
    return format_table(("check", "result", "detail"), rows)


def _performance_text(result: PerformanceResult) -> str:
    emulated = result.emulated
    headers = ["window", "input", "N", "elapsed us", "inf./sec.",
               "virtual ms" if emulated else "ms"]
    if emulated:
        headers.append("instructions/inf.")
    rows = []
    for i, w in enumerate(result.windows, start=1):
        row: list[object] = [i, w.input, w.iterations, w.elapsed_us, f"{w.throughput:.3f}",
                             f"{w.latency_ms:.6g}"]
        if emulated:
            row.append(f"{w.instructions_per_inference:,.0f}")
        rows.append(row)
    return format_table(headers, rows, align_right=tuple(range(2, len(headers))))


def _print_result(mode: str, result: SmokeResult | PerformanceResult | AccuracyResult) -> None:
    if isinstance(result, SmokeResult):
        print(_smoke_text(result))
        print()
    elif isinstance(result, PerformanceResult):
        print(_performance_text(result))
        print()
    else:
        print(f"{len(result.files)} files, {sum(f.inferences for f in result.files)} "
              "inferences")
    print("\n".join(result.summary_lines()))


# ---- run -------------------------------------------------------------------------------


def _check_options(args: argparse.Namespace, board: Board) -> None:
    if args.mode == "accuracy" and args.bringup:
        raise UsageError("the bring-up firmware has no model, so it has no accuracy",
                         hint="give --model MODEL.tflite, or use --mode smoke to check a port")
    if args.mode == "accuracy" and args.dataset is None:
        raise UsageError("accuracy mode needs --dataset DIR",
                         hint="e.g. --dataset ../shared/mlperf-tiny/datasets")
    if args.port is None:
        require_emulated(board, hint="give the board's serial port, e.g. --port /dev/ttyACM0")
    if args.baud is not None and args.port is None:
        raise UsageError("--baud goes with --port (QEMU's UART has no baud rate)",
                         hint="drop --baud for an emulated board")
    if args.elf is not None and not args.elf.is_file():
        raise InputError(f"{args.elf} does not exist", hint="build it first: tinygen build")
    # Both are written after (or during) a run that can take minutes: refuse them first.
    if args.out is not None:
        check_writable(args.out, "the results")
    if args.log is not None:
        check_writable(args.log, "the session log")
    if args.elf is not None:  # another board's firmware would only fail to answer, much later
        check_firmware_for_board(args.elf, board)


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    _check_options(args, board)
    emulated = args.port is None
    elf, benchmark = _firmware(args, board)
    if args.port is not None and (args.model is not None or args.bringup):
        progress(f"note: tinygen does not flash boards; the board on {args.port} must run "
                 f"{elf}")
    dataset: Dataset | None = None
    if args.dataset is not None and benchmark is not None:
        dataset = load_dataset(args.dataset, benchmark)  # every file checked before QEMU starts

    with contextlib.ExitStack() as stack:
        log = stack.enter_context(SessionLog(args.log)) if args.log else None
        transport = stack.enter_context(open_transport(board, elf, args.port, args.baud))
        client = DutClient(transport, timeout=args.timeout, recorder=log,
                           strict=args.mode == "smoke", elf=elf)
        start_session(client, emulated)
        bar = ProgressBar()
        stack.callback(bar.close)
        plan = BenchPlan(args.mode, benchmark, args.dataset, dataset, args.iterations,
                         args.warmup, args.min_window, args.limit)
        outcome = run_bench(client, plan, emulated, progress=bar.update)
        bar.close()
    result, model, dataset = outcome.result, outcome.model, outcome.dataset
    device = outcome.device.to_json() if outcome.device else None

    run_info = {
        "board": board.name,
        "benchmark": model,
        "firmware": {"elf": str(elf), "sha256": hashlib.sha256(elf.read_bytes()).hexdigest()},
        "transport": transport_json(board, args.port, args.baud),
        "device": device,
        "dataset": str(dataset.folder) if dataset else None,
        "inputs": "dataset" if dataset else "synthetic",
    }
    document = results_document(args.mode, run_info, result.to_json())
    if args.out:
        write_results(args.out, document)
    if args.json:
        emit_json(document)
    else:
        _print_result(args.mode, result)
    if isinstance(result, PerformanceResult) and result.short_windows:
        progress(f"warning: {len(result.short_windows)} window(s) shorter than "
                 f"{result.min_window_s:g} s (the MLCommons rule is {HARDWARE_MIN_WINDOW_S:g} s"
                 " on a board); raise --iterations")
    if isinstance(result, SmokeResult) and not result.ok:
        failed = [c for c in result.checks if not c.ok]
        raise DeviceError(f"smoke test failed: {failed[0].name}: {failed[0].detail}",
                          hint="the session log (--log) shows every line exchanged")
    return 0
