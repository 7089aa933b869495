"""``tinygen board new`` / ``board show``: write a board file; see what tinygen derives for one."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from tinygen.board import CORES, Board, load_board
from tinygen.board.family import FAMILY_NAMES
from tinygen.board.support import board_support_context
from tinygen.board.writer import FORM_FIELDS, BoardRequest, new_board
from tinygen.commands.args import parse_size
from tinygen.errors import InputError, UsageError
from tinygen.outputs import writing
from tinygen.tables import emit_json, format_bytes, progress

_FREQ = re.compile(r"^(\d+(?:\.\d+)?)\s*(hz|khz|mhz|k|m)?$", re.IGNORECASE)
_FREQ_UNITS = {None: 1, "hz": 1, "k": 1_000, "khz": 1_000, "m": 1_000_000, "mhz": 1_000_000}


def parse_frequency(text: str) -> int:
    """Hz from ``180000000``, ``180MHz``, ``180 MHz``, ``8M`` or ``32768Hz``."""
    m = _FREQ.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a frequency (examples: 180MHz, 8M, 16000000)")
    value = float(m.group(1)) * _FREQ_UNITS[m.group(2).lower() if m.group(2) else None]
    if value <= 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r}: a frequency must be a whole number of Hz")
    return int(value)


def register(sub: Any) -> None:
    p = sub.add_parser("board", help="write a new board file, or show what tinygen derives")
    p.set_defaults(_command_module=sys.modules[__name__], board_command=None)
    actions = p.add_subparsers(dest="board_command", metavar="ACTION",
                               parser_class=type(p))
    new = actions.add_parser(
        "new", help="write a board file: copied from a known board, or from datasheet numbers",
        description="Write NAME.yaml: --like BOARD copies a known board and applies the options "
                    "given; without --like, --mcu --core --flash --ram --clock describe the "
                    "part and everything else comes from its family's defaults (the UART of "
                    "the family's first instance, the internal oscillator). The file is "
                    "validated like any board file before it is written.")
    new.add_argument("name", help="the board's name: lower-case letters, digits and '_'")
    new.add_argument("--like", metavar="BOARD", help="copy this board (name or .yaml) and adjust")
    new.add_argument("--mcu", help="part number, e.g. STM32F446RE (picks the family)")
    new.add_argument("--family", choices=FAMILY_NAMES, help="default: from --mcu")
    new.add_argument("--core", choices=sorted(CORES))
    new.add_argument("--fpu", choices=("none", "fpv4-sp-d16", "fpv5-sp-d16", "fpv5-d16"),
                     help="default: the usual FPU of the core (and part)")
    new.add_argument("--flash", type=parse_size, metavar="BYTES", help="e.g. 512K")
    new.add_argument("--ram", type=parse_size, metavar="BYTES",
                     help="contiguous RAM at the family's RAM origin, e.g. 128K")
    new.add_argument("--clock", type=parse_frequency, dest="clock_hz", metavar="HZ",
                     help="rated core clock, e.g. 180MHz; tinygen computes the PLL")
    new.add_argument("--clock-source", choices=("hsi", "hse", "msi", "hfxo", "hfint"),
                     help="oscillator the clock comes from (default: the internal one)")
    new.add_argument("--hse", type=parse_frequency, dest="hse_hz", metavar="HZ",
                     help="external crystal or clock frequency (implies --clock-source hse)")
    new.add_argument("--hse-bypass", action="store_true",
                     help="OSC_IN is driven by a clock (e.g. an ST-LINK's MCO), not a crystal")
    new.add_argument("--uart", metavar="INSTANCE", help="e.g. USART2 (default: the family's "
                     "first); its base address comes from tinygen's family tables")
    new.add_argument("--tx", metavar="PIN", help="UART TX pin, e.g. PA2 or P0.06")
    new.add_argument("--rx", metavar="PIN", help="UART RX pin")
    new.add_argument("--af", type=int, choices=range(16), metavar="N",
                     help="STM32 alternate function of the UART pins")
    new.add_argument("--timestamp-pin", metavar="PIN", help="GPIO for energy mode, e.g. PA10")
    new.add_argument("--vendor")
    new.add_argument("--description")
    new.add_argument("--pyocd-target", metavar="NAME")
    new.add_argument("--openocd-config", metavar="CFG")
    new.add_argument("--source", action="append", default=[], dest="sources", metavar="TEXT",
                     help="where the numbers come from (repeat), e.g. 'ST DS10693, table 11'")
    new.add_argument("--out", type=Path, help="file to write (default: ./NAME.yaml)")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.add_argument("--json", action="store_true", help="machine-readable output")
    new.set_defaults(_command_module=sys.modules[__name__])
    show = actions.add_parser(
        "show", help="what tinygen derives for a board: clock tree, UART, pins, memory")
    show.add_argument("board", help="board name or .yaml")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(_command_module=sys.modules[__name__])


def _request(args: argparse.Namespace) -> BoardRequest:
    if args.like is None:
        missing = [f"--{k.replace('_hz', '')}" for k in FORM_FIELDS if getattr(args, k) is None]
        if missing:
            raise UsageError(f"a new board needs {', '.join(missing)}, or --like BOARD",
                             hint="values from the datasheet, e.g. --mcu STM32F446RE --core "
                                  "cortex-m4 --flash 512K --ram 128K --clock 180MHz")
    return BoardRequest(
        name=args.name, like=args.like, mcu=args.mcu, core=args.core, fpu=args.fpu,
        family=args.family, flash=args.flash, ram=args.ram, clock_hz=args.clock_hz,
        clock_source=args.clock_source, hse_hz=args.hse_hz, hse_bypass=args.hse_bypass,
        uart=args.uart, tx=args.tx, rx=args.rx, af=args.af, timestamp_pin=args.timestamp_pin,
        vendor=args.vendor, description=args.description, pyocd_target=args.pyocd_target,
        openocd_config=args.openocd_config, sources=tuple(args.sources))


def describe(board: Board) -> dict[str, Any]:
    """What tinygen derives for ``board``: the clock plan, the UART's clock and pins, memory."""
    ctx = board_support_context(board)
    plan = board.clock
    clock: dict[str, Any] | None = None
    if plan is not None:
        clock = {
            "source": plan.source, "source_hz": plan.source_hz, "hse_bypass": plan.hse_bypass,
            "sysclk_hz": plan.sysclk_hz, "hclk_hz": plan.hclk_hz,
            "apb1_hz": plan.bus_hz("apb1"), "apb2_hz": plan.bus_hz("apb2"),
            "pll": None if plan.pll is None else {
                "m": plan.pll.m, "n": plan.pll.n, "divider": plan.pll.out_div,
                "ref_hz": plan.pll.ref_hz, "vco_hz": plan.pll.vco_hz},
            "flash_wait_states": plan.flash_latency, "voltage": plan.voltage,
            "fallback_hz": plan.reset_hz,
        }
    hw = ctx["uart_hw"]
    return {
        "name": board.name, "mcu": board.mcu, "family": board.family, "core": board.core,
        "fpu": board.fpu, "clock_hz": board.clock_hz, "clock": clock,
        "uart": {"driver": board.uart.driver, "instance": board.uart.instance,
                 "base": f"0x{board.uart.base:08X}", "clock_hz": board.uart.clock_hz,
                 "baud": board.uart.baud, "energy_baud": board.uart.energy_baud,
                 "tx": board.uart.tx or None, "rx": board.uart.rx or None,
                 "af": hw["af"] if hw and board.family.startswith("stm32") else None},
        "timer": board.timer,
        "timestamp_pin": ctx["gpio"]["label"] if ctx["gpio"] else None,
        "memory": [{"name": r.name, "kind": r.kind, "origin": f"0x{r.origin:08X}",
                    "size": r.size} for r in board.memory],
        "debug": {"pyocd_target": board.pyocd_target, "openocd_config": board.openocd_config},
        "emulator": board.emulator.qemu_machine if board.emulator else None,
    }


def _mhz(hz: int) -> str:
    return f"{hz / 1e6:g} MHz"


def _print_description(d: dict[str, Any]) -> None:
    print(f"{d['name']}: {d['mcu']} ({d['family']}), {d['core']}, FPU {d['fpu']}")
    c = d["clock"]
    if c is None:
        print(f"  clock     {_mhz(d['clock_hz'])}, fixed (no clock set-up)")
    else:
        pll = c["pll"]
        via = (f" -> PLL M={pll['m']} N={pll['n']} /{pll['divider']} (VCO input "
               f"{_mhz(pll['ref_hz'])}, VCO {_mhz(pll['vco_hz'])})" if pll else "")
        bypass = ", bypass" if c["hse_bypass"] else ""
        source = (f"{c['source'].upper()} {_mhz(c['source_hz'])}{bypass}{via} = " if pll or
                  c["source_hz"] != c["sysclk_hz"] else f"{c['source'].upper()}, no PLL: ")
        print(f"  clock     {source}{_mhz(c['sysclk_hz'])}")
        print(f"  buses     AHB {_mhz(c['hclk_hz'])}, APB1 {_mhz(c['apb1_hz'])}, APB2 "
              f"{_mhz(c['apb2_hz'])}; {c['flash_wait_states']} flash wait states; "
              f"voltage {c['voltage']}; fallback {_mhz(c['fallback_hz'])}")
    u = d["uart"]
    pins = f", TX {u['tx']} RX {u['rx']}" if u["tx"] else ""
    pins += f" AF{u['af']}" if u["af"] is not None else ""
    print(f"  uart      {u['instance']} ({u['driver']}) at {u['base']}, clock "
          f"{_mhz(u['clock_hz'])}, {u['baud']} baud ({u['energy_baud']} in energy mode){pins}")
    print(f"  timer     {d['timer']}")
    print(f"  timestamp {d['timestamp_pin'] or 'none (no energy mode)'}")
    for r in d["memory"]:
        print(f"  {r['kind']:<9} {r['name']} at {r['origin']}, {format_bytes(r['size'])}")
    dbg = d["debug"]
    print(f"  probe     pyocd {dbg['pyocd_target'] or '-'}, openocd {dbg['openocd_config'] or '-'}"
          + (f"; emulated by QEMU {d['emulator']}" if d["emulator"] else ""))


def run(args: argparse.Namespace) -> int:
    if args.board_command is None:
        raise UsageError("tinygen board needs an action: new or show",
                         hint="see 'tinygen board --help'")
    if args.board_command == "show":
        data = describe(load_board(args.board))
        if args.json:
            emit_json(data)
        else:
            _print_description(data)
        return 0
    out: Path = args.out or Path(f"{args.name}.yaml")
    if out.exists() and not args.force:
        raise InputError(f"{out} exists", hint="pass --force to overwrite it, or --out PATH")
    board, text = new_board(_request(args), out)
    with writing(out, "the board file"):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")  # board files are read as UTF-8, whatever the locale
    if args.json:
        emit_json({"path": str(out), "board": describe(board)})
    else:
        print(f"wrote {out}")
        _print_description(describe(board))
        progress(f"next: tinygen build --board {out} --bringup, tinygen flash, then tinygen "
                 "bench --mode smoke --port PORT (docs/porting.md, 'Checking a board')")
    return 0
