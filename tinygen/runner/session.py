"""Setting up a benchmark session: the transport for a board, the device's identity, inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinygen.benchmarks import BENCHMARKS
from tinygen.board import Board
from tinygen.errors import InputError
from tinygen.runner.dataset import Dataset, synthetic_input
from tinygen.runner.emulator import QemuTransport, require_emulated
from tinygen.runner.modes import BenchInput
from tinygen.runner.protocol import DutClient
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
