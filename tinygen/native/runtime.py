"""The native runtime's build-time work: check the model and options, resolve CMSIS-NN when
its kernels are asked for, lower and plan the graph; then render projects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import ClassVar

from tinygen.benchmarks import GENERIC, payload_bytes
from tinygen.board import Board
from tinygen.build_options import BuildOptions, check_flash_fits
from tinygen.deps import load_manifest, resolve
from tinygen.errors import ConfigurationError, ModelError
from tinygen.model import ModelInfo, check_buildable
from tinygen.native import cmsis_nn
from tinygen.native.render import NATIVE_KERNELS, NativeModel, prepare_native, render_native
from tinygen.project import GeneratedProject

# The quantization verdicts (tinygen.model.quantization) the native runtime's kernels cover.
NATIVE_QUANTIZATIONS = ("int8", "int8-float-io")


@dataclass(frozen=True)
class NativeRuntime:
    """A model as plain C calls into tinygen's kernels, its arena planned at generation time."""

    info: ModelInfo
    model: NativeModel
    benchmark: str
    optimize: str = "speed"
    kernels: str = "native"  # one of NATIVE_KERNELS
    # This machine's checkouts (name -> folder) for tinygen_local.json; never rendered.
    checkouts: dict[str, str] = field(default_factory=dict)
    # (name, commit or tree fingerprint) of those checkouts: what compiled code depends on.
    checkout_versions: tuple[tuple[str, str], ...] = ()
    name: ClassVar[str] = "native"
    library: ClassVar[None] = None  # no prebuilt library: the kernels are compiled in
    profile: bool = False  # the profile build: a timing call after each operator

    @property
    def model_sha256(self) -> str:
        return self.info.sha256

    @property
    def planned_arena(self) -> int:
        return self.model.arena_size

    @property
    def arena_source(self) -> str:
        return "planned"

    def payload(self) -> int:
        return payload_bytes(self.info, self.benchmark)

    def probe_key(self) -> bytes:
        return b"native" + json.dumps(self.checkout_versions).encode()

    def local_config(self) -> dict[str, object]:
        # The CMSIS-NN sources (--kernels cmsis-nn) are compiled from this checkout.
        return {"deps": dict(self.checkouts)} if self.checkouts else {}

    def big_parts(self, arena: int | None) -> list[tuple[str, int]]:
        return []

    def render(self, board: Board, arena: int, energy: bool = False,
               probe: bool = False) -> GeneratedProject:
        return render_native(board, self.info, self.model, self.benchmark,
                             kernels=self.kernels, optimize=self.optimize, energy=energy,
                             profile=self.profile)


def native_runtime(opts: BuildOptions, info: ModelInfo) -> NativeRuntime:
    """Check ``info`` and the options for the native runtime, then lower and plan the model."""
    if opts.arena_size:
        raise ConfigurationError("the native runtime plans its own arena; an arena size "
                                 "applies to the TFLM runtime only",
                                 hint="leave the arena size out")
    kernels = opts.kernels or NATIVE_KERNELS[0]
    if kernels not in NATIVE_KERNELS:
        raise ConfigurationError(f"the native runtime has no kernel set {kernels!r}",
                                 hint=f"use one of {', '.join(NATIVE_KERNELS)}")
    checkouts: dict[str, str] = {}
    versions: tuple[tuple[str, str], ...] = ()
    if kernels == "cmsis-nn":
        if opts.board.core in cmsis_nn.MVE_CORES:
            raise ConfigurationError(
                f"the native runtime's CMSIS-NN calls do not support the {opts.board.core} "
                "(Helium) yet",
                hint="use the native kernels, or TFLM with CMSIS-NN")
        pins = tuple(p for p in load_manifest() if p.name in cmsis_nn.PINS)
        resolved = resolve(pins, opts.deps_dir)
        checkouts = {n: str(c.path) for n, c in resolved.items()}
        versions = tuple(sorted((n, c.version) for n, c in resolved.items()))
    check_buildable(info)
    if info.quantization not in NATIVE_QUANTIZATIONS:
        raise ModelError(f"{info.path}: the native runtime runs int8 models (or int8 with float "
                         f"I/O); this one is {info.quantization}",
                         hint="build it with --runtime tflm")
    check_flash_fits(opts, info.weights_bytes, "the model's weights")
    model = prepare_native(info, kernels, opts.board.has_dsp)
    return NativeRuntime(info, model, opts.benchmark or info.benchmark or GENERIC, opts.optimize,
                         kernels, checkouts, versions, profile=opts.profile)
