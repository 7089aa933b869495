"""``tinygen audit``: flash and RAM of a firmware ELF against a board's budgets, by ML role."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygen.audit import (
    audit_elf,
    diff_reports,
    enforce_budgets,
    render_diff_markdown,
    render_diff_text,
    render_markdown,
    render_text,
    write_treemap_html,
)
from tinygen.board import load_board
from tinygen.commands.args import add_board_argument, parse_size
from tinygen.outputs import check_writable
from tinygen.tables import emit_json, progress


def register(sub: Any) -> None:
    p = sub.add_parser(
        "audit", help="flash and RAM of a firmware ELF by role, against the board's budgets",
        description="Audit a Cortex-M firmware ELF: flash and RAM per memory region and per "
                    "role (model, arena, TFLM, kernels, libraries, ...), checked against "
                    "budgets. Totals equal arm-none-eabi-size's. Exit code 5 when over budget.")
    p.add_argument("elf", type=Path, metavar="FIRMWARE.elf")
    add_board_argument(p, required=False, note="default: regions from the ELF")
    p.add_argument("--map", type=Path, dest="map_path", metavar="MAP",
                   help="GNU ld map of the ELF (default: <elf>.map or firmware.map beside it)")
    p.add_argument("--budget-flash", type=parse_size, metavar="BYTES",
                   help="flash budget, overriding the board's (e.g. 512K)")
    p.add_argument("--budget-ram", type=parse_size, metavar="BYTES",
                   help="RAM budget, overriding the board's (e.g. 128K)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="JSON on stdout (schema: docs/audit-json.md)")
    fmt.add_argument("--markdown", action="store_true", help="Markdown for a CI comment")
    p.add_argument("--html", type=Path, metavar="OUT.html",
                   help="also write a treemap of where flash and RAM go")
    p.add_argument("--top", type=int, default=None, metavar="N",
                   help="symbols to list (default 10; JSON lists all unless given)")
    p.add_argument("--diff", type=Path, metavar="OLD.elf",
                   help="show the growth from OLD.elf (its map is looked up beside it)")
    p.set_defaults(_command_module=sys.modules[__name__])


def run(args: argparse.Namespace) -> int:
    from tinygen.errors import UsageError

    if args.top is not None and args.top < 0:
        raise UsageError("--top must be >= 0",
                         hint="e.g. --top 20, or --top 0 for no symbol list")
    board = load_board(args.board) if args.board else None
    if args.html is not None:
        check_writable(args.html, "the treemap")
    report = audit_elf(args.elf, board, map_path=args.map_path,
                       budget_flash=args.budget_flash, budget_ram=args.budget_ram)
    top = 10 if args.top is None else args.top
    if args.diff is not None:
        old = audit_elf(args.diff, board)
        diff = diff_reports(report, old)
        if args.json:
            emit_json(diff.to_json(top=args.top))
        elif args.markdown:
            sys.stdout.write(render_diff_markdown(diff, top=max(top, 20)))
        else:
            print(render_diff_text(diff, top=max(top, 20)))
    elif args.json:
        emit_json(report.to_json(top=args.top))
    elif args.markdown:
        sys.stdout.write(render_markdown(report, top=top))
    else:
        print(render_text(report, top=top))
    if args.html is not None:
        write_treemap_html(report, args.html)
        progress(f"wrote {args.html}")
    sys.stdout.flush()
    enforce_budgets(report)
    return 0
