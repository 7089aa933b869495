"""Board descriptions: every shipped board loads; each invalid file fails naming file and key."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from tinygen.board import list_board_names, load_board
from tinygen.errors import BoardError

DATA = Path(__file__).resolve().parents[1] / "data" / "boards"
SHIPPED = ("mps2_an385", "mps2_an386", "mps2_an500", "netduinoplus2", "disco_f746",
           "nucleo_l4r5zi", "nucleo_f767zi", "nucleo_h743zi2", "nucleo_f446re", "nrf52840dk",
           "nucleo_u575zi", "mps2_an505")

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
    "invalid_clock_source.yaml": "clock.source: stm32f4 has no oscillator 'msi'",
    "invalid_clock_too_fast.yaml": "clock_hz: 250 MHz is above the stm32f4 maximum of 180 MHz",
    "invalid_clock_not_whole_mhz.yaml": "clock_hz: must be a whole number of MHz",
    "invalid_clock_on_mps2.yaml": "clock: MPS2 FPGA images run at a fixed clock",
    "invalid_unknown_family.yaml": "family: unknown family 'stm32q9'",
    "invalid_uart_base.yaml": "uart.base: 0x40013800 is not a UART tinygen knows on stm32f4",
    "invalid_uart_clock_mismatch.yaml": "uart.clock_hz: 168000000 given, but the clock tree "
                                        "gives USART1 84000000 Hz (APB2)",
    "invalid_uart_pin.yaml": "uart.tx: 'PZ9' is not a stm32f4 pin",
    "invalid_uart_instance.yaml": "uart.instance: USART2 does not sit at 0x40011000",
    "invalid_lpuart_driver.yaml": "uart.driver: LPUART1 takes the stm32_lpuart driver",
    "invalid_energy_baud.yaml": "uart.energy_baud: 1200 baud needs a divider of 70000",
    "invalid_dwt_emulated.yaml": "timer.driver: QEMU's DWT cycle counter always reads 0",
    "invalid_timestamp_port.yaml": "timestamp_gpio: 'PL3' is not a stm32f4 pin",
    # Issue 16: values the schema let through that crashed later, and YAML that misled.
    "invalid_baud_zero.yaml": "uart.baud: must be >= 1, not 0",
    "invalid_float_origin.yaml": "memory[1].origin: must be a whole number, not 536870912.0",
    "invalid_float_size.yaml": "memory[1].size: must be a whole number, not 4194304.0",
    "invalid_float_clock.yaml": "clock_hz: must be a whole number, not 25000000.0",
    "invalid_float_baud.yaml": "uart.baud: must be a whole number, not 115200.0",
    "invalid_uart_base_huge.yaml": "uart.base: must be <= 0xFFFFFFFF, not 0x400000000000000000",
    "invalid_gpio_base_negative.yaml": "timestamp_gpio.base: must be >= 0x0, not -16",
    "invalid_gpio_base_unaligned.yaml": "timestamp_gpio.base: must be a multiple of 4",
    "invalid_stack_huge.yaml": "stack_size: must be <= 4,294,967,296, not 1,180,591,620,",
    "invalid_stack_over_ram.yaml": "stack_size + heap_size: 294,912 bytes do not fit the data "
                                   "region 'ram' (262,144 bytes)",
    "invalid_duplicate_key.yaml": "(line 15): key 'clock_hz' appears twice in one mapping",
    "invalid_alias.yaml": "(line 10): anchor &u is not allowed in a board file",
    "invalid_alias_bomb.yaml": "(line 16): anchor &a0 is not allowed in a board file",
    "invalid_not_utf8.yaml": "not UTF-8 text (byte 0xE9 on line 4)",
    "invalid_name_newline.yaml": "name: must be one line of printable text, not 'x\\n'",
    "invalid_mcu_comment.yaml": "mcu: 't */ int x; /*' does not match",
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


def test_list_board_names_has_the_shipped_boards() -> None:
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


# board -> (core, FPU, clock, flash, RAM, UART instance, TX, RX): the datasheet's and the board
# manual's numbers the board file cites.
NEW_BOARDS = {
    "nucleo_f767zi": ("cortex-m7", "fpv5-d16", 216, 2048, 512, "USART3", "PD8", "PD9"),
    "nucleo_h743zi2": ("cortex-m7", "fpv5-d16", 480, 2048, 640, "USART3", "PD8", "PD9"),
    "nucleo_f446re": ("cortex-m4", "fpv4-sp-d16", 180, 512, 128, "USART2", "PA2", "PA3"),
    "nrf52840dk": ("cortex-m4", "fpv4-sp-d16", 64, 1024, 256, "UART0", "P0.06", "P0.08"),
    "nucleo_u575zi": ("cortex-m33", "fpv5-sp-d16", 160, 2048, 784, "USART1", "PA9", "PA10"),
}


@pytest.mark.parametrize("name", sorted(NEW_BOARDS))
def test_new_boards_datasheet_values(name: str) -> None:
    b = load_board(name)
    assert (b.core, b.fpu, b.clock_hz // 1_000_000, b.flash_size // 1024, b.ram_size // 1024,
            b.uart.instance, b.uart.tx, b.uart.rx) == NEW_BOARDS[name]


@pytest.mark.parametrize("name", SHIPPED)
def test_real_boards_carry_what_bring_up_needs(name: str) -> None:
    b = load_board(name)
    if b.family == "mps2":
        assert b.clock is None and b.timer == "systick"
        return
    assert b.clock is not None and b.clock.sysclk_hz == b.clock_hz
    assert b.uart.tx and b.uart.rx
    assert b.timestamp_gpio is not None, "energy mode needs the timestamp pin"
    assert b.pyocd_target and b.openocd_config, "tinygen flash needs a probe target"
    # QEMU's DWT cycle counter reads 0: emulated boards keep the SysTick timer.
    assert b.timer == ("systick" if b.emulator else "dwt")


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
    assert info.value.hint, "every board error says how to fix it"


def test_unknown_board_lists_known() -> None:
    with pytest.raises(BoardError) as info:
        load_board("nucleo_nonexistent")
    assert info.value.hint is not None and "mps2_an386" in info.value.hint


def test_missing_board_file() -> None:
    with pytest.raises(BoardError, match="does not exist"):
        load_board("no/such/board.yaml")


def _minimal_with(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "board.yaml"
    path.write_text((DATA / "valid_minimal.yaml").read_text().replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "fragment"), [
    ("base: 0x40004000}", "base: 0x40004000, af: 7.0}", "uart.af: must be a whole number, not 7.0"),
    ("clock_hz: 25000000", "clock_hz: 2.5e+7", "clock_hz: must be a whole number, not 25000000.0"),
    ("clock_hz: 25000000", "clock_hz: .nan", "clock_hz: must be a whole number, not nan"),
    ("clock_hz: 25000000", 'clock_hz: "25000000"', "clock_hz: must be a whole number, not '25"),
    ("clock_hz: 25000000", "clock_hz: true", "clock_hz: must be a whole number, not True"),
    ("base: 0x40004000}", "base: 0x40004000, energy_baud: -9600}",
     "uart.energy_baud: must be >= 1, not -9600"),
    ("origin: 0x0,", "origin: 0x100000000,", "memory[0].origin: must be <= 0xFFFFFFFF"),
    ("size: 0x40000}", "size: 0x40002}", "memory[1].size: must be a multiple of 4"),
])
def test_numbers_have_their_type_and_range(tmp_path: Path, old: str, new: str,
                                           fragment: str) -> None:
    path = _minimal_with(tmp_path, old, new)
    with pytest.raises(BoardError) as info:
        load_board(str(path))
    assert f"{path}: {fragment}" in info.value.message
    assert info.value.hint


def test_alias_bomb_fails_at_the_first_anchor_in_bounded_memory() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(BoardError, match="anchor &a0 is not allowed"):
            load_board(str(DATA / "invalid_alias_bomb.yaml"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"{peak:,} bytes to refuse a 1 KB file"


@pytest.mark.parametrize("value", ["x" * 100_000, "[" * 20 + "1" + "]" * 20,
                                   "{" + ", ".join(f"k{i}: {i}" for i in range(5000)) + "}"],
                         ids=["long-text", "nested-lists", "big-mapping"])
def test_error_text_is_bounded(tmp_path: Path, value: str) -> None:
    path = _minimal_with(tmp_path, "clock_hz: 25000000", f"clock_hz: {value}")
    with pytest.raises(BoardError) as info:
        load_board(str(path))
    assert info.value.message.startswith(f"{path}: clock_hz: must be a whole number, not ")
    assert len(info.value.message) < len(str(path)) + 120


def test_deep_nesting_and_huge_files_are_refused(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000)
    with pytest.raises(BoardError, match="nested too deeply"):
        load_board(str(deep))
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * 300_000 + "\n")
    with pytest.raises(BoardError, match="board files are a few KB"):
        load_board(str(huge))


def test_a_folder_is_not_a_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "board.yaml"
    folder.mkdir()
    with pytest.raises(BoardError, match="is a folder, not a file") as info:
        load_board(str(folder))
    assert "does not exist" not in info.value.message and info.value.hint


def test_symbolic_links_that_lead_nowhere(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    with pytest.raises(BoardError, match="is a symbolic link loop"):
        load_board(str(loop))
    dangling = tmp_path / "dangling.yaml"
    dangling.symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(BoardError, match="is a symbolic link to a missing file"):
        load_board(str(dangling))
    good = tmp_path / "good.yaml"
    good.symlink_to(DATA / "valid_minimal.yaml")
    assert load_board(str(good)).name == "x"
