"""Clock trees: PLL factors, bus dividers, flash wait states and core voltage for a target clock."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tinygen.errors import BoardError

MHZ = 1_000_000


@dataclass(frozen=True)
class PllLimits:
    """What a family's main PLL accepts: VCO = input / M * N, SYSCLK = VCO / (P or R)."""

    m: tuple[int, int]  # input divider, inclusive range
    n: tuple[int, int]  # VCO multiplier, inclusive range
    outputs: tuple[int, ...]  # divisors of the output that feeds SYSCLK, in order of preference
    vco_in: tuple[int, int]  # Hz, inclusive
    vco_out: tuple[int, int]  # Hz, inclusive


@dataclass(frozen=True)
class VoltageLevel:
    """A core voltage setting: the clocks it allows and the flash wait states it needs."""

    name: str
    max_sysclk: int
    max_hclk: int
    max_apb: tuple[int, int]  # APB1, APB2
    wait_state_limits: tuple[int, ...]  # highest HCLK for 0, 1, 2, ... wait states


@dataclass(frozen=True)
class FamilyClocks:
    oscillators: dict[str, int | None]  # name -> Hz; None: the board says (an external crystal)
    external_range: tuple[int, int] | None  # what the external oscillator input accepts
    reset: tuple[str, int]  # what the core runs on out of reset
    default_source: str
    pll: PllLimits | None
    levels: tuple[VoltageLevel, ...]  # in rising order; the first that allows the clock wins


def _steps(step_mhz: int, top_mhz: int) -> tuple[int, ...]:
    """Wait-state limits that rise by a fixed step: 30 MHz steps up to 216 MHz, ..."""
    return tuple(min(step_mhz * (i + 1), top_mhz) * MHZ
                 for i in range(math.ceil(top_mhz / step_mhz)))


# STM32F4: RM0090 section 6.3.2 (RCC_PLLCFGR: M 2..63, N 50..432, P 2/4/6/8, VCO input 1-2 MHz,
# VCO 100-432 MHz), section 3.5.1 table 10 (wait states at 2.7-3.6 V: one per 30 MHz); over-drive
# above 168 MHz on the parts that have it (RM0390 section 5.1.4, STM32F446).
_F4_F7_PLL = PllLimits(m=(2, 63), n=(50, 432), outputs=(2, 4, 6, 8),
                       vco_in=(1 * MHZ, 2 * MHZ), vco_out=(100 * MHZ, 432 * MHZ))
FAMILY_CLOCKS: dict[str, FamilyClocks] = {
    "stm32f4": FamilyClocks(
        oscillators={"hsi": 16 * MHZ, "hse": None}, external_range=(4 * MHZ, 26 * MHZ),
        reset=("hsi", 16 * MHZ), default_source="hsi", pll=_F4_F7_PLL,
        levels=(
            VoltageLevel("scale1", 168 * MHZ, 168 * MHZ, (42 * MHZ, 84 * MHZ), _steps(30, 168)),
            VoltageLevel("scale1-overdrive", 180 * MHZ, 180 * MHZ, (45 * MHZ, 90 * MHZ),
                         _steps(30, 180)),
        )),
    # STM32F7: RM0385 section 5.3.2 (same PLL limits as the F4), section 3.3.2 table 5 (one wait
    # state per 30 MHz at 2.7-3.6 V), section 4.1.4 (over-drive above 180 MHz), DS10916 table 16
    # (APB1 <= 54 MHz, APB2 <= 108 MHz).
    "stm32f7": FamilyClocks(
        oscillators={"hsi": 16 * MHZ, "hse": None}, external_range=(4 * MHZ, 26 * MHZ),
        reset=("hsi", 16 * MHZ), default_source="hsi", pll=_F4_F7_PLL,
        levels=(
            VoltageLevel("scale1", 180 * MHZ, 180 * MHZ, (45 * MHZ, 90 * MHZ), _steps(30, 180)),
            VoltageLevel("scale1-overdrive", 216 * MHZ, 216 * MHZ, (54 * MHZ, 108 * MHZ),
                         _steps(30, 216)),
        )),
    # STM32L4 and L4+: RM0351 / RM0432 section 6.4.4 (RCC_PLLCFGR: M 1..8, N 8..86, R 2/4/6/8;
    # VCO input 4-8 MHz is inside both the L4's 4-16 and the L4+'s 2.66-8 MHz; VCO 64-344 MHz).
    # Wait states: RM0351 table 9 (range 1: one per 16 MHz up to 80 MHz), RM0432 table 12 (range 1
    # boost: one per 20 MHz up to 120 MHz). Reset clock: MSI 4 MHz.
    "stm32l4": FamilyClocks(
        oscillators={"hsi": 16 * MHZ, "msi": 4 * MHZ, "hse": None},
        external_range=(4 * MHZ, 48 * MHZ), reset=("msi", 4 * MHZ), default_source="hsi",
        pll=PllLimits(m=(1, 8), n=(8, 86), outputs=(2, 4, 6, 8),
                      vco_in=(4 * MHZ, 8 * MHZ), vco_out=(64 * MHZ, 344 * MHZ)),
        levels=(
            VoltageLevel("range1", 80 * MHZ, 80 * MHZ, (80 * MHZ, 80 * MHZ), _steps(16, 80)),
            VoltageLevel("range1-boost", 120 * MHZ, 120 * MHZ, (120 * MHZ, 120 * MHZ),
                         _steps(20, 120)),
        )),
    # STM32H742/743/750/753: RM0433 section 8.7.x (DIVM1 1..63, DIVN1 4..512, DIVP1 even, wide
    # VCO 192-960 MHz from a 2-16 MHz reference), section 6.6.2 (VOS1 up to 400 MHz, VOS0 up to
    # 480 MHz on revision V), section 4.3.8 table 17 (wait states by AXI clock; the table is
    # taken conservatively: 3 wait states are skipped). Reset clock: HSI 64 MHz.
    "stm32h7": FamilyClocks(
        oscillators={"hsi": 64 * MHZ, "hse": None}, external_range=(4 * MHZ, 48 * MHZ),
        reset=("hsi", 64 * MHZ), default_source="hsi",
        pll=PllLimits(m=(1, 63), n=(4, 512), outputs=tuple(range(2, 129, 2)),
                      vco_in=(2 * MHZ, 16 * MHZ), vco_out=(192 * MHZ, 960 * MHZ)),
        levels=(
            VoltageLevel("vos1", 400 * MHZ, 200 * MHZ, (100 * MHZ, 100 * MHZ),
                         (70 * MHZ, 140 * MHZ, 185 * MHZ, 185 * MHZ, 240 * MHZ)),
            VoltageLevel("vos0", 480 * MHZ, 240 * MHZ, (120 * MHZ, 120 * MHZ),
                         (70 * MHZ, 140 * MHZ, 185 * MHZ, 185 * MHZ, 240 * MHZ)),
        )),
    # STM32U5: RM0456 section 11.8.x (PLL1M 1..16, PLL1N 4..512, PLL1R 1 or even; reference 4-16
    # MHz, VCO 128-544 MHz), section 10.5.4 (range 1 with the EPOD booster above 55 MHz), section
    # 7.3.3 table 54 (range 1: one wait state per 32 MHz). Reset clock: MSIS 4 MHz.
    "stm32u5": FamilyClocks(
        oscillators={"hsi": 16 * MHZ, "msi": 4 * MHZ, "hse": None},
        external_range=(4 * MHZ, 50 * MHZ), reset=("msi", 4 * MHZ), default_source="hsi",
        pll=PllLimits(m=(1, 16), n=(4, 512), outputs=tuple(range(2, 129, 2)),
                      vco_in=(4 * MHZ, 16 * MHZ), vco_out=(128 * MHZ, 544 * MHZ)),
        levels=(
            VoltageLevel("range1-boost", 160 * MHZ, 160 * MHZ, (160 * MHZ, 160 * MHZ),
                         _steps(32, 160)),
        )),
    # nRF52: the CPU always runs at 64 MHz (nRF52840 PS v1.7 section 5.4: HFCLK); the crystal
    # (HFXO, 32 MHz) only makes it accurate. No PLL, no wait states to set.
    "nrf52": FamilyClocks(
        oscillators={"hfxo": 64 * MHZ, "hfint": 64 * MHZ}, external_range=None,
        reset=("hfint", 64 * MHZ), default_source="hfxo", pll=None,
        levels=(VoltageLevel("fixed", 64 * MHZ, 64 * MHZ, (64 * MHZ, 64 * MHZ), ()),)),
}


@dataclass(frozen=True)
class Pll:
    m: int
    n: int
    out_div: int  # P (F4, F7, H7) or R (L4, U5): the divisor that feeds SYSCLK
    q: int  # F4/F7 only: the 48 MHz output's divisor, kept at or under 48 MHz
    source_hz: int

    @property
    def ref_hz(self) -> int:
        return self.source_hz // self.m

    @property
    def vco_hz(self) -> int:
        return self.source_hz * self.n // self.m


@dataclass(frozen=True)
class ClockPlan:
    """How the firmware brings a board to its rated clock; the values the templates use."""

    family: str
    source: str  # oscillator name (hsi, hse, msi, hfxo, hfint)
    source_hz: int
    hse_bypass: bool
    sysclk_hz: int
    pll: Pll | None
    ahb_div: int
    apb_div: tuple[int, int]  # APB1, APB2
    voltage: str
    flash_latency: int  # wait states
    reset_source: str
    reset_hz: int

    @property
    def hclk_hz(self) -> int:
        return self.sysclk_hz // self.ahb_div

    def bus_hz(self, bus: str) -> int:
        """The clock of bus ``apb1`` or ``apb2``, or of the HSI16 oscillator (``hsi16``)."""
        if bus == "hsi16":
            return 16 * MHZ
        return self.hclk_hz // self.apb_div[0 if bus == "apb1" else 1]

    @property
    def ahb_code(self) -> int:
        return prescaler_code(self.ahb_div, ahb=True)

    @property
    def apb_codes(self) -> tuple[int, int]:
        return (prescaler_code(self.apb_div[0]), prescaler_code(self.apb_div[1]))


def prescaler_code(div: int, ahb: bool = False) -> int:
    """STM32 RCC prescaler field value: AHB 0xxx = /1, 1000 = /2 ...; APB 0xx = /1, 100 = /2 ..."""
    if div == 1:
        return 0
    step = int(math.log2(div))
    return (0x8 if ahb else 0x4) + step - 1


def _mhz(hz: int) -> str:
    return f"{hz / MHZ:g} MHz"


def _divider(clock: int, limit: int, choices: tuple[int, ...]) -> int:
    for div in choices:
        if clock // div <= limit:
            return div
    return choices[-1]


def _search_pll(limits: PllLimits, source_hz: int, target: int) -> Pll | None:
    """Exact factors with the highest reference clock (least jitter), then the smallest divisor."""
    for m in range(limits.m[0], limits.m[1] + 1):
        if source_hz % m or not limits.vco_in[0] <= source_hz // m <= limits.vco_in[1]:
            continue
        ref = source_hz // m
        for div in limits.outputs:
            vco = target * div
            if vco % ref or not limits.vco_out[0] <= vco <= limits.vco_out[1]:
                continue
            n = vco // ref
            if limits.n[0] <= n <= limits.n[1]:
                q = max(2, min(15, math.ceil(vco / (48 * MHZ))))
                return Pll(m=m, n=n, out_div=div, q=q, source_hz=source_hz)
    return None


def _nearest_pll(limits: PllLimits, source_hz: int, target: int) -> tuple[int, Pll] | None:
    best: tuple[int, Pll] | None = None
    for m in range(limits.m[0], limits.m[1] + 1):
        ref = source_hz / m
        if not limits.vco_in[0] <= ref <= limits.vco_in[1]:
            continue
        for div in limits.outputs:
            # The largest N whose output stays at or below the target, inside the VCO range.
            n = min(target * div * m // source_hz, limits.n[1], limits.vco_out[1] * m // source_hz)
            vco = source_hz * n // m
            if n < limits.n[0] or vco < limits.vco_out[0]:
                continue
            out = vco // div
            if best is None or out > best[0]:
                best = (out, Pll(m=m, n=n, out_div=div, q=2, source_hz=source_hz))
    return best


# Parts rated below their family's clock tree maximum (datasheets, first page): a family's
# levels reach the fastest member's clock, so the part's own rating is checked as well.
PART_MAX_HZ: tuple[tuple[str, int], ...] = (
    (r"^STM32F401", 84_000_000),                      # DS9716
    (r"^STM32F41[0-3]|^STM32F423", 100_000_000),      # DS10314 (F411), DS11139 (F412)
    (r"^STM32F4[01][57]", 168_000_000),               # DS8626 (F405/407), DS8597 (F415/417)
    (r"^STM32L4[1-9A]", 80_000_000),                  # DS10198 (L476) and the other L4 lines
)


def check_part_clock(mcu: str, target_hz: int) -> None:
    """Refuse a clock above the part's own rating (the family may allow more)."""
    for pattern, max_hz in PART_MAX_HZ:
        if re.match(pattern, mcu.upper()) and target_hz > max_hz:
            raise BoardError(f"clock_hz: {_mhz(target_hz)} is above the {mcu} maximum of "
                             f"{_mhz(max_hz)}", hint="the datasheet's first page gives the "
                                                     "rated clock")


def plan_clock(family: str, target_hz: int, source: str | None = None,
               external_hz: int | None = None, bypass: bool = False) -> ClockPlan:
    """The clock plan that brings ``family`` to ``target_hz`` from ``source``.

    Raises BoardError naming the ``clock`` key at fault; the caller adds the file name.
    """
    fam = FAMILY_CLOCKS.get(family)
    if fam is None:
        raise BoardError(f"family: {family} has no clock tree in tinygen",
                         hint="docs/porting.md: adding a family")
    source = source or fam.default_source
    if source not in fam.oscillators:
        raise BoardError(f"clock.source: {family} has no oscillator {source!r}",
                         hint=f"use one of {', '.join(sorted(fam.oscillators))}")
    source_hz = fam.oscillators[source]
    if source_hz is None:
        if external_hz is None:
            raise BoardError(f"clock.hse_hz: source {source} needs the crystal's frequency",
                             hint="give it in Hz, e.g. hse_hz: 8000000 (the board's manual)")
        assert fam.external_range is not None
        lo, hi = fam.external_range
        if not lo <= external_hz <= hi:
            raise BoardError(f"clock.hse_hz: {_mhz(external_hz)} is outside the {family} "
                             f"oscillator input range {_mhz(lo)}..{_mhz(hi)}",
                             hint="set hse_hz to the crystal or clock the board actually has (its "
                                  "user manual)")
        source_hz = external_hz
    elif external_hz is not None:
        raise BoardError(f"clock.hse_hz: given, but the source is {source}",
                         hint="set source: hse, or drop hse_hz")
    if bypass and source != "hse":
        raise BoardError("clock.hse_bypass: only an external source can be bypassed",
                         hint="drop hse_bypass, or set source: hse")

    level = next((lv for lv in fam.levels if target_hz <= lv.max_sysclk), None)
    if level is None:
        raise BoardError(f"clock_hz: {_mhz(target_hz)} is above the {family} maximum of "
                         f"{_mhz(fam.levels[-1].max_sysclk)}",
                         hint="lower clock_hz to the family's maximum or below")
    pll: Pll | None = None
    if fam.pll is None:
        if target_hz != source_hz:
            raise BoardError(f"clock_hz: {family} runs at {_mhz(source_hz)} only",
                             hint=f"set clock_hz: {source_hz}")
    elif target_hz != source_hz:
        pll = _search_pll(fam.pll, source_hz, target_hz)
        if pll is None:
            near = _nearest_pll(fam.pll, source_hz, target_hz)
            low = fam.pll.vco_out[0] // max(fam.pll.outputs)
            high = fam.pll.vco_out[1] // min(fam.pll.outputs)
            hint = (f"the nearest below is {_mhz(near[0])} (M={near[1].m}, N={near[1].n}, "
                    f"divider {near[1].out_div})" if near
                    else f"the PLL makes {_mhz(low)}..{_mhz(high)}")
            raise BoardError(
                f"clock_hz: {_mhz(target_hz)} cannot be made exactly from {source} "
                f"{_mhz(source_hz)} (VCO input {_mhz(fam.pll.vco_in[0])}..."
                f"{_mhz(fam.pll.vco_in[1])}, VCO {_mhz(fam.pll.vco_out[0])}..."
                f"{_mhz(fam.pll.vco_out[1])})", hint=hint)

    choices = (1, 2, 4, 8, 16)
    ahb = _divider(target_hz, level.max_hclk, choices)
    hclk = target_hz // ahb
    apb = (_divider(hclk, level.max_apb[0], choices), _divider(hclk, level.max_apb[1], choices))
    latency = next((ws for ws, top in enumerate(level.wait_state_limits) if hclk <= top),
                   len(level.wait_state_limits) - 1) if level.wait_state_limits else 0
    return ClockPlan(
        family=family, source=source, source_hz=source_hz, hse_bypass=bypass,
        sysclk_hz=target_hz, pll=pll, ahb_div=ahb, apb_div=apb, voltage=level.name,
        flash_latency=latency, reset_source=fam.reset[0], reset_hz=fam.reset[1],
    )
