"""What a build measures by running a probe firmware in QEMU: the smallest tensor arena TFLM
accepts, and the stack and heap one inference really uses, from which the final firmware's
stack and heap are sized."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from tinygen.board import DEFAULT_HEAP_SIZE, DEFAULT_STACK_SIZE, Board
from tinygen.board.support import STACK_MIN
from tinygen.errors import BuildError, OverBudgetError, TinygenError
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.fault import DeviceFaultError
from tinygen.runner.protocol import DeviceBootError, DutClient

# The probe firmware's own stack and heap: room for any MLPerf Tiny model, measured from there.
PROBE_STACK_SIZE = 16 * 1024
PROBE_HEAP_SIZE = DEFAULT_HEAP_SIZE
# A sized stack is the measured peak plus a quarter of it, at least STACK_MARGIN_MIN bytes, and
# at least STACK_MIN (what the fault handlers need), rounded up to STACK_ALIGN (the stack
# pointer's alignment at a call, AAPCS; the MPU guard below the stack has an alignment of its
# own). The probe runs the same code the target runs (same core, FPU, compiler flags, harness
# and model), so the margin covers only what the probe may not have seen: an interrupt at the
# deepest point (an exception frame with the FPU context, 104 bytes, and the handler's own
# frame: tinygen's only one, SysTick_Handler, takes at most 8; tests/runner/test_fault_stack.py
# checks both fit half the margin on every board), and a board's UART or timer code a little
# deeper than the emulated board's.
STACK_MARGIN_MIN = 256
STACK_ALIGN = 8
# Seconds the probe may take to boot (TFLM's arena bisection runs before m-init-done).
BOOT_TIMEOUT = 300.0
INFER_TIMEOUT = 300.0


@dataclass(frozen=True)
class Measured:
    """One probe run's figures, in bytes; arena_min is None for a native-runtime probe."""

    stack_peak: int
    heap_used: int
    probe_board: str
    arena_min: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Measured | None:
        """A cached measurement, or None when the file is from an older tinygen or damaged."""
        try:
            raw = json.loads(text)
            return cls(stack_peak=int(raw["stack_peak"]), heap_used=int(raw["heap_used"]),
                       probe_board=str(raw["probe_board"]),
                       arena_min=None if raw.get("arena_min") is None else int(raw["arena_min"]))
        except (ValueError, KeyError, TypeError):
            return None


def run_probe(board: Board, elf: Path, payload: int, searched: int | None = None) -> Measured:
    """Boot the probe firmware in QEMU, run one inference on a zero input, read its usage.

    ``searched``: the arena the probe searched for the smallest size that works (None: the
    user gave the size). A fault (or a lockup) ends the run at once with a DeviceFaultError
    naming the code; a stack overflow is over budget."""
    arena_min: int | None = None
    with QemuTransport(board, elf) as uart:
        dut = DutClient(uart, elf=elf)
        try:
            boot_lines = dut.start(boot_timeout=BOOT_TIMEOUT)
            for line in boot_lines:
                if line.startswith("m-arena-min-"):
                    arena_min = int(line.removeprefix("m-arena-min-"))
            dut.load(bytes(payload))
            dut.infer(1, 0, timeout=INFER_TIMEOUT)
            usage = dut.memory()
        except DeviceBootError as exc:
            raise _boot_error(exc.line, searched) from exc
        except DeviceFaultError as exc:
            if exc.fault is None or not exc.fault.stack_overflow:
                raise
            size = board.stack_size or DEFAULT_STACK_SIZE
            raise OverBudgetError(
                f"the firmware overflowed the probe's {size:,}-byte stack: {exc.message}",
                hint=f"set stack_size in the board file above {size:,}: the probe then "
                     f"reserves that much") from exc
    if usage.stack_peak >= usage.stack_size:
        raise OverBudgetError(
            f"the firmware used all of the probe's {usage.stack_size:,}-byte stack",
            hint=f"set stack_size in the board file above {usage.stack_size:,}: the probe "
                 f"then reserves that much")
    return Measured(stack_peak=usage.stack_peak, heap_used=usage.heap_used,
                    probe_board=board.name, arena_min=arena_min)


def _boot_error(line: str, searched: int | None) -> TinygenError:
    """The probe firmware's own error while booting, as a build error; an arena too small even
    at the size searched is over the board's RAM."""
    if line.startswith("e-[AllocateTensors failed") and searched is not None:
        return OverBudgetError(
            f"the model needs a tensor arena larger than the {searched:,} bytes the probe "
            f"board's RAM leaves for it: {line}",
            hint="use a smaller model (smaller activations: a lower input resolution or fewer "
                 "channels), or a board with more RAM")
    if line.startswith("e-[AllocateTensors failed"):
        return BuildError(f"the tensor arena is too small for the model: {line}",
                          hint="leave out --arena-size: the build measures the smallest arena "
                               "that works")
    return BuildError(f"the model does not initialise on the target: {line}",
                      hint="run 'tinygen inspect' on the model; the line above is the "
                           "firmware's own error")


def sized_stack(peak: int) -> int:
    """The stack to reserve for a measured peak."""
    wanted = max(peak + max(peak // 4, STACK_MARGIN_MIN), STACK_MIN)
    return -(-wanted // STACK_ALIGN) * STACK_ALIGN


def sized_heap(used: int) -> int:
    return -(-used // 8) * 8


@dataclass(frozen=True)
class MemorySizes:
    stack: int
    heap: int
    stack_source: str  # "measured" | "board" | "default"


def memory_sizes(board: Board, measured: Measured | None) -> MemorySizes:
    """Stack and heap for the final firmware: the board file's when it names them (checked
    against the measurement), else sized from the measurement, else tinygen's defaults."""
    if measured is None:
        return MemorySizes(board.stack_size or DEFAULT_STACK_SIZE,
                           DEFAULT_HEAP_SIZE if board.heap_size is None else board.heap_size,
                           "board" if board.stack_size else "default")
    if board.stack_size is not None and measured.stack_peak > board.stack_size:
        raise OverBudgetError(
            f"the firmware needs {measured.stack_peak:,} bytes of stack (measured in QEMU on "
            f"{measured.probe_board}); {board.name}'s board file reserves {board.stack_size:,}",
            hint=f"raise stack_size in the board file to at least "
                 f"{sized_stack(measured.stack_peak):,}, or remove it to size the stack from "
                 f"the measurement")
    if board.heap_size is not None and measured.heap_used > board.heap_size:
        raise OverBudgetError(
            f"the firmware takes {measured.heap_used:,} bytes of heap (measured in QEMU on "
            f"{measured.probe_board}); {board.name}'s board file reserves {board.heap_size:,}",
            hint="raise heap_size in the board file, or remove it to size the heap from the "
                 "measurement")
    stack = board.stack_size or sized_stack(measured.stack_peak)
    heap = board.heap_size if board.heap_size is not None else sized_heap(measured.heap_used)
    return MemorySizes(stack, heap, "board" if board.stack_size else "measured")
