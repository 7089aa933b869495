"""The memory stage of a build: a probe firmware built for a same-core emulated board and run in
QEMU measures the smallest arena TFLM accepts and the stack and heap one inference takes;
results are cached by the probe project's contents."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from tinygen.board import Board, list_board_names, load_board
from tinygen.build_options import BuildOptions
from tinygen.deps import cache_root
from tinygen.errors import BuildError, DeviceError, ToolMissingError
from tinygen.project import GeneratedProject, write_project
from tinygen.resources import sconstruct_path
from tinygen.runner.emulator import QEMU
from tinygen.runner.probe import (
    PROBE_HEAP_SIZE,
    PROBE_STACK_SIZE,
    Measured,
    MemorySizes,
    memory_sizes,
    run_probe,
)
from tinygen.runtime import Runtime
from tinygen.scons import Progress, run_scons
from tinygen.toolchain import compiler_version

# What the probe board's arena region keeps for .data and .bss besides the input buffer
# (the harness, TFLM's statics, the interpreter's storage: under 16 KiB today), with room to
# spare; the rest of the region, less the stack and heap, is the arena the probe searches.
_PROBE_RESERVE = 64 * 1024


@dataclass(frozen=True)
class Memory:
    """What a build links: the arena (None for the bring-up), the board with its stack and heap
    sized, and where the figures came from."""

    arena: int | None
    arena_source: str | None  # "measured", "cached", "given", "planned"
    board: Board
    sizes: MemorySizes
    measured: Measured | None  # None: nothing was probed


def measure_memory(opts: BuildOptions, runtime: Runtime, work: Path,
                   progress: Progress | None) -> Memory:
    measured: Measured | None = None
    arena: int | None = None
    arena_source: str | None = None
    if runtime.info is not None:  # a model: the probe measures its stack, maybe its arena
        try:
            measured, how = measure(opts, runtime, work, progress)
        except ToolMissingError:
            if shutil.which(QEMU) is not None or runtime.planned_arena is None:
                raise  # another tool is missing, or the arena needs the probe
            measured, how = None, "given"
            if progress:
                progress(f"{QEMU} is not installed: the stack is not measured; the board's "
                         f"(or tinygen's default) stack and heap are linked")
        if runtime.planned_arena is not None:
            arena, arena_source = runtime.planned_arena, runtime.arena_source
        else:
            assert measured is not None
            arena, arena_source = measured.arena_min, how
    sizes = memory_sizes(opts.board, measured)
    board = dataclasses.replace(opts.board, stack_size=sizes.stack, heap_size=sizes.heap)
    return Memory(arena, arena_source, board, sizes, measured)


def probe_board_for(board: Board) -> Board:
    """An emulated board with the same core on which to measure the arena and the stack (the
    target's core and FPU, so the code is identical), with the probe's roomy stack and heap."""
    for name in list_board_names():
        candidate = load_board(name)
        if candidate.family == "mps2" and candidate.core == board.core:
            return dataclasses.replace(
                candidate, fpu=board.fpu,
                stack_size=max(PROBE_STACK_SIZE, board.stack_size or 0),
                heap_size=max(PROBE_HEAP_SIZE, board.heap_size or 0))
    raise BuildError(
        f"no emulated board with a {board.core} to measure the tensor arena and stack on",
        hint="add an MPS2 board description with this core (see docs/porting.md)",
    )


def _project_key(project: GeneratedProject, runtime: Runtime) -> str:
    """What a probe's result depends on: every generated file, the SConstruct that compiles
    them, the compiler, and the library variant or the versions of the checkouts compiled in."""
    digest = hashlib.sha256(runtime.probe_key())
    digest.update(sconstruct_path().read_bytes())
    digest.update(compiler_version().encode())
    for name in sorted(project.files):
        digest.update(name.encode() + b"\0" + project.files[name].encode() + b"\0")
    return digest.hexdigest()[:24]


def probe_arena_size(probe_board: Board, payload: int) -> int:
    """The arena the probe searches: its board's whole arena region, less what else lives
    there when that is also the data region (the stack with its guard, the heap, the input
    buffer and the other statics)."""
    region = probe_board.region(probe_board.arena_region)
    others = 0
    if probe_board.arena_region == probe_board.data_region:
        others = ((probe_board.stack_size or PROBE_STACK_SIZE) + 64
                  + (probe_board.heap_size or 0) + payload + _PROBE_RESERVE)
    return (region.size - others) // 16 * 16


def measure(opts: BuildOptions, runtime: Runtime, work: Path,
            progress: Progress | None) -> tuple[Measured, str]:
    """Build the probe firmware for a same-core emulated board and run it in QEMU: the smallest
    arena TFLM accepts (unless an arena size is given) and the stack and heap one inference
    takes. Cached by the probe project's contents."""
    probe_board = probe_board_for(opts.board)
    # The probe is a performance-mode firmware whatever the target's mode: it has to answer
    # `infer` with timestamps (energy mode differs only in how the timestamps leave the board).
    searches = runtime.planned_arena is None
    searched = probe_arena_size(probe_board, runtime.payload()) if searches else None
    project = runtime.render(probe_board, runtime.planned_arena or searched or 0,
                             energy=False, probe=searched is not None)
    cached = cache_root() / "probe" / f"{_project_key(project, runtime)}.json"
    if cached.is_file() and (found := Measured.from_json(cached.read_text())) is not None:
        return found, "cached"
    if progress:
        what = "tensor arena and the stack" if searches else "stack"
        progress(f"measuring the {what} on {probe_board.name} (QEMU)")
    folder = work / "probe"
    write_project(project, folder, runtime.local_config())
    run_scons(folder, total=None, label="probe firmware", progress=None)
    found = run_probe(probe_board, folder / "firmware.elf", runtime.payload(), searched)
    if searches and found.arena_min is None:
        raise DeviceError("the probe firmware printed no m-arena-min line",
                          hint="the probe firmware runs TFLM's arena planner; give --arena-size "
                               "BYTES to skip it")
    shutil.rmtree(folder, ignore_errors=True)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(found.to_json())
    return found, "measured"
