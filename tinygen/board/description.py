"""Board descriptions: load a YAML file, validate it in layers, return a frozen ``Board``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tinygen.board.clocktree import ClockPlan, check_part_clock, plan_clock
from tinygen.board.family import Family, get_family, parse_pin, uart_instance
from tinygen.board.file import check_board_path, read_board_yaml, schema_problem
from tinygen.errors import BoardError
from tinygen.resources import boards_dir

# Cores tinygen knows, with the FPUs each can carry and whether it has the DSP extension
# (which decides the default kernel set: CMSIS-NN's SIMD paths need it).
CORES: dict[str, tuple[frozenset[str], bool]] = {
    "cortex-m0plus": (frozenset({"none"}), False),
    "cortex-m3": (frozenset({"none"}), False),
    "cortex-m4": (frozenset({"none", "fpv4-sp-d16"}), True),
    "cortex-m7": (frozenset({"none", "fpv5-sp-d16", "fpv5-d16"}), True),
    "cortex-m33": (frozenset({"none", "fpv5-sp-d16"}), True),
    "cortex-m55": (frozenset({"none", "fpv5-d16"}), True),
}
# The nRF52 UART's baud generator runs from a fixed 16 MHz (nRF52840 PS v1.7 section 6.34.10).
_NRF52_UART_CLOCK_HZ = 16_000_000
_ADDRESS_SPACE = 1 << 32
# Stack and heap of a firmware nothing was measured for (the bring-up firmware); model builds
# size both from a probe run unless the board file names them (tinygen/runner/probe.py).
DEFAULT_STACK_SIZE = 8192
DEFAULT_HEAP_SIZE = 4096
_T = TypeVar("_T")


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    kind: str  # "flash" or "ram"
    origin: int
    size: int

    @property
    def end(self) -> int:
        return self.origin + self.size


@dataclass(frozen=True)
class Uart:
    driver: str
    base: int
    baud: int
    energy_baud: int
    clock_hz: int
    instance: str
    tx: str = ""  # pins, e.g. "PA9" / "P0.06"; empty on boards with fixed UART pins (MPS2)
    rx: str = ""
    af: int = 0  # STM32 alternate function number of both pins


@dataclass(frozen=True)
class Emulator:
    qemu_machine: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    vendor: str
    mcu: str
    family: str
    core: str
    fpu: str
    clock_hz: int
    memory: tuple[MemoryRegion, ...]
    code_region: str
    data_region: str
    arena_region: str
    flash_budget: int
    ram_budget: int
    stack_size: int | None  # None: sized from the stack a probe run measures
    heap_size: int | None  # None: sized from the heap a probe run measures
    uart: Uart
    timer: str
    timestamp_gpio: tuple[str, int] | None
    pyocd_target: str | None
    openocd_config: str | None
    emulator: Emulator | None
    sources: tuple[str, ...]
    path: Path
    clock: ClockPlan | None = None  # None: a fixed clock the firmware does not set (MPS2)
    openocd_interface: str | None = None
    timestamp_gpio_base: int | None = None  # CMSDK GPIO block, when not the family's usual one

    @property
    def has_dsp(self) -> bool:
        return CORES[self.core][1]

    @property
    def flash_regions(self) -> tuple[MemoryRegion, ...]:
        return tuple(r for r in self.memory if r.kind == "flash")

    @property
    def ram_regions(self) -> tuple[MemoryRegion, ...]:
        return tuple(r for r in self.memory if r.kind == "ram")

    @property
    def flash_size(self) -> int:
        return sum(r.size for r in self.flash_regions)

    @property
    def ram_size(self) -> int:
        return sum(r.size for r in self.ram_regions)

    def region(self, name: str) -> MemoryRegion:
        for r in self.memory:
            if r.name == name:
                return r
        raise BoardError(f"{self.path}: no memory region named {name!r}",
                         hint=f"one of {', '.join(r.name for r in self.memory)}")

    @property
    def default_kernels(self) -> str:
        return "cmsis-nn" if self.has_dsp else "reference"


def list_board_names() -> list[str]:
    return sorted(p.stem for p in boards_dir().glob("*.yaml"))


def resolve_board_path(name_or_path: str) -> Path:
    """A board name from boards/, or a path to a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        check_board_path(candidate)
        return candidate
    path = boards_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(list_board_names())
        raise BoardError(
            f"unknown board {name_or_path!r}",
            hint=f"known boards: {known}; or pass a path to a board .yaml file",
        )
    return path


def load_board(name_or_path: str) -> Board:
    """Load and validate a board by name (``boards/<name>.yaml``) or by path."""
    path = resolve_board_path(name_or_path)
    return parse_board(read_board_yaml(path), path)


def parse_board(raw: object, path: Path) -> Board:
    """Validate ``raw`` (parsed YAML) by schema, then by meaning; build the Board."""
    if not isinstance(raw, dict):
        raise BoardError(f"{path}: a board file must be a mapping of keys to values",
                         hint="start from a shipped one: tinygen board new NAME --like BOARD")
    problem = schema_problem(raw)
    if problem is not None:
        key, text, hint = problem
        raise BoardError(f"{path}: {key}: {text}", hint=hint)
    return _check_meaning(raw, path)


def _fail(path: Path, key: str, problem: str, hint: str) -> BoardError:
    return BoardError(f"{path}: {key}: {problem}", hint=hint)


def _check_meaning(raw: dict[str, Any], path: Path) -> Board:
    core, fpu = raw["core"], raw["fpu"]
    allowed_fpus = CORES[core][0]
    if fpu not in allowed_fpus:
        raise _fail(path, "fpu", f"{core} cannot have {fpu}", f"use one of {sorted(allowed_fpus)}")
    if not 1_000_000 <= raw["clock_hz"] <= 1_000_000_000:
        raise _fail(path, "clock_hz", "must be between 1 MHz and 1 GHz (give it in Hz)",
                    "e.g. clock_hz: 180000000 for 180 MHz")
    if raw["clock_hz"] % 1_000_000:
        raise _fail(path, "clock_hz", "must be a whole number of MHz (the microsecond timer "
                    "counts clock cycles per microsecond)", "round it to a whole MHz the part "
                    "can run at")
    family = _within(path, lambda: get_family(raw["family"]))
    clock = _clock_plan(raw, family, path)

    regions = []
    names: set[str] = set()
    for i, r in enumerate(raw["memory"]):
        key = f"memory[{i}]"
        if r["name"] in names:
            raise _fail(path, f"{key}.name", f"region {r['name']!r} appears twice",
                        "give each memory region its own name")
        names.add(r["name"])
        if r["size"] <= 0:
            raise _fail(path, f"{key}.size", "must be > 0", "the region's size in bytes")
        if r["origin"] + r["size"] > _ADDRESS_SPACE:
            raise _fail(path, key, "region ends beyond the 32-bit address space",
                        "check origin and size against the datasheet's memory map")
        regions.append(MemoryRegion(r["name"], r["kind"], r["origin"], r["size"]))
    ordered = sorted(regions, key=lambda m: m.origin)
    for a, b in itertools.pairwise(ordered):
        if b.origin < a.end:
            raise _fail(path, "memory", f"regions {a.name!r} and {b.name!r} overlap",
                        "check origin and size against the datasheet's memory map")
    flash = [r for r in regions if r.kind == "flash"]
    ram = [r for r in regions if r.kind == "ram"]
    if not flash or not ram:
        raise _fail(path, "memory", "needs at least one flash and one ram region",
                    "list the part's flash and RAM with kind: flash and kind: ram")

    placement = raw.get("placement", {})

    def placed(role: str, kind: str, default: MemoryRegion) -> str:
        name = placement.get(role, default.name)
        match = [r for r in regions if r.name == name]
        if not match:
            raise _fail(path, f"placement.{role}", f"no memory region named {name!r}",
                        f"one of {', '.join(r.name for r in regions)}")
        if match[0].kind != kind:
            raise _fail(path, f"placement.{role}", f"region {name!r} is not {kind}",
                        f"name a region with kind: {kind}")
        return str(name)

    code_region = placed("code", "flash", flash[0])
    data_region = placed("data", "ram", max(ram, key=lambda m: m.size))
    arena_region = placed("arena", "ram", max(ram, key=lambda m: m.size))

    budgets = raw.get("budgets", {})
    flash_total = sum(r.size for r in flash)
    ram_total = sum(r.size for r in ram)
    flash_budget = budgets.get("flash", flash_total)
    ram_budget = budgets.get("ram", ram_total)
    if not 0 < flash_budget <= flash_total:
        raise _fail(path, "budgets.flash", f"must be > 0 and <= the flash regions' {flash_total}",
                    "lower it, or remove it to budget all flash")
    if not 0 < ram_budget <= ram_total:
        raise _fail(path, "budgets.ram", f"must be > 0 and <= the RAM regions' {ram_total}",
                    "lower it, or remove it to budget all RAM")

    uart = _uart(raw, family, clock, path)
    stack_size = raw.get("stack_size")
    heap_size = raw.get("heap_size")
    if stack_size is not None and (stack_size < 1024 or stack_size % 8):
        raise _fail(path, "stack_size", "must be >= 1024 and a multiple of 8",
                    "or remove it: tinygen sizes the stack from a probe run")
    if heap_size is not None and (heap_size < 0 or heap_size % 8):
        raise _fail(path, "heap_size", "must be >= 0 and a multiple of 8",
                    "or remove it: tinygen sizes the heap from a probe run")
    data_size = next(r.size for r in regions if r.name == data_region)
    if (stack_size or 0) + (heap_size or 0) > data_size:
        given = " + ".join(k for k in ("stack_size", "heap_size") if raw.get(k) is not None)
        raise _fail(path, given, f"{(stack_size or 0) + (heap_size or 0):,} bytes do not fit "
                    f"the data region {data_region!r} ({data_size:,} bytes)",
                    "both live in the data region with .data and .bss: make them smaller")

    gpio = raw.get("timestamp_gpio")
    if gpio:
        _check_gpio(family, gpio, path)
    emu = raw.get("emulator")
    dbg = raw.get("debug", {})
    timer = raw["timer"]["driver"]
    if timer == "dwt" and core == "cortex-m0plus":
        raise _fail(path, "timer.driver", "ARMv6-M cores have no DWT cycle counter",
                    "use driver: systick")
    if timer == "dwt" and emu:
        raise _fail(path, "timer.driver", "QEMU's DWT cycle counter always reads 0",
                    "use driver: systick on emulated boards")
    return Board(
        name=raw["name"],
        description=raw["description"],
        vendor=raw["vendor"],
        mcu=raw["mcu"],
        family=raw["family"],
        core=core,
        fpu=fpu,
        clock_hz=raw["clock_hz"],
        memory=tuple(regions),
        code_region=code_region,
        data_region=data_region,
        arena_region=arena_region,
        flash_budget=flash_budget,
        ram_budget=ram_budget,
        stack_size=stack_size,
        heap_size=heap_size,
        uart=uart,
        timer=timer,
        timestamp_gpio=(gpio["port"], gpio["pin"]) if gpio else None,
        pyocd_target=dbg.get("pyocd_target"),
        openocd_config=dbg.get("openocd_config"),
        emulator=Emulator(emu["qemu_machine"], tuple(emu.get("options", []))) if emu else None,
        sources=tuple(raw.get("sources", [])),
        path=path,
        clock=clock,
        openocd_interface=dbg.get("openocd_interface"),
        timestamp_gpio_base=gpio.get("base") if gpio else None,
    )


def _within(path: Path, check: Callable[[], _T]) -> _T:
    """Run a check that raises a BoardError naming only the key; add the file to it."""
    try:
        return check()
    except BoardError as exc:
        raise BoardError(f"{path}: {exc.message}", hint=exc.hint or
                         "check the value against the part's datasheet (docs/porting.md)"
                         ) from exc


def _clock_plan(raw: dict[str, Any], family: Family, path: Path) -> ClockPlan | None:
    spec = raw.get("clock")
    if family.name == "mps2":
        if spec is not None:
            raise _fail(path, "clock", "MPS2 FPGA images run at a fixed clock",
                        "remove the clock section")
        return None
    spec = spec or {}
    _within(path, lambda: check_part_clock(raw["mcu"], raw["clock_hz"]))
    return _within(path, lambda: plan_clock(
        family.name, raw["clock_hz"], spec.get("source"), spec.get("hse_hz"),
        spec.get("hse_bypass", False)))


def _uart(raw: dict[str, Any], family: Family, clock: ClockPlan | None, path: Path) -> Uart:
    u = raw["uart"]
    if u["driver"] not in family.uart_drivers:
        drivers = " or ".join(repr(d) for d in family.uart_drivers)
        raise _fail(path, "uart.driver", f"family {family.name} uses {drivers}",
                    f"driver: {family.uart_drivers[0]}")
    baud, energy_baud = u.get("baud", 115200), u.get("energy_baud", 9600)
    if family.pin_style == "cmsdk":
        clock_hz = u.get("clock_hz", raw["clock_hz"])
        _check_bauds(path, u["driver"], clock_hz, baud, energy_baud)
        return Uart(driver=u["driver"], base=u["base"], baud=baud, energy_baud=energy_baud,
                    clock_hz=clock_hz, instance=u.get("instance", ""))
    inst = uart_instance(family, u["base"])
    if inst is None:
        known = ", ".join(f"{i.name} 0x{i.base:08X}" for i in family.uarts)
        raise _fail(path, "uart.base", f"0x{u['base']:08X} is not a UART tinygen knows on "
                    f"{family.name}", f"known: {known}")
    if u.get("instance", inst.name) != inst.name:
        raise _fail(path, "uart.instance", f"{u['instance']} does not sit at 0x{u['base']:08X} "
                    f"({inst.name} does)", "fix base, or remove instance: tinygen knows it")
    if inst.name.startswith("LPUART") != (u["driver"] == "stm32_lpuart"):
        wanted = "stm32_lpuart" if inst.name.startswith("LPUART") else "stm32_usart"
        raise _fail(path, "uart.driver", f"{inst.name} takes the {wanted} driver",
                    f"driver: {wanted}")
    tx, rx = u.get("tx", inst.tx), u.get("rx", inst.rx)
    _check_pin(path, family, tx, "uart.tx")
    _check_pin(path, family, rx, "uart.rx")
    assert clock is not None
    derived = (_NRF52_UART_CLOCK_HZ if family.name == "nrf52" else clock.bus_hz(inst.bus))
    given = u.get("clock_hz", derived)
    if given != derived:
        raise _fail(path, "uart.clock_hz", f"{given} given, but the clock tree gives "
                    f"{inst.name} {derived} Hz ({inst.bus.upper()})",
                    "remove uart.clock_hz: tinygen derives it from clock_hz")
    _check_bauds(path, u["driver"], derived, baud, energy_baud)
    return Uart(driver=u["driver"], base=u["base"], baud=baud, energy_baud=energy_baud,
                clock_hz=derived, instance=inst.name, tx=tx, rx=rx, af=u.get("af", inst.af))


def _check_bauds(path: Path, driver: str, clock_hz: int, baud: int, energy_baud: int) -> None:
    for key, rate in (("baud", baud), ("energy_baud", energy_baud)):
        problem = baud_problem(driver, clock_hz, rate)
        if problem:
            raise _fail(path, f"uart.{key}", problem,
                        "use a standard rate the UART clock divides to, e.g. 115200 or 9600")


def baud_problem(driver: str, clock_hz: int, baud: int) -> str | None:
    """Why ``driver`` cannot make ``baud`` from ``clock_hz`` within 2 %, or None."""
    if driver == "nrf52_uart":
        ok = 1200 <= baud <= 1_000_000
        return None if ok else f"{baud} baud is outside the nRF52 UART's 1200..1000000"
    scale, low, high = {"stm32_lpuart": (256, 0x300, 0xFFFFF), "cmsdk": (1, 16, 0xFFFFF)}.get(
        driver, (1, 16, 0xFFFF))  # STM32 USART, oversampling by 16: RM0385 section 31.5.7
    div = round(scale * clock_hz / baud)
    if not low <= div <= high:
        return (f"{baud} baud needs a divider of {div} from {clock_hz} Hz; "
                f"the {driver} divider takes {low}..{high}")
    if abs(scale * clock_hz / div - baud) > 0.02 * baud:
        return f"{baud} baud from {clock_hz} Hz is off by more than 2 %"
    return None


def _check_pin(path: Path, family: Family, text: str, key: str) -> None:
    try:
        parse_pin(family, text)
    except BoardError as exc:
        raise _fail(path, key, exc.message, exc.hint or "use a pin the part has, e.g. PA9 "
                    "or P0.06 (the board manual's pin table)") from exc


def _check_gpio(family: Family, gpio: dict[str, Any], path: Path) -> None:
    port, pin = str(gpio["port"]), gpio["pin"]
    if "base" in gpio and family.pin_style != "cmsdk":
        raise _fail(path, "timestamp_gpio.base", f"{family.name} GPIO ports have fixed addresses",
                    "remove it: tinygen knows the family's GPIO layout")
    if family.pin_style == "cmsdk":
        if not (port.isascii() and port.isdigit() and int(port) < family.gpio_ports
                and pin < 16):
            raise _fail(path, "timestamp_gpio", f"CMSDK GPIO ports are 0..{family.gpio_ports - 1}"
                        ", pins 0..15", 'e.g. {port: "0", pin: 0}')
        return
    label = f"P{port.upper()}{pin}" if family.pin_style == "stm32" else f"P{port}.{pin:02d}"
    _check_pin(path, family, label, "timestamp_gpio")
