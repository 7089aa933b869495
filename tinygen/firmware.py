"""The build pipeline: model and board in, a budget-checked firmware folder out."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tinygen import __version__, outdir
from tinygen.audit import AuditReport, audit_elf, budget_violations, enforce_budgets, render_text
from tinygen.benchmarks import DEFAULT_BENCHMARK
from tinygen.board import Board
from tinygen.bringup import BringupRuntime
from tinygen.build_options import RUNTIMES, BuildOptions
from tinygen.deps import cache_root
from tinygen.errors import (
    ConfigurationError,
    InputError,
    OverBudgetError,
    TinygenError,
)
from tinygen.memory import Memory, measure_memory
from tinygen.model import ModelInfo, load_model
from tinygen.native.runtime import native_runtime
from tinygen.project import write_project
from tinygen.runtime import Runtime
from tinygen.scons import Progress, run_scons
from tinygen.tflm.library import LibraryResult
from tinygen.tflm.runtime import tflm_runtime
from tinygen.toolchain import require_toolchain

# What a firmware folder was built from, for a later command to decide whether to reuse it.
IDENTITY_FILE = "tinygen_firmware.json"


@dataclass(frozen=True)
class FirmwareIdentity:
    """The facts that make two builds' firmware the same for the runner."""

    tinygen_version: str
    board: str
    model_sha256: str | None  # None: the bring-up
    benchmark: str
    energy: bool
    profile: bool = False  # the profile build (tinygen profile): never benched as a normal one

    @classmethod
    def of(cls, board: Board, model_sha256: str | None, benchmark: str,
           energy: bool, profile: bool = False) -> FirmwareIdentity:
        return cls(__version__, board.name, model_sha256, benchmark, energy, profile)


def read_identity(folder: Path) -> FirmwareIdentity | None:
    """The identity a build wrote into ``folder``; None if there is none or it is unreadable."""
    try:
        raw = json.loads((folder / IDENTITY_FILE).read_text())
        return FirmwareIdentity(**raw)
    except (OSError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    elf: Path
    board: Board
    benchmark: str
    kernels: str | None
    arena_size: int | None
    arena_source: str | None  # "measured", "cached", "given", "planned" (native)
    library: LibraryResult | None
    audit: AuditReport
    seconds: float
    warnings: tuple[str, ...] = ()
    runtime: str = "tflm"
    stack_size: int = 0  # linked
    stack_source: str = "default"  # "measured" | "board" | "default"
    heap_size: int = 0
    stack_peak: int | None = None  # measured in QEMU on the probe board
    model: ModelInfo | None = field(default=None, repr=False, compare=False)  # as parsed

    def to_json(self) -> dict[str, object]:
        return {
            "out_dir": str(self.out_dir),
            "elf": str(self.elf),
            "board": self.board.name,
            "benchmark": self.benchmark,
            "runtime": self.runtime,
            "kernels": self.kernels,
            "arena_size": self.arena_size,
            "arena_source": self.arena_source,
            "stack_size": self.stack_size,
            "stack_source": self.stack_source,
            "stack_peak": self.stack_peak,
            "heap_size": self.heap_size,
            "library": None if self.library is None else {
                "path": str(self.library.path), "built": self.library.built,
                "seconds": round(self.library.seconds, 1)},
            "seconds": round(self.seconds, 1),
            "warnings": list(self.warnings),
            "audit": self.audit.to_json(),
        }


def prepare_runtime(opts: BuildOptions, progress: Progress | None = None,
                    model: ModelInfo | None = None) -> Runtime:
    """The one place the runtime is chosen: the bring-up without a model, else tflm or native,
    each given the model parsed once (``model``: parsed already by the caller)."""
    if opts.runtime not in RUNTIMES:
        raise ConfigurationError(f"there is no runtime {opts.runtime!r}",
                                 hint=f"use one of {', '.join(RUNTIMES)}")
    if opts.model_path is None:
        if opts.profile:
            raise ConfigurationError("the bring-up firmware has no model, so no operators to "
                                     "profile", hint="give a model")
        return BringupRuntime(opts.benchmark or DEFAULT_BENCHMARK)
    info = model if model is not None else load_model(opts.model_path)
    if opts.runtime == "native":
        return native_runtime(opts, info)
    return tflm_runtime(opts, info, progress)


def _big_parts(board: Board, runtime: Runtime, arena: int | None) -> str:
    """The largest known parts, for a firmware the linker could not place (no ELF to audit)."""
    parts = [("stack", board.stack_size or 0), ("heap", board.heap_size or 0),
             *runtime.big_parts(arena)]
    listed = ", ".join(f"{name} {size:,}" for name, size in sorted(parts, key=lambda p: -p[1]))
    return f"; biggest parts (bytes): {listed}"


def generate_firmware(opts: BuildOptions, progress: Progress | None = None) -> Path:
    """Write the sources only (tinygen generate). TFLM builds still need the arena size, which
    is measured unless --arena-size is given, so the library may be compiled here too."""
    opts = dataclasses.replace(opts, out_dir=check_out_dir(opts.out_dir))
    with outdir.locked(opts.out_dir, cache_root(), progress):
        work = _start_work(opts)
        try:
            _generate(opts, work, progress)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)  # tinygen's own work folder (manifest)
            raise
        outdir.record(work)
        outdir.replace(work, opts.out_dir)
    return opts.out_dir


@dataclass(frozen=True)
class _Generated:
    """A firmware project written into the work folder, and what went into it."""

    runtime: Runtime
    mem: Memory


def _generate(opts: BuildOptions, work: Path, progress: Progress | None,
              model: ModelInfo | None = None) -> _Generated:
    """The stage ``generate`` and ``build`` share: prepare the runtime, measure the memory
    (probe), write the project's sources into ``work``."""
    require_toolchain()
    runtime = prepare_runtime(opts, progress, model)
    mem = measure_memory(opts, runtime, work, progress)
    write_project(runtime.render(mem.board, mem.arena or 0, energy=opts.energy), work,
                  runtime.local_config())
    identity = FirmwareIdentity.of(opts.board, runtime.model_sha256, runtime.benchmark,
                                   opts.energy, opts.profile)
    (work / IDENTITY_FILE).write_text(json.dumps(dataclasses.asdict(identity), indent=2) + "\n")
    return _Generated(runtime, mem)


def _siblings(out_dir: Path) -> tuple[Path, Path]:
    """The work folder a build writes into, and where a failed build is kept."""
    return (out_dir.with_name(out_dir.name + ".partial"),
            out_dir.with_name(out_dir.name + ".failed"))


def _start_work(opts: BuildOptions) -> Path:
    """Check (under the folder's lock) that the output folder, its work folder and its failed
    copy are tinygen's to replace and hold no input; then make a fresh work folder."""
    work, failed = _siblings(opts.out_dir)
    inputs = (opts.model_path, opts.board.path, opts.deps_dir)
    for folder, role in ((opts.out_dir, "--out"), (work, "the work folder"),
                         (failed, "the failed-build folder")):
        outdir.check_not_inside(folder, inputs)
        outdir.check_replaceable(folder, role)
    outdir.remove(work, "the work folder")
    work.mkdir(parents=True)
    outdir.record(work, partial=True)
    return work


def check_out_dir(out_dir: Path) -> Path:
    """The output folder, resolved; refuse one tinygen did not make, since it gets replaced."""
    out = out_dir.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out_dir} is a file, not a folder",
                         hint="name a new folder, or one an earlier tinygen build wrote")
    if out.parent == out:
        raise InputError(f"--out {out_dir} cannot be the file system's root",
                         hint="name a folder below the root, e.g. --out build/fw")
    return out


def build_firmware(opts: BuildOptions, progress: Progress | None = None,
                   model: ModelInfo | None = None) -> BuildResult:
    """Generate, compile, link and audit; the output folder changes only when all of it worked.

    The output folder is locked for the whole build and replaced only if tinygen wrote every
    file in it (tinygen/outdir.py); a failed build is kept beside it as ``<out>.failed``.
    """
    opts = dataclasses.replace(opts, out_dir=check_out_dir(opts.out_dir))
    with outdir.locked(opts.out_dir, cache_root(), progress):
        return _build_locked(opts, progress, model)


def _build_locked(opts: BuildOptions, progress: Progress | None,
                  model: ModelInfo | None) -> BuildResult:
    start = time.monotonic()
    work = _start_work(opts)
    _, failed = _siblings(opts.out_dir)
    try:
        generated = _generate(opts, work, progress, model)
        runtime, mem = generated.runtime, generated.mem
        if progress:
            progress(f"building firmware for {opts.board.name}")
        try:
            warnings = run_scons(work, total=None, label="firmware", progress=None)
        except OverBudgetError as exc:
            exc.message += _big_parts(mem.board, runtime, mem.arena)
            raise
        report = audit_elf(work / "firmware.elf", opts.board, map_path=work / "firmware.map",
                           budget_flash=opts.budget_flash, budget_ram=opts.budget_ram)
        if budget_violations(report) and progress:
            progress(render_text(report, top=10))
        enforce_budgets(report)
    except TinygenError as exc:
        _keep_failed(work, failed, exc)
        raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # tinygen's own work folder (manifest)
        raise
    outdir.remove(failed, "the failed-build folder")
    outdir.record(work)
    outdir.replace(work, opts.out_dir)
    elf = opts.out_dir / "firmware.elf"
    report = report.moved_to(opts.out_dir)
    return BuildResult(
        out_dir=opts.out_dir, elf=elf, board=opts.board,
        benchmark=runtime.benchmark, kernels=runtime.kernels,
        arena_size=mem.arena, arena_source=mem.arena_source,
        library=runtime.library, audit=report, model=runtime.info,
        seconds=time.monotonic() - start, warnings=tuple(warnings),
        # the bring-up reports the runtime it was asked for, as the option's default: tflm
        runtime=opts.runtime if runtime.info is None else runtime.name, stack_size=mem.sizes.stack,
        stack_source=mem.sizes.stack_source, heap_size=mem.sizes.heap,
        stack_peak=mem.measured.stack_peak if mem.measured else None,
    )


def _keep_failed(work: Path, failed: Path, exc: TinygenError) -> None:
    """Keep a failed build's project as ``failed`` for inspection (unless nothing was written
    yet) and say so in the error."""
    outdir.remove(failed, "the failed-build folder")
    if not any(p.name != outdir.MANIFEST for p in work.iterdir()):
        shutil.rmtree(work)  # failed before anything was written: nothing to keep
        return
    outdir.record(work)
    work.rename(failed)
    # Where the error happened: the work folder or its probe project, now below ``failed``
    # (a library variant that failed stays in the cache, and is the one named).
    if exc.kept is None:
        exc.kept = failed
    elif exc.kept.is_relative_to(work):
        exc.kept = failed / exc.kept.relative_to(work)


