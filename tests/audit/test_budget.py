"""tinygen.audit.budget: budgets from the board or the command line, and what is over."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.support import (
    FLASH,
    SRAM,
    Firmware,
    assert_consistent,
    build_firmware,
    needs_gcc,
    write_board,
)
from tinygen.audit import (
    audit_elf,
    enforce_budgets,
)
from tinygen.board import Board, load_board
from tinygen.errors import ExitCode, InputError, OverBudgetError

# --- budgets ----------------------------------------------------------------------------------


@needs_gcc
def test_model_too_big_for_the_board_is_over_budget(tmp_path: Path) -> None:
    regions = (("flash", "flash", 0x08000000, 0x10000), SRAM)
    fw = build_firmware(tmp_path / "fw", model_size=40000, regions=regions)
    board = load_board(str(write_board(tmp_path / "small.yaml", regions=regions,
                                       budgets={"flash": 32768})))
    report = audit_elf(fw.elf, board)
    assert_consistent(report, fw.elf)
    flash = report.regions[0]
    assert flash.budget == 32768 and flash.over == report.totals.flash - 32768
    with pytest.raises(OverBudgetError) as info:
        enforce_budgets(report)
    assert info.value.exit_code is ExitCode.OVER_BUDGET and int(ExitCode.OVER_BUDGET) == 5
    message = info.value.message
    assert "region 'flash'" in message
    assert f"{flash.over:,} bytes over budget" in message
    assert "model weights" in message and "g_model_data" in message
    enforce_budgets(audit_elf(fw.elf, board, budget_flash=0x10000))  # overridden: fits


@needs_gcc
def test_ram_budget_from_command_line(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4, budget_ram=4096)
    assert report.budget("ram").source == "command line"
    with pytest.raises(OverBudgetError, match=r"ram region 'sram' is .* bytes over budget"):
        enforce_budgets(report)
    with pytest.raises(InputError, match="must be > 0"):
        audit_elf(m4.elf, board_m4, budget_flash=0)


@needs_gcc
def test_several_regions_of_a_kind(tmp_path: Path) -> None:
    regions = (FLASH, ("ccm", "ram", 0x10000000, 0x10000), SRAM)
    fw = build_firmware(tmp_path / "fw", regions=regions)
    board = load_board(str(write_board(tmp_path / "b.yaml", regions=regions,
                                       budgets={"ram": 8192})))
    report = audit_elf(fw.elf, board)
    assert_consistent(report, fw.elf)
    assert [r.name for r in report.regions] == ["flash", "ccm", "sram"]  # address order
    assert report.regions[1].used == 0
    with pytest.raises(OverBudgetError, match=r"ram \(regions 'ccm', 'sram'\)"):
        enforce_budgets(report)
