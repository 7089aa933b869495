"""The fault handlers' stack: what their report takes (GCC's -fstack-usage over the startup and
board code of every board) fits the FAULT_STACK_NEED bytes startup.c makes sure of."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.commands.cli_support import needs_gcc
from tinygen.board import list_board_names, load_board
from tinygen.bringup import BringupRuntime

pytestmark = needs_gcc

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
def test_the_fault_report_fits_the_stack_the_handlers_keep(tmp_path: Path, board: str) -> None:
    project = BringupRuntime("kws01").render(load_board(board), 0)
    project.write(tmp_path)
    startup = (tmp_path / "src/board/startup.c").read_text()
    found = re.search(r'#define FAULT_STACK_NEED_ASM "(\d+)"', startup)
    assert found is not None
    config = json.loads((tmp_path / "tinygen_project.json").read_text())
    usage = {**_stack_usage(tmp_path, config, "src/board/startup.c"),
             **_stack_usage(tmp_path, config, "src/board/board.c")}
    assert usage["tinygen_fault_report"] > 0
    deepest = sum(usage.get(name, 0) for name in CHAIN)
    assert deepest <= int(found.group(1)), usage
