"""The emulated boards' microsecond clock (templates/board/timer/systick.c.j2) in QEMU: read
back to back for 2 s of emulated time, across SysTick reloads, it never goes back. (QEMU reloads
the counter before it raises the interrupt that counts the reload.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.cli_support import needs_qemu_and_gcc
from tests.runner.faulty import build_faulty
from tinygen.board import load_board
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.protocol import DutClient

pytestmark = needs_qemu_and_gcc


@pytest.mark.parametrize("board", ["mps2_an385", "mps2_an386", "mps2_an500", "mps2_an505",
                                   "netduinoplus2"])
def test_the_clock_never_goes_back(board: str, tmp_path: Path) -> None:
    elf = build_faulty(tmp_path / "fw", board, "time_check")
    with QemuTransport(load_board(board), elf) as transport:
        lines = DutClient(transport).start(boot_timeout=300)
    assert not [line for line in lines if line.startswith("e-")], lines
