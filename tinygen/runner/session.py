"""A benchmark session: the transport for a board, the device's identity, the inputs, and one
mode run on a started session (``run_bench``), for ``tinygen bench`` and the sweep alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinygen.benchmarks import BENCHMARKS, default_warmup
from tinygen.board import Board
from tinygen.errors import InputError
from tinygen.runner.bringup import BRINGUP_NAME
from tinygen.runner.dataset import Dataset, load_dataset, synthetic_input
from tinygen.runner.emulator import QemuTransport, require_emulated
from tinygen.runner.modes import (
    EMULATED_MIN_WINDOW_S,
    HARDWARE_MIN_WINDOW_S,
    PERFORMANCE_INPUTS,
    AccuracyResult,
    BenchInput,
    PerformanceResult,
    Progress,
    run_accuracy,
    run_performance,
)
from tinygen.runner.protocol import DutClient
from tinygen.runner.smoke import SmokeResult, run_smoke
from tinygen.runner.transport import SerialTransport, Transport

QEMU_BOOT_TIMEOUT = 10.0  # QEMU boots in well under a second; a loaded CI machine may lag
SERIAL_BOOT_TIMEOUT = 2.0  # a board reset by opening the port prints its banner at once


def open_transport(board: Board, elf: Path | None, port: str | None,
                   baud: int | None) -> Transport:
    """A serial port when ``port`` is given, else QEMU running ``elf`` (emulated boards)."""
    if port is not None:
        return SerialTransport(port, baud or board.uart.baud)
    require_emulated(board, hint="run it on the board itself, through its serial port")
    if elf is None:
        raise InputError("QEMU needs a firmware ELF to run", hint="build one: tinygen build")
    qemu: Transport = QemuTransport(board, elf)
    return qemu


def transport_json(board: Board, port: str | None, baud: int | None) -> dict[str, Any]:
    if port is not None:
        return {"kind": "serial", "port": port, "baud": baud or board.uart.baud}
    machine = board.emulator.qemu_machine if board.emulator else None
    return {"kind": "qemu", "machine": machine, "icount_shift": 0}


def start_session(client: DutClient, emulated: bool) -> list[str]:
    """Wait for the boot banner; a board on a serial port may already be running, so resync."""
    if emulated:
        return client.start(QEMU_BOOT_TIMEOUT)
    return client.start(SERIAL_BOOT_TIMEOUT, resync=True)


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    profile: str
    model: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "profile": self.profile, "model": self.model}


def identify(client: DutClient, expected: str | None) -> DeviceInfo:
    """``name`` and ``profile``; the model must be the one the host was told to expect."""
    name = client.name()
    profile, model = client.profile()
    if expected is not None and model != expected:
        raise InputError(f"the firmware runs benchmark {model!r}, not {expected!r}",
                         hint="pass the matching --benchmark/--dataset, or the right firmware")
    return DeviceInfo(name, profile, model)


def payload_bytes(benchmark: str) -> int:
    if benchmark not in BENCHMARKS:
        raise InputError(
            f"the firmware runs benchmark {benchmark!r}; the runner knows the inputs of "
            f"{', '.join(BENCHMARKS)} only",
            hint="a 'generic' firmware can be driven by hand: tinygen run")
    return BENCHMARKS[benchmark].payload_bytes


def bench_inputs(dataset: Dataset | None, benchmark: str, count: int) -> list[BenchInput]:
    """The first ``count`` inputs: the first window of each file, as the MLCommons runner
    takes them; a set with fewer files (the one AD file of the reference data) is filled up
    with the files' further windows, in order. Without a dataset, synthetic inputs."""
    if dataset is None:
        size = payload_bytes(benchmark)
        return [BenchInput(f"synthetic-{i}", synthetic_input(size, i)) for i in range(count)]
    items: list[BenchInput] = []
    later: list[BenchInput] = []
    for entry in dataset.entries:
        if len(items) == count:
            break
        windows = entry.read_windows()
        items.append(BenchInput(entry.file.name, windows[0]))
        if len(items) + len(later) < count:
            later += [BenchInput(f"{entry.file.name}#{k}", w)
                      for k, w in enumerate(windows[1:count], start=1)]
    return (items + later)[:count]


@dataclass(frozen=True)
class BenchPlan:
    """What to run on a started session."""

    mode: str  # smoke | performance | accuracy
    benchmark: str | None  # the benchmark the firmware must run; None: ask it
    dataset_dir: Path | None = None  # inputs in the MLCommons layout; None: synthetic
    dataset: Dataset | None = None  # the dataset already read and checked (before the start)
    iterations: int | None = None  # None: chosen to fill the window
    warmup: int | None = None  # None: the MLCommons runner's for the benchmark
    min_window_s: float | None = None  # None: the board's or the emulator's default
    limit: int | None = None  # accuracy: only the first files


@dataclass(frozen=True)
class BenchOutcome:
    result: SmokeResult | PerformanceResult | AccuracyResult
    model: str  # the benchmark the firmware runs
    device: DeviceInfo | None  # None in smoke mode (its checks ask name and profile)
    dataset: Dataset | None


def run_bench(client: DutClient, plan: BenchPlan, emulated: bool,
              progress: Progress | None = None) -> BenchOutcome:
    """Run one mode on a session ``start_session`` began; the dataset, when not yet read, is
    read and checked before the first input goes to the device."""
    dataset = plan.dataset
    if plan.mode == "smoke":
        model = plan.benchmark or client.profile()[1]
        if plan.dataset_dir is not None and dataset is None:
            dataset = load_dataset(plan.dataset_dir, model)
        item = bench_inputs(dataset, model, 1)[0]
        smoke = run_smoke(client, item, benchmark=model, emulated=emulated)
        return BenchOutcome(smoke, model, None, dataset)
    device = identify(client, plan.benchmark)
    if plan.mode == "accuracy" and device.name == BRINGUP_NAME:
        raise InputError("the firmware is the bring-up firmware: it has no model, so it has no "
                         "accuracy", hint="bench a firmware built with a model, or check the "
                         "port with the smoke mode")
    model = device.model
    if plan.dataset_dir is not None and dataset is None:
        dataset = load_dataset(plan.dataset_dir, model)  # still before any `db`
    if plan.mode == "accuracy":
        if dataset is None:
            raise InputError("the accuracy mode needs a dataset",
                             hint="give the inputs in the MLCommons layout")
        return BenchOutcome(run_accuracy(client, dataset, limit=plan.limit, progress=progress),
                            model, device, dataset)
    warmup = plan.warmup if plan.warmup is not None else default_warmup(model)
    min_window = plan.min_window_s or (EMULATED_MIN_WINDOW_S if emulated
                                       else HARDWARE_MIN_WINDOW_S)
    perf = run_performance(client, bench_inputs(dataset, model, PERFORMANCE_INPUTS),
                           iterations=plan.iterations, warmup=warmup, min_window_s=min_window,
                           emulated=emulated, progress=progress)
    return BenchOutcome(perf, model, device, dataset)
