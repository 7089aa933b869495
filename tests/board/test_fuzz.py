"""A seeded board-file fuzzer: mutants of the shipped boards either load into a Board whose every
derived value renders into valid board support, or are refused with a BoardError (exit 3) naming
the file; never any other exception."""

from __future__ import annotations

import copy
import json
import os
import random
import re
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.commands.cli_support import needs_gcc
from tinygen.board import Board, load_board, parse_board
from tinygen.board.writer import BoardRequest, new_board
from tinygen.bringup import BringupRuntime
from tinygen.build_options import BuildOptions
from tinygen.commands.board_cmd import describe
from tinygen.errors import BoardError, ExitCode, TinygenError
from tinygen.firmware import build_firmware
from tinygen.resources import boards_dir
from tinygen.toolchain import board_cpu_flags

SEED = 16
MUTANTS = 400  # a few seconds; TINYGEN_BOARD_FUZZ_MUTANTS=N asks for a longer run
_U32 = 1 << 32
# Values a careless or hostile board file holds where another type or range belongs.
ODD_VALUES: tuple[object, ...] = (
    0, 1, -1, -16, 3, 7, 1023, 1024, 0x7FFFFFFF, _U32 - 1, _U32, 1 << 70, -(1 << 70),
    0.0, 1.0, 0.5, 536870912.0, 25000000.0, 1e300, float("nan"), float("inf"), True, False,
    None, "", "x", "0x100", "115200", "25 MHz", "a\nb", "*/", "PZ99", "P0.99", "9", "\u00b2",
    "x" * 3000, [], {}, [1], {"a": 1}, "\udc80", "cortex-m4", "stm32f4", "hse",
)
_KNOWN_KEYS = ("base", "baud", "clock", "clock_hz", "size", "origin", "pin", "port", "stack_size",
               "heap_size", "hse_hz", "instance", "af", "energy_baud", "timestamp_gpio", "name")
# An unsigned C literal in the generated sources (``0x40004000u``, ``115200u``, ``0x-10u``, ...).
_C_UNSIGNED = re.compile(r"(?<![\w.%])(-?[0-9][0-9A-Za-z.+-]*?)u\b")
_LD_NUMBER = re.compile(r"(?:ORIGIN =|LENGTH =|\. \+=)\s*([^,;\s]+)")


@dataclass
class Tally:
    mutants: int = 0
    refused: int = 0
    loaded: int = 0
    tracebacks: list[str] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    hintless: list[str] = field(default_factory=list)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into ``node`` (containers and leaves)."""
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _tweak_number(value: int, rng: random.Random) -> object:
    return rng.choice([value + 1, value - 1, value + 4, -value, value * 2, value // 2,
                       value << 32, float(value), 0, str(value), hex(value), value * 1000])


def _mutate(raw: dict[str, Any], others: list[dict[str, Any]], rng: random.Random) -> None:
    """One structure-aware change to ``raw`` in place."""
    paths = _paths(raw)
    path = rng.choice(paths)
    parent, last = _get(raw, path[:-1]), path[-1]
    op = rng.randrange(8)
    if op == 0:
        parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif op == 1:
        numbers = [p for p in paths if type(_get(raw, p)) is int]
        if numbers:
            p = rng.choice(numbers)
            _get(raw, p[:-1])[p[-1]] = _tweak_number(_get(raw, p), rng)
    elif op == 2:
        if isinstance(parent, dict) or len(parent) > 0:
            del parent[last]
    elif op == 3:
        maps = [p for p in [(), *paths] if isinstance(_get(raw, p), dict)]
        _get(raw, rng.choice(maps))[rng.choice(_KNOWN_KEYS)] = copy.deepcopy(
            rng.choice((*ODD_VALUES, 0x40010000, 0x20000000, 8_000_000, "A", "0")))
    elif op == 4:
        other = rng.choice(paths)
        a, b = copy.deepcopy(_get(raw, path)), copy.deepcopy(_get(raw, other))
        try:
            parent[last] = b
            _get(raw, other[:-1])[other[-1]] = a
        except (KeyError, IndexError, TypeError):
            pass  # one path ran through the other
    elif op == 5:
        lists = [p for p in paths if isinstance(_get(raw, p), list) and _get(raw, p)]
        if lists:
            items = _get(raw, rng.choice(lists))
            rng.choice([items.reverse, lambda: items.append(copy.deepcopy(items[0])),
                        items.pop])()
    else:  # a section from another board: another family's UART, memory map or clock
        donor = rng.choice(others)
        key = rng.choice(["uart", "memory", "clock", "timestamp_gpio", "family", "mcu",
                          "core", "clock_hz", "emulator", "placement"])
        if key in donor:
            raw[key] = copy.deepcopy(donor[key])
        else:
            raw.pop(key, None)


def _mutate_text(text: str, rng: random.Random) -> bytes:
    """A change below the structure: repeated keys, anchors, bad bytes, a cut-off file."""
    lines = text.splitlines(keepends=True)
    op = rng.randrange(6)
    if op == 0:
        i = rng.randrange(len(lines))
        lines.insert(rng.randrange(len(lines) + 1), lines[i])  # a repeated key, most often
    elif op == 1:
        lines.append("extra: &a [1, 2]\nmore: *a\n")
    elif op == 2:
        data = bytearray(text.encode())
        data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    elif op == 3:
        return text.encode()[:rng.randrange(len(text))]
    elif op == 4:
        i = rng.randrange(len(lines))
        lines[i] = lines[i].replace(" ", rng.choice(["\t", "  ", ""]), 1)
    else:
        lines.append(rng.choice(["%YAML 1.1\n", "---\nname: b\n", "? [a]\n: 1\n",
                                 "<<: {vendor: x}\n", "x: !!python/none\n"]))
    return "".join(lines).encode()


def _check_usable(board: Board, path: Path, out: Path) -> None:
    """Everything tinygen derives from a loaded board works and is in range."""
    for region in board.memory:
        assert region.origin >= 0 and region.size > 0 and region.end <= _U32
        assert type(region.origin) is int and type(region.size) is int
    uart = board.uart
    for value in (board.clock_hz, uart.base, uart.baud, uart.energy_baud, uart.clock_hz, uart.af,
                  board.flash_budget, board.ram_budget):
        assert type(value) is int and 0 <= value < _U32, value
    assert uart.baud > 0 and uart.energy_baud > 0 and uart.clock_hz > 0
    for optional in (board.stack_size, board.heap_size, board.timestamp_gpio_base):
        assert optional is None or (type(optional) is int and 0 <= optional < _U32)
    data_region = board.region(board.data_region)
    assert (board.stack_size or 0) + (board.heap_size or 0) <= data_region.size
    board_cpu_flags(board)
    json.dumps(describe(board))
    for energy in {False, board.timestamp_gpio is not None}:
        files = BringupRuntime().render(board, 0, energy=energy).files
        for name, text in files.items():
            if name.startswith("src/board/") and name.endswith((".c", ".h")):
                assert text.count("/*") == text.count("*/"), f"{name}: a comment is broken"
                for literal in _C_UNSIGNED.findall(text):
                    assert re.fullmatch(r"0x[0-9A-Fa-f]{1,8}|[0-9]{1,10}", literal), literal
                    assert int(literal, 16 if literal.startswith("0x") else 10) < _U32
        for literal in _LD_NUMBER.findall(files["src/board/linker.ld"]):
            assert re.fullmatch(r"0x[0-9A-Fa-f]{1,9}|[0-9]{1,10}", literal), literal
            assert int(literal, 0) <= _U32, literal
    # 'board new --like' copies it: the file it writes must load back (new_board checks).
    try:
        new_board(BoardRequest(name="fuzz_copy", like=str(path)), out)
    except TinygenError as exc:
        assert exc.exit_code in (ExitCode.USAGE, ExitCode.BAD_INPUT), exc


def mutants(folder: Path, seed: int, count: int) -> Iterator[tuple[Path, bytes]]:
    """``count`` mutant board files written to ``folder``, the same ones for the same seed."""
    rng = random.Random(seed)
    originals = [yaml.safe_load(p.read_text()) for p in sorted(boards_dir().glob("*.yaml"))]
    for i in range(count):
        raw = copy.deepcopy(rng.choice(originals))
        for _ in range(rng.randint(1, 3)):
            _mutate(raw, originals, rng)
        text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=rng.random() < 0.5)
        data = _mutate_text(text, rng) if rng.random() < 0.25 else text.encode()
        path = folder / f"mutant_{i:04d}.yaml"
        path.write_bytes(data)
        yield path, data


def run_fuzzer(folder: Path, seed: int, count: int) -> Tally:
    tally = Tally()
    for path, data in mutants(folder, seed, count):
        tally.mutants += 1
        try:
            board = load_board(str(path))
            _check_usable(board, path, folder / "copy.yaml")
            tally.loaded += 1
        except BoardError as exc:
            tally.refused += 1
            assert exc.exit_code == ExitCode.BAD_INPUT
            assert str(path) in exc.message, exc.message
            assert "\n" not in exc.message and len(exc.message) < len(str(path)) + 400
            if not exc.hint:
                tally.hintless.append(exc.message)
            tally.refusals[exc.message.removeprefix(f"{path}: ").split(":")[0]] += 1
        except Exception:  # the fuzzer's finding: anything else is a bug
            tally.tracebacks.append(f"{path.name}: {traceback.format_exc(limit=3)}\n"
                                    f"{data.decode(errors='replace')}")
    return tally


def test_board_file_fuzzer(tmp_path: Path,
                           record_property: Callable[[str, object], None]) -> None:
    count = int(os.environ.get("TINYGEN_BOARD_FUZZ_MUTANTS") or MUTANTS)
    tally = run_fuzzer(tmp_path, SEED, count)
    summary = (f"board fuzzer (seed {SEED}): {tally.mutants} mutants, {tally.refused} refused, "
               f"{tally.loaded} loaded, tracebacks={len(tally.tracebacks)}")
    print(summary)
    print("refused at:", ", ".join(f"{k} {n}" for k, n in tally.refusals.most_common(12)))
    for name, value in (("mutants", tally.mutants), ("refused", tally.refused),
                        ("loaded", tally.loaded), ("tracebacks", len(tally.tracebacks))):
        record_property(f"board_fuzz_{name}", value)
    assert not tally.tracebacks, summary + "\n\n" + "\n\n".join(tally.tracebacks[:3])
    assert not tally.hintless, "errors without a hint:\n" + "\n".join(tally.hintless[:10])
    # The fuzzer is only worth its time if both outcomes are common.
    assert tally.loaded > count // 20 and tally.refused > count // 2, summary


def test_shipped_boards_pass_the_usability_checks(tmp_path: Path) -> None:
    for path in sorted(boards_dir().glob("*.yaml")):
        _check_usable(parse_board(yaml.safe_load(path.read_text()), path), path,
                      tmp_path / "copy.yaml")


@needs_gcc
def test_loaded_mutants_build(tmp_path: Path) -> None:
    """'Loaded' means usable: the first mutants that load build the bring-up firmware with the
    real compiler and linker (exit 5 at most, for a board too small for it; never exit 4)."""
    built = 0
    for path, _ in mutants(tmp_path, SEED + 1, 200):
        try:
            board = load_board(str(path))
        except BoardError:
            continue
        try:
            build_firmware(BuildOptions(board=board, out_dir=tmp_path / f"fw_{path.stem}"))
        except TinygenError as exc:
            assert exc.exit_code == ExitCode.OVER_BUDGET, f"{path.name}: {exc.message}"
        built += 1
        if built == 3:
            return
    raise AssertionError(f"only {built} of 200 mutants loaded")
