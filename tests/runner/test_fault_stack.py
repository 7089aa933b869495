"""The stack the exception handlers take, from GCC's -fstack-usage over the startup and board
code of every board: the fault report fits the FAULT_STACK_NEED bytes startup.c makes sure of,
and an interrupt fits half the margin a sized stack keeps over the measured peak."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.commands.cli_support import needs_gcc
from tinygen.board import list_board_names, load_board
from tinygen.board.support import FAULT_STACK_NEED
from tinygen.bringup import BringupRuntime
from tinygen.runner.probe import STACK_MARGIN_MIN

pytestmark = needs_gcc

# An exception frame with the FPU context (ARMv7-M ARM B1.5.7): what an interrupt stacks first.
FP_FRAME = 104
# The report's deepest call chain: the report, a field, a string, the UART write and a byte.
CHAIN = ("tinygen_fault_report", "fault_field", "fault_puts", "board_uart_write",
         "board_uart_putc")


def _stack_usage(folder: Path, config: dict[str, object], source: str) -> dict[str, int]:
    """Function -> bytes of stack, for one source of a written project, compiled as the build
    compiles it plus -fstack-usage; every frame must be of a static size."""
    obj = folder / (Path(source).stem + ".o")
    includes = [f"-I{folder / d}" for d in config["include_dirs"]]  # type: ignore[attr-defined]
    defines = [f"-D{d}" for d in config["defines"]]  # type: ignore[attr-defined]
    subprocess.run(["arm-none-eabi-gcc", *config["cpu_flags"], config["opt"],  # type: ignore[misc]
                    "-std=c17", "-ffunction-sections", "-fdata-sections", "-fstack-usage",
                    *includes, *defines, "-c", str(folder / source), "-o", str(obj)],
                   check=True, capture_output=True)
    usage = {}
    for line in obj.with_suffix(".su").read_text().splitlines():
        where, size, kind = line.split("\t")
        assert kind == "static", line
        usage[where.rsplit(":", 1)[-1]] = int(size)
    return usage


@pytest.mark.parametrize("board", list_board_names())
def test_the_exception_handlers_fit_the_stack_kept_for_them(tmp_path: Path, board: str) -> None:
    project = BringupRuntime("kws01").render(load_board(board), 0)
    project.write(tmp_path)
    startup = (tmp_path / "src/board/startup.c").read_text()
    assert f'#define FAULT_STACK_NEED_ASM "{FAULT_STACK_NEED}"' in startup
    config = json.loads((tmp_path / "tinygen_project.json").read_text())
    usage = {**_stack_usage(tmp_path, config, "src/board/startup.c"),
             **_stack_usage(tmp_path, config, "src/board/board.c")}
    assert usage["tinygen_fault_report"] > 0
    deepest = sum(usage.get(name, 0) for name in CHAIN)
    assert deepest <= FAULT_STACK_NEED, usage
    interrupts = {name: size for name, size in usage.items()
                  if name.endswith("_Handler") and "Fault" not in name and name != "Reset_Handler"}
    assert interrupts, usage
    assert all(FP_FRAME + size <= STACK_MARGIN_MIN // 2 for size in interrupts.values()), interrupts
