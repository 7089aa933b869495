"""Values the board-support templates need, computed from a Board: clock, UART, pins, GPIO."""

from __future__ import annotations

from typing import Any

from tinygen.board.clocktree import ClockPlan
from tinygen.board.description import Board
from tinygen.board.family import Family, Pin, get_family, parse_pin, uart_instance

# Which register layout each UART driver has on each family: the STM32F4's USART is the older
# SR/DR one (RM0090 section 30.6), every later STM32 has ISR/RDR/TDR (RM0385 section 31.8).
_UART_TEMPLATES = {
    ("cmsdk", "mps2"): "cmsdk",
    ("stm32_usart", "stm32f4"): "stm32_usart_sr",
    ("nrf52_uart", "nrf52"): "nrf52_uart",
}

# The stack a fault handler makes sure of before it reports (startup.c.j2): the report takes 72
# bytes on every board (tests/runner/test_fault_stack.py). It runs below the faulting frame or
# from the top of the main stack, so the stack holds the report twice and a frame with the FPU
# context (104 bytes) between them: the smallest stack a firmware links (linker.ld.j2).
FAULT_STACK_NEED = 192
STACK_MIN = 2 * FAULT_STACK_NEED + 104

# How the fault handlers catch a stack overflow and what they can report: v6m (no fault status
# registers, a guard pattern below the stack), v7m (the MPU makes the guard no-access), v8m (the
# MSPLIM stack limit register).
_FAULT_ARCH = {"cortex-m0plus": "v6m", "cortex-m33": "v8m", "cortex-m55": "v8m"}


def _hex(value: int) -> str:
    return f"0x{value:08X}"


def _pin(pin: Pin) -> dict[str, int]:
    return {"port": pin.port, "pin": pin.pin}


def _h7_write_delay(latency: int) -> int:
    """RM0433 table 17: the flash programming delay (WRHIGHFREQ) that goes with the latency."""
    return 0 if latency == 0 else 1 if latency <= 2 else 2


def _pll_range(ref_hz: int, family: str) -> int:
    """PLL input range field (RM0433 RCC_PLLCFGR PLL1RGE, RM0456 RCC_PLL1CFGR PLL1RGE)."""
    mhz = ref_hz / 1e6
    if family == "stm32u5":
        return 0 if mhz <= 8 else 3
    return 0 if mhz < 2 else 1 if mhz < 4 else 2 if mhz < 8 else 3


def _boost_prescaler(source_hz: int) -> int:
    """RM0456 RCC_PLL1CFGR PLL1MBOOST: the EPOD booster wants 4..16 MHz (0 = /1, n = /2n)."""
    for code, div in enumerate((1, 2, 4, 6, 8, 10, 12, 14, 16)):
        if source_hz // div <= 16_000_000:
            return code
    return 8


def _clock(plan: ClockPlan, fam: Family) -> dict[str, Any]:
    pll = plan.pll
    ctx: dict[str, Any] = {
        "source": plan.source, "bypass": plan.hse_bypass, "sysclk_hz": plan.sysclk_hz,
        "ahb_code": plan.ahb_code, "apb1_code": plan.apb_codes[0], "apb2_code": plan.apb_codes[1],
        "flash_latency": plan.flash_latency, "voltage": plan.voltage,
        "reset_hz": plan.reset_hz, "pll": None,
        "write_delay": _h7_write_delay(plan.flash_latency),
        # L4+ and U5: a switch to a SYSCLK above 80 MHz goes through AHB / 2 for 1 us
        # (RM0432 section 6.2.7, RM0456 section 11.4.10).
        "ahb_transition": fam.name in ("stm32l4", "stm32u5") and plan.sysclk_hz > 80_000_000,
        # Polls of a volatile loop (>= 2 cycles each) that last 1 us at SYSCLK / 2.
        "transition_polls": plan.sysclk_hz // 2_000_000 + 1,
    }
    if pll is not None:
        ctx["pll"] = {
            "m": pll.m, "n": pll.n, "q": pll.q, "out_div": pll.out_div,
            "p_code": pll.out_div // 2 - 1,  # F4/F7 PLLP and L4 PLLR: 00 = /2, 01 = /4, ...
            "range": _pll_range(pll.ref_hz, fam.name),
            "boost_code": _boost_prescaler(pll.source_hz),
            "vco_hz": pll.vco_hz, "ref_hz": pll.ref_hz,
        }
    return ctx


def board_support_context(board: Board) -> dict[str, Any]:
    """Template values for board.c and startup.c; the templates only plug them in."""
    fam = get_family(board.family)
    uart_impl = _UART_TEMPLATES.get((board.uart.driver, fam.name), "stm32_usart_isr")
    ctx: dict[str, Any] = {
        "family": fam,
        "family_template": f"board/family/{fam.name}.c.j2",
        "uart_template": f"board/uart/{uart_impl}.c.j2",
        "timer_template": f"board/timer/{board.timer}.c.j2",
        "irq_count": fam.irq_count,
        "fault_arch": _FAULT_ARCH.get(board.core, "v7m"),
        "fault_stack_need": FAULT_STACK_NEED,
        "stack_min": STACK_MIN,
        "clock": _clock(board.clock, fam) if board.clock else None,
        "gpio": None,
        "uart_hw": None,
        "gpio_layout": {"base": _hex(fam.gpio_base), "stride": f"0x{fam.gpio_stride:X}",
                        "enable": _hex(fam.gpio_enable) if fam.gpio_enable else None},
    }
    ports_used: list[int] = []
    if fam.pin_style != "cmsdk":
        inst = uart_instance(fam, board.uart.base)
        assert inst is not None  # board.py checked it
        tx, rx = parse_pin(fam, board.uart.tx), parse_pin(fam, board.uart.rx)
        ports_used += [tx.port, rx.port]
        ctx["uart_hw"] = {
            "name": inst.name, "tx": _pin(tx), "rx": _pin(rx), "af": board.uart.af,
            "tx_label": board.uart.tx, "rx_label": board.uart.rx,
            "enable_reg": _hex(inst.enable[0]) if inst.enable else None,
            "enable_bit": inst.enable[1] if inst.enable else 0,
            "hsi16_kernel": inst.bus == "hsi16",
            # After a clock fallback every bus runs at the reset clock (prescalers at / 1).
            "fallback_hz": board.uart.clock_hz if inst.bus == "hsi16" or board.clock is None
            else board.clock.reset_hz,
            # nRF52 PSEL: pin number, port in bit 5, CONNECT (bit 31) = 0 (PS section 6.34.10).
            "psel_tx": _hex(tx.pin | tx.port << 5), "psel_rx": _hex(rx.pin | rx.port << 5),
        }
    if board.timestamp_gpio is not None:
        port_text, pin_number = board.timestamp_gpio
        if fam.pin_style == "cmsdk":
            base = board.timestamp_gpio_base or fam.gpio_base + fam.gpio_stride * int(port_text)
            ctx["gpio"] = {"label": f"GPIO{port_text}.{pin_number}", "port": int(port_text),
                           "pin": pin_number, "base": _hex(base)}
        else:
            label = (f"P{port_text.upper()}{pin_number}" if fam.pin_style == "stm32"
                     else f"P{port_text}.{pin_number:02d}")
            pin = parse_pin(fam, label)
            ports_used.append(pin.port)
            ctx["gpio"] = {"label": label, "port": pin.port, "pin": pin.pin,
                           "base": _hex(fam.gpio_base + fam.gpio_stride * pin.port)}
    # STM32L4/L4+: PG2..PG15 are supplied by VDDIO2, isolated until PWR_CR2.IOSV is set
    # (RM0432 section 5.1.3); only set it when a pin there is used.
    ctx["needs_vddio2"] = fam.name == "stm32l4" and 6 in ports_used
    return ctx
