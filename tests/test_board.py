"""Board descriptions: every shipped board loads; each invalid file fails naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.board import list_board_names, load_board
from tinygen.errors import BoardError

DATA = Path(__file__).parent / "data" / "boards"
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


def test_unknown_board_lists_known() -> None:
    with pytest.raises(BoardError) as info:
        load_board("nucleo_nonexistent")
    assert info.value.hint is not None and "mps2_an386" in info.value.hint


def test_missing_board_file() -> None:
    with pytest.raises(BoardError, match="does not exist"):
        load_board("no/such/board.yaml")
