"""The TFLM runtime's build-time work: check the model, resolve the checkouts, build (or reuse)
the library variant; then render projects for the probe and the target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.benchmarks import GENERIC, payload_bytes
from tinygen.board import Board
from tinygen.build_options import BuildOptions, check_flash_fits
from tinygen.deps import load_manifest, resolve
from tinygen.errors import ConfigurationError
from tinygen.model import ModelInfo, check_buildable
from tinygen.project import GeneratedProject
from tinygen.scons import Progress
from tinygen.tflm.library import (
    KERNEL_SETS,
    LibraryResult,
    LibrarySpec,
    ensure_library,
    library_spec,
)
from tinygen.tflm.render import render_tflm
from tinygen.toolchain import board_cpu_flags


@dataclass(frozen=True)
class TflmRuntime:
    """A model on TFLM's interpreter with one library variant."""

    info: ModelInfo
    benchmark: str
    kernels: str
    spec: LibrarySpec
    checkouts: dict[str, str]  # name -> this machine's folder
    library: LibraryResult
    given_arena: int | None = None  # --arena-size: no arena search
    name: ClassVar[str] = "tflm"
    profile: bool = False  # the profile build: every operator timed (TFLM's profiler hook)

    @property
    def model_sha256(self) -> str:
        return self.info.sha256

    @property
    def planned_arena(self) -> int | None:
        return self.given_arena

    @property
    def arena_source(self) -> str | None:
        return None if self.given_arena is None else "given"

    def payload(self) -> int:
        return payload_bytes(self.info, self.benchmark)

    def probe_key(self) -> bytes:
        return self.spec.key.encode()

    def local_config(self) -> dict[str, object]:
        return {"deps": dict(self.checkouts),
                "libraries": {name: str(self.library.path) for name, _ in self.spec.archives}}

    def big_parts(self, arena: int | None) -> list[tuple[str, int]]:
        return [("model weights (flash)", self.info.size_bytes), ("tensor arena", arena or 0),
                ("input buffer", self.payload())]

    def render(self, board: Board, arena: int, energy: bool = False,
               probe: bool = False) -> GeneratedProject:
        return render_tflm(board, self.info, self.benchmark, arena,
                           dep_include_dirs=self.spec.include_dirs, defines=self.spec.defines,
                           energy=energy, arena_probe=probe, profile=self.profile)


def tflm_runtime(opts: BuildOptions, info: ModelInfo, progress: Progress | None) -> TflmRuntime:
    """Check ``info`` for TFLM and the board's flash, then build or reuse the library."""
    check_buildable(info)
    check_flash_fits(opts, info.size_bytes, "the model (TFLM keeps the whole .tflite in flash)")
    benchmark = opts.benchmark or info.benchmark or GENERIC
    payload_bytes(info, benchmark)  # a benchmark the model does not fit: before any build
    kernels = opts.kernels or opts.board.default_kernels
    if kernels not in KERNEL_SETS:
        raise ConfigurationError(f"TFLM has no kernel set {kernels!r}",
                                 hint=f"use one of {', '.join(KERNEL_SETS)}")
    checkouts = resolve(load_manifest(), opts.deps_dir, on_progress=progress)
    spec = library_spec(checkouts, board_cpu_flags(opts.board), kernels, opts.optimize)
    library = ensure_library(spec, checkouts, progress)
    return TflmRuntime(info=info, benchmark=benchmark, kernels=kernels, spec=spec,
                       checkouts={n: str(c.path) for n, c in checkouts.items()},
                       library=library, given_arena=opts.arena_size, profile=opts.profile)
