"""What a build is asked for: ``BuildOptions``, the runtimes, and the checks every runtime
makes before anything is compiled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinygen.board import Board
from tinygen.errors import OverBudgetError

# tflm: the TFLM interpreter and its kernels; native: plain C calls into tinygen's own kernels,
# with the arena planned at generation time (tinygen/native).
RUNTIMES = ("tflm", "native")


@dataclass(frozen=True)
class BuildOptions:
    board: Board
    out_dir: Path
    model_path: Path | None = None  # None: the bring-up firmware
    benchmark: str | None = None  # None: from the model's signature, else "generic"
    kernels: str | None = None  # None: the runtime's default for the board
    optimize: str = "speed"  # tflm.library.OPTIMIZE key
    energy: bool = False
    arena_size: int | None = None  # None: measured
    deps_dir: Path | None = None
    budget_flash: int | None = None
    budget_ram: int | None = None
    runtime: str = "tflm"  # one of RUNTIMES
    profile: bool = False  # the profile build (tinygen profile): every operator timed


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
