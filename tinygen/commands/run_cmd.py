"""``tinygen run``: a firmware in QEMU with its UART on the terminal, to type commands by hand."""

from __future__ import annotations

import argparse
import os
import select
import sys
import time
from pathlib import Path
from typing import Any

from tinygen.audit.target import check_firmware_for_board
from tinygen.board import load_board
from tinygen.commands.args import add_board_argument, non_negative_seconds
from tinygen.runner.emulator import QemuTransport, require_emulated
from tinygen.runner.transport import Transport
from tinygen.tables import progress

_POLL_SECONDS = 0.02


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run", help="run a firmware in QEMU with its UART on this terminal",
        description="Start QEMU with the firmware and connect its UART to the terminal: what "
                    "you type goes to the firmware (end each command with '%%', e.g. name%%), "
                    "what it prints comes out here. Ends at end of input (Ctrl-D) or Ctrl-C, "
                    "and stops QEMU. Input may also be piped: echo 'name%%' | tinygen run ...")
    p.add_argument("elf", type=Path, metavar="FIRMWARE.elf")
    add_board_argument(p, note="an emulated one")
    p.add_argument("--linger", type=non_negative_seconds, default=1.0, metavar="SECONDS",
                   help="after the end of input, keep printing until the firmware has been "
                        "quiet this long (default 1)")
    p.set_defaults(_command_module=sys.modules[__name__])


def relay(transport: Transport, stdin_fd: int, out: Any, linger: float) -> None:
    """Copy ``stdin_fd`` to the UART and the UART's lines to ``out`` until the input ends and
    the firmware has been quiet for ``linger`` seconds."""
    quiet_since: float | None = None  # set once the input has ended
    while True:
        line = transport.readline(_POLL_SECONDS)
        if line is not None:
            out.write(line + "\n")
            out.flush()
            if quiet_since is not None:
                quiet_since = time.monotonic()
            continue
        if quiet_since is not None:
            if time.monotonic() - quiet_since >= linger:
                return
            continue
        readable, _, _ = select.select([stdin_fd], [], [], 0)
        if readable:
            data = os.read(stdin_fd, 4096)
            if data:
                transport.write(data)
            else:
                quiet_since = time.monotonic()


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    emulator = require_emulated(
        board, hint="for a board on a serial port use a terminal program, e.g. "
                    "python -m serial.tools.miniterm /dev/ttyACM0 115200")
    check_firmware_for_board(args.elf, board)  # else QEMU would run it and print nothing
    with QemuTransport(board, args.elf) as transport:
        if sys.stdin.isatty():
            progress(f"QEMU {emulator.qemu_machine} running {args.elf}; type commands "
                     "ending with '%' (e.g. name%), Ctrl-D or Ctrl-C to stop")
        try:
            relay(transport, sys.stdin.fileno(), sys.stdout, args.linger)
        except KeyboardInterrupt:
            # Ctrl-C is how an interactive session ends; QEMU is stopped by the with block.
            print(file=sys.stderr)
    return 0
