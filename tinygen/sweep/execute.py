"""Running one cell in-process: build + audit, then verify and bench where the board runs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from tinygen.audit import AuditReport
from tinygen.audit.budget import BudgetExceededError
from tinygen.audit.layout import layout_problems
from tinygen.board import Board, parse_board
from tinygen.board.file import parse_board_yaml
from tinygen.build_options import BuildOptions
from tinygen.deps import cache_root
from tinygen.errors import DeviceError, ExitCode, InputError, OverBudgetError, TinygenError
from tinygen.firmware import BuildResult, build_firmware
from tinygen.flash import flash_firmware
from tinygen.outdir import file_lock
from tinygen.reference import random_payload
from tinygen.runner.modes import AccuracyResult, PerformanceResult
from tinygen.runner.protocol import DutClient
from tinygen.runner.session import BenchPlan, open_transport, run_bench, start_session
from tinygen.runner.smoke import SmokeResult
from tinygen.sweep.cells import BRINGUP, Cell, port_variable, probe_variable
from tinygen.verify import verify_firmware

ERROR_CLASSES: dict[int, str] = {
    ExitCode.INTERNAL: "internal", ExitCode.USAGE: "usage", ExitCode.BAD_INPUT: "bad-input",
    ExitCode.BUILD_FAILED: "build-failed", ExitCode.OVER_BUDGET: "over-budget",
    ExitCode.DEVICE: "device", ExitCode.DEPENDENCY: "dependency",
    ExitCode.TOOL_MISSING: "tool-missing",
}
# The instructions per inference of `infer 1 0` are read from a microsecond counter.
VERIFY_RESOLUTION = 1000.0


def cell_folder(out_root: Path, cell: Cell) -> Path:
    return out_root / "cells" / cell.id


def _board(cell: Cell) -> Board:
    path = Path(cell.board_path)
    return parse_board(parse_board_yaml(cell.board_text, path), path)


def _model_path(cell: Cell, folder: Path, model_bytes: bytes | None) -> Path | None:
    """The model file: the cell's path if it holds the same model here, else the bytes the
    client sent (a cluster worker without the client's files)."""
    if cell.model_path is None:
        return None
    path = Path(cell.model_path)
    with contextlib.suppress(OSError):
        if hashlib.sha256(path.read_bytes()).hexdigest() == cell.model_sha256:
            return path
    if model_bytes is None or hashlib.sha256(model_bytes).hexdigest() != cell.model_sha256:
        raise InputError(f"model {cell.model_path} is not on this machine, or has changed "
                         "since the sweep started", hint="run the sweep again")
    copy = folder / "model" / Path(cell.model_path).name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(model_bytes)
    return copy


def _audit_figures(report: AuditReport) -> dict[str, Any]:
    flash, ram = report.budget("flash"), report.budget("ram")
    model_flash = report.role("model").flash
    shares = {kind: (b.used / b.budget if b.budget else None) for kind, b in
              (("flash", flash), ("ram", ram))}
    return {
        "flash": flash.used, "ram": ram.used, "flash_budget": flash.budget,
        "ram_budget": ram.budget, "flash_share": _round(shares["flash"]),
        "ram_share": _round(shares["ram"]), "flash_over": flash.over, "ram_over": ram.over,
        "fits": flash.over == 0 and ram.over == 0, "model_flash": model_flash,
        "flash_without_model": flash.used - model_flash,
        "arena": report.role("arena").ram or None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _build_figures(result: BuildResult, board: Board) -> dict[str, Any]:
    figures = _audit_figures(result.audit)
    figures.update(arena=result.arena_size, arena_source=result.arena_source,
                   stack=result.stack_size, stack_peak=result.stack_peak,
                   heap=result.heap_size, kernels_used=result.kernels,
                   benchmark_used=result.benchmark, warnings=len(result.warnings),
                   layout_problems=layout_problems(result.elf, board),
                   build_seconds=round(result.seconds, 2))
    return figures


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, TinygenError):
        code = int(exc.exit_code)
        return {"exit_code": code, "error_class": ERROR_CLASSES.get(code, "internal"),
                "error": exc.message, "hint": exc.hint}
    return {"exit_code": int(ExitCode.INTERNAL), "error_class": "internal",
            "error": f"{type(exc).__name__}: {exc}", "hint": "a bug in tinygen: please report it"}


def board_lock(board: str) -> contextlib.AbstractContextManager[None]:
    """One bench at a time on a physical board, whichever process of this machine runs it."""
    return file_lock(cache_root() / "boards" / f"{board}.lock",
                     f"waiting for board {board}: another tinygen is using it")


def _verify(cell: Cell, board: Board, result: BuildResult, model: Path) -> dict[str, Any]:
    assert cell.verify_random is not None
    info = result.model
    assert info is not None, "a model's build"
    inputs = [*cell.verify_inputs,
              *((f"random-{seed}", random_payload(info, result.benchmark, seed))
                for seed in range(cell.verify_random))]
    checks = verify_firmware(board, result.elf, info, result.benchmark, inputs)
    bad = [c for c in checks if not c.equal]
    figures = {"bit_exact": not bad, "instructions": checks[0].instructions,
               "instructions_resolution": VERIFY_RESOLUTION, "verified_inputs": len(checks)}
    if bad:
        raise _StepFailed(figures, DeviceError(
            f"{len(bad)} of {len(checks)} outputs differ from the host interpreter "
            f"(first: {bad[0].label})", hint="a bug in tinygen's port or kernels: please "
            "report it with the model and the input"))
    return figures


class _StepFailed(Exception):
    """A step that measured something and then failed: keep both."""

    def __init__(self, figures: dict[str, Any], error: TinygenError) -> None:
        super().__init__(error.message)
        self.figures, self.error = figures, error


def _bench(cell: Cell, board: Board, elf: Path, benchmark: str) -> dict[str, Any]:
    step = cell.bench
    assert step is not None
    port = None if cell.emulated else os.environ.get(port_variable(cell.board))
    if not cell.emulated and not port:
        raise DeviceError(f"no serial port for board {cell.board} on this machine",
                          hint=f"set {port_variable(cell.board)} to the board's port (a "
                               "board-farm worker sets it for the board it has)")
    lock = contextlib.nullcontext() if cell.emulated else board_lock(cell.board)
    with lock:
        if not cell.emulated:  # the board runs this cell's firmware from here on
            flash_firmware(board, elf, probe=os.environ.get(probe_variable(cell.board)))
        return _bench_session(cell, board, elf, port, benchmark)


def _bench_session(cell: Cell, board: Board, elf: Path, port: str | None,
                   benchmark: str) -> dict[str, Any]:
    step = cell.bench
    assert step is not None
    with open_transport(board, elf, port, None) as transport:
        client = DutClient(transport, elf=elf, strict=cell.model == BRINGUP)
        start_session(client, cell.emulated)
        if cell.model == BRINGUP:
            outcome = run_bench(client, BenchPlan("smoke", benchmark), cell.emulated)
            assert isinstance(outcome.result, SmokeResult)
            if not outcome.result.ok:
                first = next(c for c in outcome.result.checks if not c.ok)
                raise _StepFailed({"smoke": False}, DeviceError(
                    f"smoke test failed: {first.name}: {first.detail}",
                    hint="run tinygen bench --bringup --mode smoke --log FILE to see the "
                         "session"))
            return {"smoke": True}
        outcome = run_bench(client, BenchPlan(step.mode, benchmark, step.dataset,
                                              iterations=step.iterations, limit=step.limit),
                            cell.emulated)
        if isinstance(outcome.result, AccuracyResult):
            acc = outcome.result
            return {"accuracy": round(acc.top1_percent, 4),
                    "auc": None if acc.auc is None else round(acc.auc, 6)}
        assert isinstance(outcome.result, PerformanceResult)
        perf = outcome.result
        figures: dict[str, Any] = {"latency_ms": round(perf.latency_ms, 6),
                                   "throughput": round(perf.median_throughput, 4)}
        if perf.instructions_per_inference is not None:
            figures.update(instructions=round(perf.instructions_per_inference),
                           instructions_resolution=round(perf.instructions_resolution, 3))
        return figures


def failed_row(cell: Cell, exc: BaseException) -> dict[str, Any]:
    """The row of a cell that could not run at all (its worker died again and again)."""
    return {**cell.inputs(), "status": "failed", "failed_step": "run", "steps": "",
            **_error(exc)}


def run_cell(cell: Cell, out_root: str, model_bytes: bytes | None = None) -> dict[str, Any]:
    """Run ``cell`` and return its results row. A failure is recorded in the row (exit-code
    class, message, hint), never raised; only an interrupt (Ctrl-C, SIGTERM) escapes."""
    start = time.monotonic()
    folder = cell_folder(Path(out_root), cell)
    folder.mkdir(parents=True, exist_ok=True)
    row: dict[str, Any] = {**cell.inputs(), "status": "ok", "exit_code": 0,
                           "error_class": None, "error": None, "hint": None}
    steps: list[str] = []
    try:
        board = _board(cell)
        model = _model_path(cell, folder, model_bytes)
        opts = BuildOptions(
            board=board, out_dir=folder / "firmware", model_path=model,
            benchmark=cell.benchmark, kernels=cell.kernels, optimize=cell.optimize,
            arena_size=cell.arena_size, budget_flash=cell.budget_flash,
            budget_ram=cell.budget_ram, runtime=cell.runtime or "tflm")
        steps.append("build")
        result = build_firmware(opts)
        row.update(_build_figures(result, board))
        if cell.verify_random is not None and model is not None:
            steps.append("verify")
            row.update(_verify(cell, board, result, model))
        if cell.bench is not None:
            steps.append("bench")
            row.update(_bench(cell, board, result.elf, result.benchmark))
    except OverBudgetError as exc:
        # The audit's figures when the firmware linked; a linker overflow has none.
        row.update(_audit_figures(exc.report) if isinstance(exc, BudgetExceededError)
                   else {"fits": False})
        row.update(_error(exc))
    except _StepFailed as exc:
        row.update(exc.figures)
        row.update(_error(exc.error))
    except Exception as exc:  # every failure is a row; KeyboardInterrupt/Terminated stop
        row.update(_error(exc))
    if row["exit_code"]:
        row["status"] = "failed"
        row["failed_step"] = steps[-1] if steps else "prepare"
    row["steps"] = "+".join(steps)
    row["seconds"] = round(time.monotonic() - start, 2)
    return row
