"""The three ways to run a benchmark: smoke (is every answer right), performance, accuracy."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygen.benchmarks import BENCHMARKS
from tinygen.errors import DeviceError
from tinygen.runner import metrics
from tinygen.runner.dataset import Dataset, check_classes
from tinygen.runner.protocol import (
    INFER_TIMEOUT,
    DutClient,
    InferResult,
    MemoryUsage,
    elapsed_us,
)

Progress = Callable[[int, int, str], None]

PERFORMANCE_INPUTS = 5  # the MLCommons rule: the median over the first five inputs
HARDWARE_MIN_WINDOW_S = 10.0  # the MLCommons rule for a timed window on a board
# Under QEMU with -icount shift=0 the clock is the instruction count, so a window has no noise
# to average out; 50 virtual ms (50,000 counter ticks: 0.002 % resolution) is plenty and takes
# well under a second of host time for the bring-up firmware.
EMULATED_MIN_WINDOW_S = 0.05
MAX_ITERATIONS = 2**31 - 1  # the largest count the firmware accepts
_CALIBRATION_US = 1000  # a calibration window this long measures latency to 0.1 %
_EMULATION_NOTE = ("emulated (QEMU -icount shift=0): time is instruction count, one instruction "
                   "per virtual nanosecond, not the board's time; compare instructions per "
                   "inference, not milliseconds")


@dataclass(frozen=True)
class BenchInput:
    """One input to send: where it came from (a file, a window of one, or synthetic)."""

    name: str
    data: bytes


def _line_timeout(wall_per_inference: float, count: int) -> float:
    """How long to wait for the line that ends ``count`` inferences: the runner's 30 s, plus
    three times the host time they should take (from the calibration)."""
    return INFER_TIMEOUT + 3.0 * wall_per_inference * count


# ---- performance -------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One timed window: ``infer N W`` on one input."""

    input: str
    iterations: int
    warmup: int
    t0_us: int
    t1_us: int

    @property
    def elapsed_us(self) -> int:
        return elapsed_us(self.t0_us, self.t1_us)

    @property
    def throughput(self) -> float:
        return metrics.throughput(self.iterations, self.elapsed_us)

    @property
    def latency_ms(self) -> float:
        return self.elapsed_us / self.iterations / 1000.0

    @property
    def instructions_per_inference(self) -> float:
        """Under QEMU -icount shift=0 one virtual microsecond is 1000 instructions."""
        return self.elapsed_us * 1000.0 / self.iterations


@dataclass(frozen=True)
class PerformanceResult:
    windows: tuple[Window, ...]
    calibration: tuple[tuple[int, int], ...]  # (N, elapsed us) of each calibration infer
    min_window_s: float
    emulated: bool
    iterations_chosen: bool  # by calibration (True) or given (False)
    memory: MemoryUsage | None = None  # after the windows; None: the firmware has no memory%

    @property
    def median_throughput(self) -> float:
        return metrics.median([w.throughput for w in self.windows])

    @property
    def latency_ms(self) -> float:
        return metrics.median([w.latency_ms for w in self.windows])

    @property
    def instructions_per_inference(self) -> float | None:
        if not self.emulated:
            return None
        return metrics.median([w.instructions_per_inference for w in self.windows])

    @property
    def instructions_resolution(self) -> float:
        """The microsecond counter's step in instructions per inference: a window's start is
        read at a random point within a microsecond (it depends on when the host's bytes
        arrived), so two runs may differ by this much, never more."""
        return 1000.0 / min(w.iterations for w in self.windows)

    @property
    def short_windows(self) -> list[Window]:
        return [w for w in self.windows if w.elapsed_us < self.min_window_s * 1e6]

    def summary_lines(self) -> list[str]:
        unit = "virtual " if self.emulated else ""
        count = len(self.windows)
        lines = [f"Median throughput is {self.median_throughput:>10.3f} inf./sec.",
                 f"Latency (median of {count} window{'s' if count > 1 else ''}) is "
                 f"{self.latency_ms:.6g} {unit}ms"]
        if self.memory is not None:
            m = self.memory
            lines.append(f"Stack: peak {m.stack_peak:,} of {m.stack_size:,} bytes reserved; "
                         f"heap: {m.heap_used:,} of {m.heap_size:,} bytes")
        ipi = self.instructions_per_inference
        if ipi is not None:
            lines.append(f"Instructions per inference: {ipi:,.0f} (+/- "
                         f"{self.instructions_resolution:.3g}: one counter tick, 1000 "
                         f"instructions, over {self.windows[0].iterations} inferences)")
            lines.append(f"note: {_EMULATION_NOTE}")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "emulated": self.emulated,
            "min_window_s": self.min_window_s,
            "iterations_chosen_by_calibration": self.iterations_chosen,
            "calibration": [{"iterations": n, "elapsed_us": e} for n, e in self.calibration],
            "windows": [{
                "input": w.input, "iterations": w.iterations, "warmup": w.warmup,
                "t0_us": w.t0_us, "t1_us": w.t1_us, "elapsed_us": w.elapsed_us,
                "throughput": w.throughput, "latency_ms": w.latency_ms,
                "instructions_per_inference": (w.instructions_per_inference if self.emulated
                                               else None),
            } for w in self.windows],
            "median_throughput": self.median_throughput,
            "latency_ms": self.latency_ms,
            "instructions_per_inference": self.instructions_per_inference,
            "instructions_resolution": self.instructions_resolution if self.emulated else None,
            "short_windows": len(self.short_windows),
            "note": _EMULATION_NOTE if self.emulated else None,
            "memory": None if self.memory is None else {
                "stack_peak": self.memory.stack_peak, "stack_size": self.memory.stack_size,
                "heap_used": self.memory.heap_used, "heap_size": self.memory.heap_size},
        }


def _timed(client: DutClient, n: int, w: int, timeout: float) -> tuple[InferResult, float]:
    start = time.monotonic()
    result = client.infer(n, w, timeout=timeout)
    return result, time.monotonic() - start


def check_advanced(result: InferResult) -> None:
    if result.elapsed_us == 0:
        raise DeviceError(
            f"the device's microsecond counter did not advance over {result.iterations} "
            f"inference(s) (m-lap-us-{result.t0_us} twice)",
            hint="check th_timestamp() and the timer set-up of the port (board timer driver)")


def calibrate(client: DutClient, target_us: float) -> tuple[list[tuple[int, int]], float]:
    """Time growing `infer N 0` windows until one lasts long enough to measure the latency to
    0.1 %; return [(N, elapsed us)] and the host seconds one inference took (for timeouts)."""
    enough = min(_CALIBRATION_US, target_us / 10)
    steps: list[tuple[int, int]] = []
    n, wall_per_inference = 1, 0.0
    while True:
        result, wall = _timed(client, n, 0, _line_timeout(wall_per_inference, n))
        steps.append((n, result.elapsed_us))
        wall_per_inference = wall / n
        # A counter standing still while the host waited a visible time is broken: say so now
        # rather than after a thousand times longer windows.
        if result.elapsed_us == 0 and wall > 0.05:
            check_advanced(result)
        if result.elapsed_us >= enough or n >= MAX_ITERATIONS // 1000:
            check_advanced(result)
            return steps, wall_per_inference
        grow = math.ceil(2 * enough / max(result.elapsed_us, 1))
        n = min(MAX_ITERATIONS // 1000, n * max(2, min(1000, grow)))


def round_up_2sig(value: int) -> int:
    """``value`` rounded up to two significant digits: 10274 -> 11000, 57 -> 57."""
    step: int = 10 ** max(0, len(str(value)) - 2)
    return -(-value // step) * step


def iterations_for(target_us: float, n: int, elapsed: int) -> int:
    """N so that a window of N inferences lasts at least ``target_us`` (2 % margin), rounded up
    to two significant digits, so the calibration's one-tick jitter rarely changes N."""
    needed = math.ceil(target_us * n / elapsed * 1.02)
    return max(1, min(MAX_ITERATIONS, round_up_2sig(needed)))


def run_performance(client: DutClient, inputs: Sequence[BenchInput], *, iterations: int | None,
                    warmup: int, min_window_s: float, emulated: bool,
                    progress: Progress | None = None) -> PerformanceResult:
    """One timed window per input (the first five): `db load`, chunks, `infer N W`. N is
    ``iterations`` or chosen by calibration on the first input so a window lasts
    ``min_window_s``."""
    chosen = list(inputs[:PERFORMANCE_INPUTS])
    if not chosen:
        raise ValueError("performance mode needs at least one input")
    client.load(chosen[0].data)
    steps, wall_per_inference = calibrate(client, min_window_s * 1e6)
    n = iterations or iterations_for(min_window_s * 1e6, *steps[-1])
    windows = []
    for i, item in enumerate(chosen):
        if progress:
            progress(i, len(chosen), "performance")
        if i > 0:
            client.load(item.data)
        result = client.infer(n, warmup, timeout=_line_timeout(wall_per_inference, n + warmup))
        check_advanced(result)
        windows.append(Window(item.name, n, warmup, result.t0_us, result.t1_us))
    if progress:
        progress(len(chosen), len(chosen), "performance")
    return PerformanceResult(tuple(windows), tuple(steps), min_window_s, emulated,
                             iterations is None, _memory(client))


def _memory(client: DutClient) -> MemoryUsage | None:
    """The firmware's stack peak and heap use after the run (tinygen's memory% extension);
    None from a firmware that does not know the command."""
    try:
        return client.memory()
    except DeviceError:  # an e- line, or no answer the protocol allows: not a tinygen firmware
        return None


# ---- accuracy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileResult:
    file: str
    label: int
    inferences: int
    scores: tuple[float, ...]  # the mean of the normalised scores of its inferences


@dataclass(frozen=True)
class AccuracyResult:
    benchmark: str
    files: tuple[FileResult, ...]
    top1_percent: float
    auc: float | None

    def summary_lines(self) -> list[str]:
        auc = (f"{self.auc:.3f}" if self.auc is not None
               else "n/a (the files hold only one class)")
        return [f"Top 1% = {self.top1_percent:2.1f}", f"AUC = {auc}"]

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "files": [{"file": f.file, "label": f.label, "inferences": f.inferences,
                       "scores": list(f.scores),
                       "predicted": int(np.argmax(f.scores)) if len(f.scores) > 1 else None}
                      for f in self.files],
            "file_count": len(self.files),
            "inference_count": sum(f.inferences for f in self.files),
            "top1_percent": self.top1_percent,
            "auc": self.auc,
        }


def run_accuracy(client: DutClient, dataset: Dataset, *, limit: int | None = None,
                 progress: Progress | None = None) -> AccuracyResult:
    """Every input (every window of every file) with `infer 1 0`; per-file averaged scores."""
    entries = dataset.entries[:limit] if limit else dataset.entries
    expected = (BENCHMARKS[dataset.benchmark].scores if dataset.benchmark in BENCHMARKS
                else None)
    if expected is not None:
        check_classes(dataset, expected)  # before anything is sent
    total = sum(e.window_count for e in entries)
    done = 0
    files = []
    for entry in entries:
        window_scores = []
        for k, data in enumerate(entry.read_windows()):
            if progress:
                progress(done, total, "accuracy")
            client.load(data)
            result = client.infer(1, 0)
            if expected is not None and len(result.scores) != expected:
                raise DeviceError(
                    f"{entry.file.name}" + (f" window {k}" if entry.window_count > 1 else "")
                    + f": the firmware printed {len(result.scores)} scores; {dataset.benchmark}"
                    f" has {expected}",
                    hint=f"is the firmware built for another benchmark than {dataset.benchmark}?"
                         " (tinygen build --benchmark)")
            window_scores.append(result.scores)
            done += 1
        averaged = metrics.file_scores(window_scores)
        files.append(FileResult(entry.file.name, entry.label, len(window_scores),
                                tuple(float(v) for v in averaged)))
    if progress:
        progress(total, total, "accuracy")
    y_pred = np.array([f.scores for f in files], dtype=np.float64)
    top1, auc = metrics.accuracy_summary(y_pred, [f.label for f in files])
    return AccuracyResult(dataset.benchmark, tuple(files), top1, auc)


# ---- smoke -------------------------------------------------------------------------------
