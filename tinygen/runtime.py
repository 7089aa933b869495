"""The interface every runtime (tflm, native, bring-up) gives the build pipeline."""

from __future__ import annotations

from typing import Protocol

from tinygen.board import Board
from tinygen.model import ModelInfo
from tinygen.project import GeneratedProject
from tinygen.tflm.library import LibraryResult


class Runtime(Protocol):
    """A runtime prepared for one model and board: everything decided before the probe."""

    @property
    def name(self) -> str:
        """tflm, native or bringup."""

    @property
    def benchmark(self) -> str:
        """The benchmark port the firmware implements (kws01 ... ad01, generic)."""

    @property
    def info(self) -> ModelInfo | None:
        """The model, parsed once (None: the bring-up has no model)."""

    @property
    def model_sha256(self) -> str | None:
        """The model's sha256 (None: the bring-up has no model)."""

    @property
    def kernels(self) -> str | None:
        """The kernel set compiled in (None: no kernels, the bring-up)."""

    @property
    def library(self) -> LibraryResult | None:
        """The prebuilt library the firmware links (TFLM's), if any."""

    @property
    def planned_arena(self) -> int | None:
        """The arena known without running anything (native: planned; tflm: given); None with
        a model: the probe searches the smallest one the runtime accepts."""

    @property
    def arena_source(self) -> str | None:
        """Where ``planned_arena`` comes from: "planned" or "given" (None: not known)."""

    def payload(self) -> int:
        """Bytes the host sends for one input."""

    def probe_key(self) -> bytes:
        """What a probe's result depends on besides the generated files and the compiler."""

    def local_config(self) -> dict[str, object]:
        """tinygen_local.json: this machine's checkouts and libraries (never rendered)."""

    def big_parts(self, arena: int | None) -> list[tuple[str, int]]:
        """The largest known parts, named for a firmware the linker could not place."""

    def render(self, board: Board, arena: int, energy: bool = False,
               probe: bool = False) -> GeneratedProject:
        """The firmware project for ``board``; ``probe``: the arena-searching probe build."""
