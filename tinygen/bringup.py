"""The bring-up runtime: a firmware with no model, whose th_model hashes the input in place of
inference, to check a board's harness, UART and timer before any model runs on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.benchmarks import DEFAULT_BENCHMARK, get_benchmark
from tinygen.board import Board
from tinygen.project import GeneratedProject, banner, base_files, project_config, render, sources


@dataclass(frozen=True)
class BringupRuntime:
    """The bring-up firmware for one benchmark's payload and score count."""

    benchmark: str = DEFAULT_BENCHMARK
    # Constants of the runtime, not state. No model: no kernels, nothing to probe (the
    # default stack and heap are linked).
    name: ClassVar[str] = "bringup"
    kernels: ClassVar[None] = None
    library: ClassVar[None] = None
    model_sha256: ClassVar[None] = None
    info: ClassVar[None] = None
    planned_arena: ClassVar[None] = None
    arena_source: ClassVar[None] = None

    def payload(self) -> int:
        return get_benchmark(self.benchmark).payload_bytes

    def probe_key(self) -> bytes:
        return b"bringup"

    def local_config(self) -> dict[str, object]:
        return {}

    def big_parts(self, arena: int | None) -> list[tuple[str, int]]:
        return []

    def render(self, board: Board, arena: int, energy: bool = False,
               probe: bool = False) -> GeneratedProject:
        record = get_benchmark(self.benchmark)
        text_banner = banner(board, None)
        files = base_files(board, text_banner, self.benchmark, record.payload_bytes, energy,
                           vendor="tinygen bring-up")
        files["src/th_model.c"] = render(
            "bringup/th_model.c.j2", banner=text_banner, outputs=record.scores,
            input_bytes=record.payload_bytes)
        files["tinygen_project.json"] = project_config(board, sources(files), [], [])
        return GeneratedProject(files)
