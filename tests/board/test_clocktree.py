"""Clock plans: the shipped boards get their datasheet configurations; every plan obeys the
family's limits; impossible requests fail naming the key and the limit."""

from __future__ import annotations

import pytest

from tinygen.board import load_board
from tinygen.board.clocktree import (
    FAMILY_CLOCKS,
    MHZ,
    ClockPlan,
    check_part_clock,
    plan_clock,
    prescaler_code,
)
from tinygen.errors import BoardError

# board -> (PLL M, N, SYSCLK divider, AHB divider, APB dividers, wait states, voltage, UART Hz).
# The PLL factors are the ones the boards' vendor examples use at the rated clock.
EXPECTED = {
    "disco_f746": ((25, 432, 2), 1, (4, 2), 7, "scale1-overdrive", 108 * MHZ),
    "netduinoplus2": ((8, 168, 2), 1, (4, 2), 5, "scale1", 84 * MHZ),
    "nucleo_f446re": ((8, 180, 2), 1, (4, 2), 5, "scale1-overdrive", 45 * MHZ),
    "nucleo_f767zi": ((4, 216, 2), 1, (4, 2), 7, "scale1-overdrive", 54 * MHZ),
    "nucleo_l4r5zi": ((2, 30, 2), 1, (1, 1), 5, "range1-boost", 16 * MHZ),
    "nucleo_h743zi2": ((1, 120, 2), 2, (2, 2), 4, "vos0", 120 * MHZ),
    "nucleo_u575zi": ((1, 20, 2), 1, (1, 1), 4, "range1-boost", 160 * MHZ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_boards_get_their_datasheet_clock_trees(name: str) -> None:
    board = load_board(name)
    plan = board.clock
    assert plan is not None and plan.pll is not None
    pll, ahb, apb, latency, voltage, uart_hz = EXPECTED[name]
    assert (plan.pll.m, plan.pll.n, plan.pll.out_div) == pll
    assert (plan.ahb_div, plan.apb_div, plan.flash_latency, plan.voltage) == (
        ahb, apb, latency, voltage)
    assert plan.pll.vco_hz // plan.pll.out_div == board.clock_hz
    assert board.uart.clock_hz == uart_hz


def test_mps2_has_no_clock_plan_and_nrf52_no_pll() -> None:
    assert load_board("mps2_an386").clock is None
    nrf = load_board("nrf52840dk").clock
    assert nrf is not None and nrf.pll is None and nrf.sysclk_hz == 64 * MHZ
    assert load_board("nrf52840dk").uart.clock_hz == 16 * MHZ  # the UART's own baud clock


def _check_limits(plan: ClockPlan) -> None:
    fam = FAMILY_CLOCKS[plan.family]
    level = next(lv for lv in fam.levels if lv.name == plan.voltage)
    assert plan.sysclk_hz <= level.max_sysclk
    assert plan.hclk_hz <= level.max_hclk
    assert plan.bus_hz("apb1") <= level.max_apb[0] and plan.bus_hz("apb2") <= level.max_apb[1]
    if level.wait_state_limits:
        assert plan.hclk_hz <= level.wait_state_limits[plan.flash_latency]
        assert plan.flash_latency == 0 or plan.hclk_hz > level.wait_state_limits[
            plan.flash_latency - 1] or level.wait_state_limits[plan.flash_latency - 1] == \
            level.wait_state_limits[plan.flash_latency]
    if plan.pll is not None:
        limits = fam.pll
        assert limits is not None
        assert limits.m[0] <= plan.pll.m <= limits.m[1]
        assert limits.n[0] <= plan.pll.n <= limits.n[1]
        assert plan.pll.out_div in limits.outputs
        assert limits.vco_in[0] <= plan.pll.ref_hz <= limits.vco_in[1]
        assert limits.vco_out[0] <= plan.pll.vco_hz <= limits.vco_out[1]
        assert plan.pll.source_hz * plan.pll.n == plan.sysclk_hz * plan.pll.out_div * plan.pll.m


@pytest.mark.parametrize("family", ["stm32f4", "stm32f7", "stm32l4", "stm32h7", "stm32u5"])
def test_every_plan_keeps_the_family_limits(family: str) -> None:
    fam = FAMILY_CLOCKS[family]
    made = 0
    for mhz in range(8, fam.levels[-1].max_sysclk // MHZ + 1, 2):
        for source, hse in (("hsi", None), ("hse", 8 * MHZ), ("hse", 25 * MHZ)):
            if hse is not None and fam.external_range and hse > fam.external_range[1]:
                continue
            try:
                plan = plan_clock(family, mhz * MHZ, source, hse)
            except BoardError as exc:
                assert exc.message.startswith("clock_hz: ")
                continue
            _check_limits(plan)
            made += 1
    assert made > 40  # most whole-MHz clocks are reachable


@pytest.mark.parametrize(("args", "fragment"), [
    (("stm32f7", 250 * MHZ), "clock_hz: 250 MHz is above the stm32f7 maximum of 216 MHz"),
    (("stm32f4", 168 * MHZ, "msi"), "clock.source: stm32f4 has no oscillator 'msi'"),
    (("stm32f4", 168 * MHZ, "hse"), "clock.hse_hz: source hse needs the crystal's frequency"),
    (("stm32f4", 168 * MHZ, "hse", 40 * MHZ), "clock.hse_hz: 40 MHz is outside the stm32f4"),
    (("stm32f4", 168 * MHZ, "hsi", 8 * MHZ), "clock.hse_hz: given, but the source is hsi"),
    (("nrf52", 32 * MHZ), "clock_hz: nrf52 runs at 64 MHz only"),
    (("stm32l4", 87 * MHZ), "clock_hz: 87 MHz cannot be made exactly from hsi 16 MHz"),
    (("stm32x9", 79 * MHZ), "family: stm32x9 has no clock tree"),
])
def test_impossible_clocks_name_key_and_limit(args: tuple[object, ...], fragment: str) -> None:
    with pytest.raises(BoardError) as info:
        plan_clock(*args)  # type: ignore[arg-type]
    assert fragment in info.value.message


def test_inexact_clock_suggests_the_nearest() -> None:
    with pytest.raises(BoardError) as info:
        plan_clock("stm32l4", 87 * MHZ)
    assert info.value.hint is not None and "nearest below is 86 MHz" in info.value.hint
    with pytest.raises(BoardError) as info:
        plan_clock("stm32f4", 10 * MHZ)
    assert info.value.hint == "the PLL makes 12.5 MHz..216 MHz"


def test_clock_without_pll_when_the_source_is_the_target() -> None:
    plan = plan_clock("stm32f4", 16 * MHZ, "hsi")
    assert plan.pll is None and plan.flash_latency == 0 and plan.apb_div == (1, 1)


def test_bypass_only_for_an_external_source() -> None:
    with pytest.raises(BoardError, match=r"clock\.hse_bypass"):
        plan_clock("stm32f7", 216 * MHZ, "hsi", bypass=True)


def test_prescaler_codes_follow_the_rcc_encoding() -> None:
    # RCC_CFGR HPRE: 0xxx = /1, 1000 = /2, 1001 = /4; PPRE: 0xx = /1, 100 = /2, 101 = /4.
    assert [prescaler_code(d, ahb=True) for d in (1, 2, 4, 8, 16)] == [0, 8, 9, 10, 11]
    assert [prescaler_code(d) for d in (1, 2, 4, 8, 16)] == [0, 4, 5, 6, 7]


@pytest.mark.parametrize(("mcu", "mhz", "limit"), [
    ("STM32F405RG", 180, 168), ("STM32F401RE", 100, 84), ("STM32F411RE", 120, 100),
    ("STM32L476RG", 120, 80)])
def test_a_part_rated_below_its_family_is_refused(mcu: str, mhz: int, limit: int) -> None:
    with pytest.raises(BoardError) as info:
        check_part_clock(mcu, mhz * MHZ)
    assert info.value.message == (f"clock_hz: {mhz} MHz is above the {mcu} maximum of "
                                  f"{limit} MHz")
    check_part_clock(mcu, limit * MHZ)


@pytest.mark.parametrize("mcu", ["STM32F446RE", "STM32L4R5ZI", "STM32F746NG", "STM32H743ZI"])
def test_parts_rated_at_their_family_maximum_pass(mcu: str) -> None:
    check_part_clock(mcu, 480 * MHZ)  # the family check (plan_clock) is the one that applies
