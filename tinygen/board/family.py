"""MCU families: the few facts per family that board support needs (UARTs, GPIO ports, IRQs)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinygen.errors import BoardError


@dataclass(frozen=True)
class UartInstance:
    """One UART of a family: where it is, which bus clocks it, how to turn it on, its usual pins."""

    name: str
    base: int
    bus: str  # "apb1", "apb2" or "hsi16": the clock its baud divider counts
    enable: tuple[int, int] | None  # (RCC enable register address, bit)
    tx: str
    rx: str
    af: int


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    manual: str
    uart_drivers: tuple[str, ...]
    uarts: tuple[UartInstance, ...]
    pin_style: str  # "stm32" (PA9), "nrf" (P0.06) or "cmsdk" (GPIO port number)
    gpio_base: int  # port A (or 0)
    gpio_stride: int
    gpio_ports: int
    gpio_enable: int | None  # RCC register with one enable bit per port, bit = port index
    irq_count: int
    flash_origin: int
    ram_origin: int
    mcu_pattern: str  # regular expression over the upper-case part number


def _usart(name: str, base: int, bus: str, enr: int, bit: int, tx: str, rx: str,
           af: int) -> UartInstance:
    return UartInstance(name, base, bus, (enr, bit), tx, rx, af)


# STM32F4/F7: RCC at 0x40023800 (RM0090 section 6.3, RM0385 section 5.3): AHB1ENR +0x30 (GPIOx
# bit x), APB1ENR +0x40 (USART2 bit 17, USART3 bit 18), APB2ENR +0x44 (USART1 bit 4, USART6 bit
# 5). Pins from the datasheets' alternate function tables (DS8626 table 9, DS10916 table 12).
_F4_F7_UARTS = (
    _usart("USART1", 0x40011000, "apb2", 0x40023844, 4, "PA9", "PA10", 7),
    _usart("USART2", 0x40004400, "apb1", 0x40023840, 17, "PA2", "PA3", 7),
    _usart("USART3", 0x40004800, "apb1", 0x40023840, 18, "PD8", "PD9", 7),
    _usart("USART6", 0x40011400, "apb2", 0x40023844, 5, "PC6", "PC7", 8),
)

FAMILIES: dict[str, Family] = {
    "mps2": Family(
        name="mps2", title="Arm MPS2+ FPGA images (QEMU mps2-an385/386/500)",
        manual="Arm AN385/AN386/AN500, CMSDK TRM", uart_drivers=("cmsdk",),
        uarts=tuple(UartInstance(f"UART{i}", 0x40004000 + 0x1000 * i, "apb1", None, "", "", 0)
                    for i in range(5)),
        pin_style="cmsdk", gpio_base=0x40010000, gpio_stride=0x1000, gpio_ports=4,
        # 32 external interrupts on AN385/386/500 (QEMU hw/arm/mps2.c); AN505 has 92, but
        # tinygen's firmware enables none, so the table only has to cover the common ones.
        gpio_enable=None, irq_count=32, flash_origin=0x00000000, ram_origin=0x20000000,
        mcu_pattern=r"^(AN3\d\d|AN5\d\d)"),
    "stm32f4": Family(
        name="stm32f4", title="STM32F4 (F405/407/415/417/446)", manual="RM0090, RM0390",
        uart_drivers=("stm32_usart",), uarts=_F4_F7_UARTS, pin_style="stm32",
        gpio_base=0x40020000, gpio_stride=0x400, gpio_ports=11, gpio_enable=0x40023830,
        irq_count=98, flash_origin=0x08000000, ram_origin=0x20000000,
        mcu_pattern=r"^STM32F4"),
    "stm32f7": Family(
        name="stm32f7", title="STM32F7 (F72x-F77x)", manual="RM0385, RM0410",
        uart_drivers=("stm32_usart",), uarts=_F4_F7_UARTS, pin_style="stm32",
        gpio_base=0x40020000, gpio_stride=0x400, gpio_ports=11, gpio_enable=0x40023830,
        irq_count=110, flash_origin=0x08000000, ram_origin=0x20000000,
        mcu_pattern=r"^STM32F7"),
    # STM32L4/L4+: RCC at 0x40021000 (RM0432 section 6.4): AHB2ENR +0x4C (GPIOx bit x), APB1ENR1
    # +0x58 (USART2 bit 17, USART3 bit 18), APB1ENR2 +0x5C (LPUART1 bit 0), APB2ENR +0x60 (USART1
    # bit 14). GPIO ports at 0x48000000 (RM0432 section 2.2.2).
    "stm32l4": Family(
        name="stm32l4", title="STM32L4 and L4+ (L4x5/x6, L4R/L4S/L4P/L4Q)",
        manual="RM0351, RM0432", uart_drivers=("stm32_usart", "stm32_lpuart"),
        uarts=(
            _usart("USART1", 0x40013800, "apb2", 0x40021060, 14, "PA9", "PA10", 7),
            _usart("USART2", 0x40004400, "apb1", 0x40021058, 17, "PA2", "PA3", 7),
            _usart("USART3", 0x40004800, "apb1", 0x40021058, 18, "PD8", "PD9", 7),
            # LPUART1 counts HSI16 (RCC_CCIPR +0x88 LPUART1SEL = 10): from PCLK its 20-bit
            # divider (256 * f / baud) overflows at 9600 baud above 40 MHz (RM0432 52.4.7).
            _usart("LPUART1", 0x40008000, "hsi16", 0x4002105C, 0, "PG7", "PG8", 8),
        ),
        pin_style="stm32", gpio_base=0x48000000, gpio_stride=0x400, gpio_ports=9,
        gpio_enable=0x4002104C, irq_count=95, flash_origin=0x08000000, ram_origin=0x20000000,
        mcu_pattern=r"^STM32L4"),
    # STM32H742/743/750/753: RCC at 0x58024400 (RM0433 section 8.7): AHB4ENR +0xE0 (GPIOx bit x),
    # APB1LENR +0xE8 (USART2 bit 17, USART3 bit 18), APB2ENR +0xF0 (USART1 bit 4, USART6 bit 5).
    # GPIO ports at 0x58020000 (RM0433 section 2.3.2).
    "stm32h7": Family(
        name="stm32h7", title="STM32H7 single core with LDO (H742/743/750/753)",
        manual="RM0433", uart_drivers=("stm32_usart",),
        uarts=(
            _usart("USART1", 0x40011000, "apb2", 0x580244F0, 4, "PA9", "PA10", 7),
            _usart("USART2", 0x40004400, "apb1", 0x580244E8, 17, "PA2", "PA3", 7),
            _usart("USART3", 0x40004800, "apb1", 0x580244E8, 18, "PD8", "PD9", 7),
            _usart("USART6", 0x40011400, "apb2", 0x580244F0, 5, "PC6", "PC7", 7),
        ),
        pin_style="stm32", gpio_base=0x58020000, gpio_stride=0x400, gpio_ports=11,
        gpio_enable=0x580244E0, irq_count=150, flash_origin=0x08000000, ram_origin=0x20000000,
        mcu_pattern=r"^STM32H7(4|5)"),
    # STM32U5: RCC at 0x46020C00 (RM0456 section 11.8): AHB2ENR1 +0x8C (GPIOx bit x), APB1ENR1
    # +0x9C (USART2 bit 17, USART3 bit 18), APB2ENR +0xA4 (USART1 bit 14). GPIO at 0x42020000.
    "stm32u5": Family(
        name="stm32u5", title="STM32U5 (U535/545/575/585), TrustZone off",
        manual="RM0456", uart_drivers=("stm32_usart",),
        uarts=(
            _usart("USART1", 0x40013800, "apb2", 0x46020CA4, 14, "PA9", "PA10", 7),
            _usart("USART2", 0x40004400, "apb1", 0x46020C9C, 17, "PA2", "PA3", 7),
            _usart("USART3", 0x40004800, "apb1", 0x46020C9C, 18, "PD8", "PD9", 7),
        ),
        pin_style="stm32", gpio_base=0x42020000, gpio_stride=0x400, gpio_ports=9,
        gpio_enable=0x46020C8C, irq_count=141, flash_origin=0x08000000, ram_origin=0x20000000,
        mcu_pattern=r"^STM32U5"),
    # nRF52: UART0 at 0x40002000 (nRF52840 PS v1.7 section 6.34), pins by PSEL registers (no
    # alternate functions), GPIO P0 at 0x50000000 and P1 at 0x50000300 (section 6.9).
    "nrf52": Family(
        name="nrf52", title="Nordic nRF52 (nRF52832, nRF52833, nRF52840)",
        manual="nRF52840 PS v1.7", uart_drivers=("nrf52_uart",),
        uarts=(UartInstance("UART0", 0x40002000, "apb1", None, "P0.06", "P0.08", 0),),
        pin_style="nrf", gpio_base=0x50000000, gpio_stride=0x300, gpio_ports=2,
        gpio_enable=None, irq_count=48, flash_origin=0x00000000, ram_origin=0x20000000,
        mcu_pattern=r"^NRF52"),
}
FAMILY_NAMES = tuple(FAMILIES)

_STM32_PIN = re.compile(r"^P([A-K])(\d{1,2})$")
_NRF_PIN = re.compile(r"^P([01])\.(\d{2})$")


@dataclass(frozen=True)
class Pin:
    port: int  # 0 = A (STM32) or P0 (nRF)
    pin: int

    def label(self, style: str) -> str:
        if style == "nrf":
            return f"P{self.port}.{self.pin:02d}"
        return f"P{chr(ord('A') + self.port)}{self.pin}"


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise BoardError(f"family: unknown family {name!r}",
                         hint=f"known families: {', '.join(FAMILY_NAMES)} "
                              "(docs/porting.md adds one)") from None


def family_for_mcu(mcu: str) -> Family | None:
    part = mcu.strip().upper()
    return next((f for f in FAMILIES.values() if re.match(f.mcu_pattern, part)), None)


def parse_pin(family: Family, text: str) -> Pin:
    """``PA9`` on STM32, ``P0.06`` on nRF52; a pin the family's GPIO ports have."""
    if family.pin_style == "stm32":
        m = _STM32_PIN.match(text.strip().upper())
        pin = Pin(ord(m.group(1)) - ord("A"), int(m.group(2))) if m else None
        limit, example = 16, "PA9"
    elif family.pin_style == "nrf":
        m = _NRF_PIN.match(text.strip().upper())
        pin = Pin(int(m.group(1)), int(m.group(2))) if m else None
        limit, example = 32, "P0.06"
    else:
        raise BoardError(f"{family.name} has no pin multiplexing to configure",
                         hint="leave out the pin settings for this family")
    if pin is None or pin.pin >= limit or pin.port >= family.gpio_ports:
        raise BoardError(f"{text!r} is not a {family.name} pin (for example {example})",
                         hint=f"name a pin like {example}")
    return pin


def uart_instance(family: Family, base: int) -> UartInstance | None:
    return next((u for u in family.uarts if u.base == base), None)


def uart_by_name(family: Family, name: str) -> UartInstance | None:
    return next((u for u in family.uarts if u.name == name.upper()), None)
