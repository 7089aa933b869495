"""New board files: a known board copied and adjusted, or one written from datasheet numbers."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tinygen.board.description import CORES, Board, parse_board, resolve_board_path
from tinygen.board.family import (
    FAMILIES,
    Family,
    family_for_mcu,
    get_family,
    parse_pin,
    uart_by_name,
)
from tinygen.board.file import brief, parse_board_yaml, read_board_yaml
from tinygen.errors import BoardError

_NAME = re.compile(r"^[a-z0-9_]+$")
_VENDORS = {"nrf52": "Nordic Semiconductor", "mps2": "Arm"}
# Keys in the order board files list them; the values written in hex.
_ORDER = ("name", "description", "vendor", "mcu", "family", "core", "fpu", "clock_hz", "clock",
          "sources", "memory", "placement", "budgets", "stack_size", "heap_size", "uart", "timer",
          "timestamp_gpio", "debug", "emulator")
_HEX_KEYS = frozenset({"origin", "size", "base"})
# Board-file keys a text option of 'board new' writes as given: a refusal names the option.
_TEXT_OPTIONS = {"description": "--description", "vendor": "--vendor", "mcu": "--mcu",
                 "sources": "--source", "debug.pyocd_target": "--pyocd-target",
                 "debug.openocd_config": "--openocd-config", "uart.tx": "--tx", "uart.rx": "--rx"}


@dataclass(frozen=True)
class BoardRequest:
    """What the user gave on the command line; None means 'keep' (--like) or 'default'."""

    name: str
    like: str | None = None
    mcu: str | None = None
    core: str | None = None
    fpu: str | None = None
    family: str | None = None
    flash: int | None = None
    ram: int | None = None
    clock_hz: int | None = None
    clock_source: str | None = None
    hse_hz: int | None = None
    hse_bypass: bool = False
    uart: str | None = None
    tx: str | None = None
    rx: str | None = None
    af: int | None = None
    timestamp_pin: str | None = None
    vendor: str | None = None
    description: str | None = None
    pyocd_target: str | None = None
    openocd_config: str | None = None
    sources: tuple[str, ...] = field(default_factory=tuple)


def default_fpu(core: str, mcu: str) -> str:
    """The FPU a part with ``core`` usually has; double precision on STM32F76x/77x and H7."""
    if core in ("cortex-m0plus", "cortex-m3"):
        return "none"
    if core == "cortex-m4":
        return "fpv4-sp-d16"
    if core == "cortex-m7":
        double = re.match(r"^STM32(F76|F77|H7)", mcu.upper())
        return "fpv5-d16" if double else "fpv5-sp-d16"
    return "fpv5-sp-d16" if core == "cortex-m33" else "fpv5-d16"


def _family(req: BoardRequest, mcu: str) -> Family:
    if req.family:
        return get_family(req.family)
    found = family_for_mcu(mcu)
    if found is None or found.name == "mps2":
        raise BoardError(f"no family tinygen knows matches MCU {mcu!r}",
                         hint=f"pass --family (one of {', '.join(FAMILIES)}), or add the family: "
                              "docs/porting.md")
    return found


def _uart_section(fam: Family, req: BoardRequest, old: dict[str, Any] | None) -> dict[str, Any]:
    """The UART keys: the requested instance (or the old one, or the family's first) and pins."""
    keep = old is not None and req.uart is None
    if keep:
        assert old is not None
        uart = dict(old)
        uart.pop("clock_hz", None)  # derived from the clock tree again
    else:
        inst = uart_by_name(fam, req.uart) if req.uart else fam.uarts[0]
        if inst is None:
            known = ", ".join(u.name for u in fam.uarts)
            raise BoardError(f"{fam.name} has no UART {req.uart!r} tinygen knows",
                             hint=f"known: {known}")
        driver = ("stm32_lpuart" if inst.name.startswith("LPUART") else fam.uart_drivers[0])
        uart = {"driver": driver, "instance": inst.name, "base": inst.base, "baud": 115200}
        if fam.pin_style != "cmsdk":
            uart |= {"tx": inst.tx, "rx": inst.rx}
            if fam.pin_style == "stm32":
                uart["af"] = inst.af
    for key, value in (("tx", req.tx), ("rx", req.rx), ("af", req.af)):
        if value is not None:
            uart[key] = value
    return uart


def _timestamp(fam: Family, text: str) -> dict[str, Any]:
    pin = parse_pin(fam, text)
    port: str = chr(ord("A") + pin.port) if fam.pin_style == "stm32" else str(pin.port)
    return {"port": port, "pin": pin.pin}


def _clock(req: BoardRequest, old: dict[str, Any] | None) -> dict[str, Any] | None:
    if req.clock_source is None and req.hse_hz is None and not req.hse_bypass:
        return old
    clock: dict[str, Any] = {"source": req.clock_source or ("hse" if req.hse_hz else "hsi")}
    if req.hse_hz is not None:
        clock["hse_hz"] = req.hse_hz
    if req.hse_bypass:
        clock["hse_bypass"] = True
    return clock


def _resize(regions: list[dict[str, Any]], kind: str, size: int, like: str) -> None:
    matching = [r for r in regions if r["kind"] == kind]
    if len(matching) != 1:
        raise BoardError(f"--{'flash' if kind == 'flash' else 'ram'}: {like} has "
                         f"{len(matching)} {kind} regions; which one to resize is ambiguous",
                         hint="copy it without the option and edit the memory list by hand")
    matching[0]["size"] = size


def _from_like(req: BoardRequest) -> tuple[dict[str, Any], str]:
    assert req.like is not None
    path = resolve_board_path(req.like)
    source = read_board_yaml(path)
    like_board = parse_board(copy.deepcopy(source), path)  # refuse a broken source
    assert isinstance(source, dict)
    raw: dict[str, Any] = source
    raw["name"] = req.name
    raw.pop("emulator", None)  # a new board is real hardware
    mcu_changed = req.mcu is not None and req.mcu != raw["mcu"]
    if req.mcu:
        raw["mcu"] = req.mcu
    if mcu_changed:
        raw.pop("debug", None)  # the probe targets name the old part
        raw["family"] = _family(req, raw["mcu"]).name
    elif req.family:
        raw["family"] = get_family(req.family).name
    fam = get_family(raw["family"])
    if req.core:
        raw["core"] = req.core
    if req.fpu or req.core:
        raw["fpu"] = req.fpu or default_fpu(raw["core"], raw["mcu"])
    if req.clock_hz:
        raw["clock_hz"] = req.clock_hz
    clock = _clock(req, raw.get("clock"))
    if clock is not None:
        raw["clock"] = clock
    if req.flash:
        _resize(raw["memory"], "flash", req.flash, req.like)
    if req.ram:
        _resize(raw["memory"], "ram", req.ram, req.like)
    if fam.name != like_board.family:
        raw["uart"] = _uart_section(fam, req, None)
        raw.pop("timestamp_gpio", None)
    else:
        raw["uart"] = _uart_section(fam, req, raw["uart"])
    if req.timestamp_pin:
        raw["timestamp_gpio"] = _timestamp(fam, req.timestamp_pin)
    if like_board.emulator is not None and raw["core"] != "cortex-m0plus":
        raw["timer"] = {"driver": "dwt"}  # real hardware: its cycle counter works, unlike QEMU's
    _debug(raw, req)
    if req.vendor:
        raw["vendor"] = req.vendor
    raw["description"] = req.description or (
        f"{raw['mcu']} {raw['core']} at {raw['clock_hz'] // 1_000_000} MHz "
        f"(from {like_board.name})")
    raw["sources"] = [*req.sources, *raw.get("sources", []),
                      f"derived from boards/{path.name} by tinygen board new"]
    header = (f"{req.name}: copied from {path.name} by 'tinygen board new' and adjusted. Check "
              "every value against the datasheet and the board's manual, and list the "
              "sections in 'sources'.")
    return raw, header


def _debug(raw: dict[str, Any], req: BoardRequest) -> None:
    debug = dict(raw.get("debug", {}))
    if req.pyocd_target:
        debug["pyocd_target"] = req.pyocd_target
    if req.openocd_config:
        debug["openocd_config"] = req.openocd_config
    if debug:
        raw["debug"] = debug


# What a board written from datasheet numbers (no board to start from) needs.
FORM_FIELDS = ("mcu", "core", "flash", "ram", "clock_hz")


def _from_form(req: BoardRequest) -> tuple[dict[str, Any], str]:
    missing = [k for k in FORM_FIELDS if getattr(req, k) is None]
    if missing:
        raise BoardError(f"a board from datasheet numbers needs {', '.join(missing)}",
                         hint="give them, or start from a known board")
    assert req.mcu and req.core and req.flash and req.ram and req.clock_hz
    if req.core not in CORES:
        raise BoardError(f"unknown core {req.core!r}", hint=f"one of {', '.join(CORES)}")
    fam = _family(req, req.mcu)
    raw: dict[str, Any] = {
        "name": req.name,
        "description": req.description or (
            f"{req.mcu} {req.core} at {req.clock_hz // 1_000_000} MHz"),
        "vendor": req.vendor or _VENDORS.get(fam.name, "STMicroelectronics"),
        "mcu": req.mcu, "family": fam.name, "core": req.core,
        "fpu": req.fpu or default_fpu(req.core, req.mcu), "clock_hz": req.clock_hz,
    }
    clock = _clock(req, None)
    if clock is not None:
        raw["clock"] = clock
    raw["sources"] = list(req.sources) or [
        f"{req.mcu} datasheet (fill in: document, revision, memory map and alternate function "
        "tables)"]
    raw["memory"] = [
        {"name": "flash", "kind": "flash", "origin": fam.flash_origin, "size": req.flash},
        {"name": "ram", "kind": "ram", "origin": fam.ram_origin, "size": req.ram},
    ]
    raw["uart"] = _uart_section(fam, req, None)
    raw["timer"] = {"driver": "systick" if req.core == "cortex-m0plus" else "dwt"}
    if req.timestamp_pin:
        raw["timestamp_gpio"] = _timestamp(fam, req.timestamp_pin)
    _debug(raw, req)
    header = (f"{req.name}: written by 'tinygen board new' from the command line. Check every "
              "value against the datasheet and the board's manual, and list the sections in "
              "'sources'.")
    return raw, header


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"0x{value:08X}" if key in _HEX_KEYS and value >= 0 else str(value)
    text = str(value)
    # PyYAML's emitter knows which text may stand plain; anything else is double-quoted on one
    # line, with escapes for line breaks and unprintable characters (the schema refuses those
    # on load, with the key's name). The flow indicators are quoted too: values sit in {...}.
    plain = yaml.safe_dump(text, allow_unicode=True, width=1 << 30) in (f"{text}\n",
                                                                        f"{text}\n...\n")
    if plain and not any(c in text for c in ",:{}[]#&*!|>'\"%@`"):
        return text
    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1 << 30).rstrip()


def _flow(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(k, v)}" for k, v in mapping.items()) + "}"


def render_board_yaml(raw: dict[str, Any], header: str) -> str:
    """A board file in the layout of the shipped ones: one line per key, flow mappings."""
    words, lines, line = header.split(), [], "#"
    for word in words:
        if len(line) + len(word) + 1 > 99:
            lines.append(line)
            line = "#"
        line += " " + word
    lines.append(line)
    for key in [k for k in _ORDER if k in raw] + [k for k in raw if k not in _ORDER]:
        value = raw[key]
        if key in ("sources", "memory"):
            lines.append(f"{key}:")
            lines += [f"  - {_flow(v) if isinstance(v, dict) else _scalar('', v)}" for v in value]
        elif isinstance(value, dict) and any(isinstance(v, list) for v in value.values()):
            lines.append(f"{key}: {json.dumps(value)}")
        elif isinstance(value, dict):
            lines.append(f"{key}: {_flow(value)}")
        else:
            lines.append(f"{key}: {_scalar(key, value)}")
    return "\n".join(lines) + "\n"


def new_board(req: BoardRequest, out: Path) -> tuple[Board, str]:
    """The validated board and its file's text; nothing is written here."""
    if not _NAME.fullmatch(req.name):
        raise BoardError(f"board name {brief(req.name)}: use lower-case letters, digits and '_'",
                         hint="for example my_f446_board")
    raw, header = _from_like(req) if req.like else _from_form(req)
    text = render_board_yaml(raw, header)
    try:
        board = parse_board(parse_board_yaml(text, out), out)
    except BoardError as exc:
        options = [flag for key, flag in _TEXT_OPTIONS.items() if f"{out}: {key}" in exc.message]
        fix = f"fix {options[0]}" if options else "fix the option that set this value"
        exc.hint = (exc.hint + "; " if exc.hint else "") + fix
        raise
    return board, text
