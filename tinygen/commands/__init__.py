"""One module per ``tinygen`` subcommand; each has ``register(subparsers)`` and ``run(args)``."""

from __future__ import annotations

from types import ModuleType

from tinygen.commands import (
    audit_cmd,
    bench_cmd,
    board_cmd,
    boards_cmd,
    build_cmd,
    deps_cmd,
    flash_cmd,
    inspect_cmd,
    profile_cmd,
    quantize_cmd,
    run_cmd,
    sweep_cmd,
    verify_cmd,
)

COMMANDS: tuple[ModuleType, ...] = (
    boards_cmd,
    board_cmd,
    inspect_cmd,
    deps_cmd,
    build_cmd,
    verify_cmd,
    audit_cmd,
    bench_cmd,
    profile_cmd,
    run_cmd,
    flash_cmd,
    quantize_cmd,
    sweep_cmd,
)
