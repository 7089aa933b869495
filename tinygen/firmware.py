"""The build pipeline: model and board in, a budget-checked firmware folder out."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from tinygen import outdir
from tinygen.audit import AuditReport, audit_elf, budget_violations, enforce_budgets, render_text
from tinygen.board import Board, list_board_names, load_board
from tinygen.build import LibraryResult, Progress, ensure_library, run_scons
from tinygen.codegen import (
    BringupSpec,
    GeneratedProject,
    TflmSpec,
    payload_bytes,
    render_bringup,
    render_tflm,
)
from tinygen.deps import cache_root, load_manifest, resolve
from tinygen.emulator import QEMU
from tinygen.errors import (
    BuildError,
    DeviceError,
    InputError,
    ModelError,
    OverBudgetError,
    TinygenError,
    ToolMissingError,
    UsageError,
)
from tinygen.library import KERNEL_SETS, LibrarySpec, library_spec
from tinygen.model import ModelInfo, check_buildable, load_model
from tinygen.native import cmsis_nn
from tinygen.native.codegen import NATIVE_KERNELS, NativeSpec, prepare_native, render_native
from tinygen.probe import (
    PROBE_HEAP_SIZE,
    PROBE_STACK_SIZE,
    Measured,
    MemorySizes,
    memory_sizes,
    run_probe,
)
from tinygen.resources import sconstruct_path
from tinygen.toolchain import board_cpu_flags, compiler_version, require_toolchain

# What the probe board's arena region keeps for .data and .bss besides the input buffer
# (the harness, TFLM's statics, the interpreter's storage: under 16 KiB today), with room to
# spare; the rest of the region, less the stack and heap, is the arena the probe searches.
_PROBE_RESERVE = 64 * 1024
# tflm: the TFLM interpreter and its kernels; native: plain C calls into tinygen's own kernels,
# with the arena planned at generation time (tinygen/native).
RUNTIMES = ("tflm", "native")
# The quantization verdicts (tinygen.quantization) the native runtime's kernels cover.
NATIVE_QUANTIZATIONS = ("int8", "int8-float-io")


@dataclass(frozen=True)
class BuildOptions:
    board: Board
    out_dir: Path
    model_path: Path | None = None  # None: the bring-up firmware
    benchmark: str | None = None  # None: from the model's signature, else "generic"
    kernels: str | None = None  # None: the board's default
    optimize: str = "speed"  # library.OPTIMIZE key
    energy: bool = False
    arena_size: int | None = None  # None: measured
    deps_dir: Path | None = None
    budget_flash: int | None = None
    budget_ram: int | None = None
    runtime: str = "tflm"  # one of RUNTIMES


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


def check_flash_fits(opts: BuildOptions, model_flash: int, what: str) -> None:
    """Refuse, before anything is compiled or run, a model whose constant data alone is larger
    than the flash the firmware may use: the code region, or the flash budget if smaller."""
    board = opts.board
    region = board.region(board.code_region)
    budget = min(region.size, opts.budget_flash or board.flash_budget)
    if model_flash <= budget:
        return
    source = ("--budget-flash" if opts.budget_flash else
              "the board's flash budget" if budget < region.size else
              f"flash region '{region.name}'")
    raise OverBudgetError(
        f"{what} takes {model_flash:,} bytes; {board.name} has {budget:,} bytes of flash for "
        f"code and model ({source}): {model_flash - budget:,} bytes over before any code",
        hint="use a smaller model (fewer parameters, or pruned and re-quantized), or a board "
             "with more flash (tinygen boards lists them)")


@dataclass(frozen=True)
class _Prepared:
    info: ModelInfo
    model_bytes: bytes
    benchmark: str
    kernels: str
    spec: LibrarySpec
    checkouts_json: dict[str, str]
    library: LibraryResult


def _prepare_tflm(opts: BuildOptions, progress: Progress | None) -> _Prepared:
    assert opts.model_path is not None
    info = load_model(opts.model_path)
    check_buildable(info)
    check_flash_fits(opts, info.size_bytes, "the model (TFLM keeps the whole .tflite in flash)")
    benchmark = opts.benchmark or info.benchmark or "generic"
    payload_bytes(info, benchmark)  # a --benchmark the model does not fit: before any build
    kernels = opts.kernels or opts.board.default_kernels
    if kernels not in KERNEL_SETS:
        raise UsageError(f"unknown kernel set {kernels!r}", hint=f"use one of {KERNEL_SETS}")
    checkouts = resolve(load_manifest(), opts.deps_dir, on_progress=progress)
    spec = library_spec(checkouts, board_cpu_flags(opts.board), kernels, opts.optimize)
    library = ensure_library(spec, checkouts, progress)
    return _Prepared(
        info=info, model_bytes=opts.model_path.read_bytes(), benchmark=benchmark,
        kernels=kernels, spec=spec,
        checkouts_json={n: str(c.path) for n, c in checkouts.items()}, library=library,
    )


def prepare_native_spec(opts: BuildOptions) -> NativeSpec | None:
    """The native runtime's generation-time work, or None for a TFLM or bring-up build."""
    if opts.runtime not in RUNTIMES:
        raise UsageError(f"unknown runtime {opts.runtime!r}", hint=f"use one of {RUNTIMES}")
    if opts.runtime != "native" or opts.model_path is None:
        return None
    if opts.arena_size:
        raise UsageError("--arena-size applies to --runtime tflm only",
                         hint="the native runtime plans its arena when it generates the code; "
                              "drop the option")
    kernels = opts.kernels or NATIVE_KERNELS[0]
    if kernels not in NATIVE_KERNELS:
        raise UsageError(f"--kernels {kernels} is a TFLM kernel set",
                         hint=f"with --runtime native use one of {', '.join(NATIVE_KERNELS)}")
    checkouts: dict[str, str] | None = None
    versions: tuple[tuple[str, str], ...] = ()
    if kernels == "cmsis-nn":
        if opts.board.core in cmsis_nn.MVE_CORES:
            raise UsageError(f"--runtime native --kernels cmsis-nn does not support the "
                             f"{opts.board.core} (Helium) yet",
                             hint="use --kernels native, or --runtime tflm --kernels cmsis-nn")
        pins = tuple(p for p in load_manifest() if p.name in cmsis_nn.PINS)
        resolved = resolve(pins, opts.deps_dir)
        checkouts = {n: str(c.path) for n, c in resolved.items()}
        versions = tuple(sorted((n, c.version) for n, c in resolved.items()))
    info = load_model(opts.model_path)
    check_buildable(info)
    if info.quantization not in NATIVE_QUANTIZATIONS:
        raise ModelError(f"{info.path}: the native runtime runs int8 models (or int8 with float "
                         f"I/O); this one is {info.quantization}",
                         hint="build it with --runtime tflm")
    check_flash_fits(opts, info.weights_bytes, "the model's weights")
    model = prepare_native(opts.model_path, kernels, opts.board.has_dsp)
    return NativeSpec(info, model, opts.benchmark or info.benchmark or "generic", opts.optimize,
                      kernels, checkouts, versions)


def _render(opts: BuildOptions, prep: _Prepared | None, arena: int, probe: bool = False,
            board: Board | None = None) -> GeneratedProject:
    board = board or opts.board
    if prep is None:
        return render_bringup(board, BringupSpec(opts.benchmark or "kws01"), opts.energy)
    tflm_spec = TflmSpec(prep.model_bytes, prep.info, prep.benchmark, arena, prep.kernels,
                         arena_probe=probe)
    return render_tflm(board, tflm_spec, list(prep.spec.include_dirs), list(prep.spec.defines),
                       opts.energy)


def _write_project(project: GeneratedProject, folder: Path, prep: _Prepared | None,
                   native: NativeSpec | None = None) -> None:
    project.write(folder)  # into a fresh folder: the work folder or its probe/ below it
    shutil.copy(sconstruct_path(), folder / "SConstruct")
    local: dict[str, object] = {}
    if prep is not None:
        local = {"deps": prep.checkouts_json,
                 "libraries": {name: str(prep.library.path) for name, _ in prep.spec.archives}}
    elif native is not None and native.checkouts:
        local = {"deps": dict(native.checkouts)}  # the CMSIS-NN sources (--kernels cmsis-nn)
    (folder / "tinygen_local.json").write_text(json.dumps(local, indent=2) + "\n")


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


def _project(opts: BuildOptions, prep: _Prepared | None, native: NativeSpec | None,
             board: Board, arena: int, probe: bool = False) -> GeneratedProject:
    """The firmware project for ``board``: a native one, a TFLM one, or the bring-up."""
    if native is not None:
        return render_native(board, native, energy=opts.energy)
    return _render(opts, prep, arena, probe=probe, board=board)


def _project_key(project: GeneratedProject, prep: _Prepared | None,
                 native: NativeSpec | None) -> str:
    """What a probe's result depends on: every generated file, the SConstruct that compiles
    them, the compiler, and the library variant or the versions of the checkouts compiled in."""
    digest = hashlib.sha256(prep.spec.key.encode() if prep else b"native")
    if native is not None:
        digest.update(json.dumps(native.checkout_versions).encode())
    digest.update(sconstruct_path().read_bytes())
    digest.update(compiler_version().encode())
    for name in sorted(project.files):
        digest.update(name.encode() + b"\0" + project.files[name].encode() + b"\0")
    return digest.hexdigest()[:24]


def _payload(prep: _Prepared | None, native: NativeSpec | None) -> int:
    if native is not None:
        return payload_bytes(native.info, native.benchmark)
    if prep is None:
        raise ValueError("the bring-up firmware has no model to probe")
    return payload_bytes(prep.info, prep.benchmark)


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


def measure(opts: BuildOptions, prep: _Prepared | None, native: NativeSpec | None, work: Path,
            progress: Progress | None) -> tuple[Measured, str]:
    """Build the probe firmware for a same-core emulated board and run it in QEMU: the smallest
    arena TFLM accepts (unless --arena-size is given) and the stack and heap one inference
    takes. Cached by the probe project's contents."""
    probe_board = probe_board_for(opts.board)
    given = opts.arena_size
    # The probe is a performance-mode firmware whatever the target's mode: it has to answer
    # `infer` with timestamps (energy mode differs only in how the timestamps leave the board).
    searched = (probe_arena_size(probe_board, _payload(prep, native))
                if prep is not None and not given else None)
    project = _project(dataclasses.replace(opts, energy=False), prep, native, probe_board,
                       given or searched or 0, probe=searched is not None)
    cached = cache_root() / "probe" / f"{_project_key(project, prep, native)}.json"
    if cached.is_file() and (found := Measured.from_json(cached.read_text())) is not None:
        return found, "cached"
    if progress:
        what = "stack" if given or native else "tensor arena and the stack"
        progress(f"measuring the {what} on {probe_board.name} (QEMU)")
    folder = work / "probe"
    _write_project(project, folder, prep, native)
    run_scons(folder, total=None, label="probe firmware", progress=None)
    found = run_probe(probe_board, folder / "firmware.elf", _payload(prep, native), searched)
    if prep is not None and not given and found.arena_min is None:
        raise DeviceError("the probe firmware printed no m-arena-min line",
                          hint="the probe firmware runs TFLM's arena planner; give --arena-size "
                               "BYTES to skip it")
    shutil.rmtree(folder, ignore_errors=True)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(found.to_json())
    return found, "measured"


def _big_parts(opts: BuildOptions, prep: _Prepared | None, arena: int | None) -> str:
    """The largest known parts, for a firmware the linker could not place (no ELF to audit)."""
    board = opts.board
    parts = [("stack", board.stack_size or 0), ("heap", board.heap_size or 0)]
    if prep is not None:
        parts += [("model weights (flash)", len(prep.model_bytes)),
                  ("tensor arena", arena or 0),
                  ("input buffer", payload_bytes(prep.info, prep.benchmark))]
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

    native: NativeSpec | None
    prep: _Prepared | None
    mem: _Memory


def _generate(opts: BuildOptions, work: Path, progress: Progress | None) -> _Generated:
    """The stage ``generate`` and ``build`` share: prepare the runtime, measure the memory
    (probe), write the project's sources into ``work``."""
    require_toolchain()
    native = prepare_native_spec(opts)
    prep = _prepare_tflm(opts, progress) if opts.model_path and native is None else None
    mem = _memory(opts, prep, native, work, progress)
    _write_project(_project(opts, prep, native, mem.board, mem.arena or 0), work, prep, native)
    return _Generated(native, prep, mem)


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


def build_firmware(opts: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """Generate, compile, link and audit; the output folder changes only when all of it worked.

    The output folder is locked for the whole build and replaced only if tinygen wrote every
    file in it (tinygen/outdir.py); a failed build is kept beside it as ``<out>.failed``.
    """
    opts = dataclasses.replace(opts, out_dir=check_out_dir(opts.out_dir))
    with outdir.locked(opts.out_dir, cache_root(), progress):
        return _build_locked(opts, progress)


def _build_locked(opts: BuildOptions, progress: Progress | None) -> BuildResult:
    start = time.monotonic()
    work = _start_work(opts)
    _, failed = _siblings(opts.out_dir)
    try:
        generated = _generate(opts, work, progress)
        native, prep, mem = generated.native, generated.prep, generated.mem
        if progress:
            progress(f"building firmware for {opts.board.name}")
        try:
            warnings = run_scons(work, total=None, label="firmware", progress=None)
        except OverBudgetError as exc:
            exc.message += _big_parts(dataclasses.replace(opts, board=mem.board), prep,
                                      mem.arena)
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
        benchmark=(native.benchmark if native else prep.benchmark if prep
                   else (opts.benchmark or "kws01")),
        kernels=native.kernels if native else prep.kernels if prep else None,
        arena_size=mem.arena, arena_source=mem.arena_source,
        library=prep.library if prep else None, audit=report,
        seconds=time.monotonic() - start, warnings=tuple(warnings),
        runtime="native" if native else "tflm", stack_size=mem.sizes.stack,
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
    exc.message = exc.message.replace(str(work), str(failed))
    exc.hint = (exc.hint.replace(str(work), str(failed)) + "; " if exc.hint else "") + (
        f"the failed project is kept in {failed} (the output folder is unchanged)")


@dataclass(frozen=True)
class _Memory:
    """What a build links: the arena (None for the bring-up), the board with its stack and heap
    sized, and where the figures came from."""

    arena: int | None
    arena_source: str | None  # "measured", "cached", "given", "planned"
    board: Board
    sizes: MemorySizes
    measured: Measured | None  # None: nothing was probed


def _memory(opts: BuildOptions, prep: _Prepared | None, native: NativeSpec | None, work: Path,
            progress: Progress | None) -> _Memory:
    measured: Measured | None = None
    arena: int | None = None
    arena_source: str | None = None
    if prep is not None or native is not None:
        try:
            measured, how = measure(opts, prep, native, work, progress)
        except ToolMissingError:
            if shutil.which(QEMU) is not None or (prep is not None and not opts.arena_size):
                raise  # another tool is missing, or the arena needs the probe
            measured, how = None, "given"
            if progress:
                progress(f"{QEMU} is not installed: the stack is not measured; the board's "
                         f"(or tinygen's default) stack and heap are linked")
        if native is not None:
            arena, arena_source = native.model.arena_size, "planned"
        elif opts.arena_size:
            arena, arena_source = opts.arena_size, "given"
        else:
            assert measured is not None
            arena, arena_source = measured.arena_min, how
    sizes = memory_sizes(opts.board, measured)
    board = dataclasses.replace(opts.board, stack_size=sizes.stack, heap_size=sizes.heap)
    return _Memory(arena, arena_source, board, sizes, measured)
