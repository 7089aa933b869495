"""Expanding a sweep's axes into cells, each with the key of its inputs (for --resume)."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from tinygen import __version__
from tinygen.benchmarks import payload_bytes
from tinygen.board import Board, load_board
from tinygen.errors import BoardError, InputError
from tinygen.model import ModelInfo, load_model
from tinygen.resources import third_party_dir
from tinygen.sweep.spec import BenchStep, SweepSpec

BRINGUP = "bringup"  # the model column of a bring-up cell


@dataclass(frozen=True)
class Cell:
    """One firmware of the sweep and the steps run on it: self-contained (the board file's text
    travels with it), so a cluster worker needs no copy of the sweep file."""

    id: str
    model: str  # the model file's stem, or BRINGUP
    model_path: str | None
    model_sha256: str | None
    board: str
    board_path: str
    board_text: str
    emulated: bool
    runtime: str | None  # None for the bring-up
    kernels: str | None  # None: the default of the board and runtime
    optimize: str
    benchmark: str | None
    arena_size: int | None
    budget_flash: int | None
    budget_ram: int | None
    verify_random: int | None  # None: no verify step
    verify_inputs: tuple[tuple[str, bytes], ...]  # (file name, bytes), before the random ones
    bench: BenchStep | None
    key: str  # hash of every input: --resume reuses a result only under the same key

    @property
    def farm_board(self) -> bool:
        """A physical board's bench step: the cell runs where that board is attached."""
        return self.bench is not None and not self.emulated

    def inputs(self) -> dict[str, object]:
        """The cell's inputs as results columns."""
        return {"cell": self.id, "model": self.model, "board": self.board,
                "runtime": self.runtime, "kernels": self.kernels, "optimize": self.optimize,
                "benchmark": self.benchmark, "arena_size_given": self.arena_size,
                "budget_flash_given": self.budget_flash, "budget_ram_given": self.budget_ram,
                "model_sha256": self.model_sha256, "input_key": self.key}


def port_variable(board: str) -> str:
    """The environment variable naming a board's serial port: TINYGEN_PORT_NUCLEO_L4R5ZI."""
    return "TINYGEN_PORT_" + re.sub(r"[^A-Za-z0-9]", "_", board).upper()


def probe_variable(board: str) -> str:
    """The environment variable naming the debug probe to flash a board through (optional:
    pyocd's or openocd's default probe without it)."""
    return "TINYGEN_PROBE_" + re.sub(r"[^A-Za-z0-9]", "_", board).upper()


def _pins_text() -> bytes:
    return (third_party_dir() / "manifest.yaml").read_bytes()


def _dataset_digest(bench: BenchStep | None) -> str | None:
    if bench is None or bench.dataset is None:
        return None
    digest = hashlib.sha256(str(bench.dataset).encode())
    for labels in sorted(bench.dataset.glob("*/y_labels.csv")):
        digest.update(labels.read_bytes())
    return digest.hexdigest()


def input_key(fields: dict[str, object], board_text: str, pins: bytes,
              dataset: str | None) -> str:
    """sha256 of the model's hash, the board file, the options and steps, tinygen's version
    and the dependency pins: what a cell's result depends on."""
    document = {"fields": fields, "board": board_text, "tinygen": __version__,
                "pins": hashlib.sha256(pins).hexdigest(), "dataset": dataset}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _cell_id(model: str, board: str, runtime: str | None, kernels: str | None, optimize: str,
             extra: list[str]) -> str:
    parts = [model, board]
    if runtime is not None:
        parts += [runtime, kernels or "default", optimize]
    return "-".join(parts + extra)


def load_boards(spec: SweepSpec) -> list[Board]:
    """Every board of the sweep, loaded and validated (an unknown board stops the sweep here)."""
    boards = []
    for i, ref in enumerate(spec.boards):
        try:
            boards.append(load_board(ref))
        except BoardError as exc:
            raise BoardError(f"{spec.source}: boards[{i}]: {exc.message}", hint=exc.hint) from None
    return boards


def _read_inputs(spec: SweepSpec, path: Path, info: ModelInfo,
                 benchmark: str | None) -> tuple[tuple[str, bytes], ...]:
    """The verify step's input files for a model, each one input of its benchmark's port."""
    files = () if spec.verify is None else spec.verify.inputs_for(path.stem)
    if not files:
        return ()
    benchmark = benchmark or info.benchmark or "generic"
    expected = payload_bytes(info, benchmark)  # a port the model does not fit: InputError
    inputs = []
    for file in files:
        data = file.read_bytes()
        if len(data) != expected:
            raise InputError(f"{spec.source}: steps.verify.inputs.{path.stem}: {file} is "
                             f"{len(data)} bytes; one input of this model ({benchmark}) is "
                             f"{expected} bytes", hint="is the file for another model?")
        inputs.append((file.name, data))
    return tuple(inputs)


def expand_cells(spec: SweepSpec) -> list[Cell]:
    """Every cell of the sweep, in a stable order; every model and board is checked first."""
    boards = load_boards(spec)
    infos = {path: load_model(path) for path in spec.models}
    pins = _pins_text()
    dataset = _dataset_digest(spec.bench)
    cells: list[Cell] = []
    axes = {"benchmark": len(spec.benchmarks) > 1, "arena": len(spec.arena_sizes) > 1,
            "flash": len(spec.budgets_flash) > 1, "ram": len(spec.budgets_ram) > 1}

    def add(model: str, model_path: Path | None, sha: str | None, board: Board,
            runtime: str | None, kernels: str | None, optimize: str, benchmark: str | None,
            arena: int | None, flash: int | None, ram: int | None,
            inputs: tuple[tuple[str, bytes], ...] = ()) -> None:
        # An option with one value is no axis: it names no cell apart.
        extra = [f"{benchmark}" if axes["benchmark"] and benchmark else "",
                 f"arena{arena}" if axes["arena"] and arena else "",
                 f"flash{flash}" if axes["flash"] and flash else "",
                 f"ram{ram}" if axes["ram"] and ram else ""]
        cell_id = _cell_id(model, board.name, runtime, kernels, optimize,
                           [e for e in extra if e])
        verify = spec.verify
        run_verify = (verify is not None and board.emulator is not None and model != BRINGUP
                      and verify.only.matches(model, board.name, runtime, kernels, optimize))
        bench = spec.bench
        if bench is not None and not bench.only.matches(model, board.name, runtime, kernels,
                                                        optimize):
            bench = None
        if bench is not None and model == BRINGUP and bench.mode == "accuracy":
            bench = None  # the bring-up firmware has no model, so no accuracy
        board_text = board.path.read_text(encoding="utf-8")
        fields: dict[str, object] = {
            "model": sha, "runtime": runtime, "kernels": kernels, "optimize": optimize,
            "benchmark": benchmark, "arena": arena, "budget_flash": flash, "budget_ram": ram,
            "verify": verify.random if run_verify and verify else None,
            "bench": None if bench is None else asdict(bench)}
        inputs = inputs if run_verify else ()
        if inputs:  # (absent otherwise: the keys of sweeps without input files stay the same)
            fields["verify_inputs"] = [[name, hashlib.sha256(data).hexdigest()]
                                       for name, data in inputs]
        cells.append(Cell(
            id=cell_id, model=model, model_path=None if model_path is None else str(model_path),
            model_sha256=sha, board=board.name, board_path=str(board.path),
            board_text=board_text, emulated=board.emulator is not None, runtime=runtime,
            kernels=kernels, optimize=optimize, benchmark=benchmark, arena_size=arena,
            budget_flash=flash, budget_ram=ram,
            verify_random=verify.random if run_verify and verify else None,
            verify_inputs=inputs, bench=bench,
            key=input_key(fields, board_text, pins, dataset)))

    for path in spec.models:
        info = infos[path]
        inputs = {b: _read_inputs(spec, path, info, b) for b in spec.benchmarks}
        for board in boards:
            for runtime in spec.runtimes:
                arenas = spec.arena_sizes if runtime == "tflm" else (None,)
                for kernels, optimize, benchmark, arena, flash, ram in itertools.product(
                        spec.kernels_for(runtime), spec.optimizes, spec.benchmarks, arenas,
                        spec.budgets_flash, spec.budgets_ram):
                    add(path.stem, path, info.sha256, board, runtime, kernels, optimize,
                        benchmark, arena, flash, ram, inputs[benchmark])
    if spec.bringup:
        for board in boards:
            for flash, ram in itertools.product(spec.budgets_flash, spec.budgets_ram):
                add(BRINGUP, None, None, board, None, None, "speed", None, None, flash, ram)
    _check_unique(cells)
    return cells


def _check_unique(cells: list[Cell]) -> None:
    seen: set[str] = set()
    for cell in cells:
        if cell.id in seen:  # two board files with the same name
            raise InputError(f"two cells are named {cell.id} (two boards with one name?)",
                             hint="give each board file of the sweep its own name")
        seen.add(cell.id)
