"""Board descriptions: every shipped board loads; each invalid file fails naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.board import list_board_names, load_board
from tinygen.errors import BoardError

DATA = Path(__file__).parent / "data" / "boards"
SHIPPED = ("mps2_an385", "mps2_an386", "mps2_an500", "netduinoplus2", "disco_f746",
           "nucleo_l4r5zi")

# invalid file -> fragment the error message must contain (the key and the problem).
INVALID = {
    "invalid_beyond_4g.yaml": "memory[1]: region ends beyond the 32-bit address space",
    "invalid_budget_over_region.yaml": "budgets.flash: must be > 0 and <=",
    "invalid_clock_in_mhz.yaml": "clock_hz: must be between 1 MHz and 1 GHz",
    "invalid_duplicate_region.yaml": "memory[1].name: region 'flash' appears twice",
    "invalid_fpu_on_m3.yaml": "fpu: cortex-m3 cannot have fpv4-sp-d16",
    "invalid_missing_clock.yaml": "'clock_hz' is a required property",
    "invalid_not_mapping.yaml": "must be a mapping",
    "invalid_overlap.yaml": "memory: regions 'flash' and 'ram' overlap",
    "invalid_placement_kind.yaml": "placement.data: region 'flash' is not ram",
    "invalid_placement_region.yaml": "placement.arena: no memory region named 'sram2'",
    "invalid_uart_for_family.yaml": "uart.driver: family mps2 uses 'cmsdk'",
    "invalid_unknown_core.yaml": "core: 'cortex-a53' is not one of",
    "invalid_unknown_key.yaml": "'colour' was unexpected",
    "invalid_yaml_syntax.yaml": "not valid YAML (line 2)",
    "invalid_zero_size.yaml": "memory[0].size: must be > 0",
}


def test_every_invalid_fixture_has_an_expectation() -> None:
    assert {p.name for p in DATA.glob("invalid_*.yaml")} == set(INVALID)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_boards_load(name: str) -> None:
    board = load_board(name)
    assert board.name == name
    assert board.flash_budget <= board.flash_size
    assert board.ram_budget <= board.ram_size
    assert board.sources, "each board file says where its numbers come from"


def test_list_board_names_has_the_six() -> None:
    assert set(SHIPPED) <= set(list_board_names())


def test_datasheet_values() -> None:
    disco = load_board("disco_f746")
    assert (disco.core, disco.clock_hz, disco.flash_size, disco.ram_size) == (
        "cortex-m7", 216_000_000, 1024 * 1024, 320 * 1024)
    ref = load_board("nucleo_l4r5zi")
    assert (ref.core, ref.clock_hz, ref.flash_size, ref.ram_size) == (
        "cortex-m4", 120_000_000, 2 * 1024 * 1024, 640 * 1024)
    assert load_board("netduinoplus2").emulator is not None
    assert disco.emulator is None


def test_valid_minimal_defaults() -> None:
    board = load_board(str(DATA / "valid_minimal.yaml"))
    assert board.flash_budget == 0x100000
    assert board.uart.baud == 115200 and board.uart.energy_baud == 9600
    assert board.default_kernels == "cmsis-nn"


@pytest.mark.parametrize("filename", sorted(INVALID))
def test_invalid_board_files(filename: str) -> None:
    path = DATA / filename
    with pytest.raises(BoardError) as info:
        load_board(str(path))
    assert str(path) in info.value.message
    assert INVALID[filename] in info.value.message
    assert "\n" not in info.value.message


def test_unknown_board_lists_known() -> None:
    with pytest.raises(BoardError) as info:
        load_board("nucleo_nonexistent")
    assert info.value.hint is not None and "mps2_an386" in info.value.hint


def test_missing_board_file() -> None:
    with pytest.raises(BoardError, match="does not exist"):
        load_board("no/such/board.yaml")
