"""tinygen.runner.probe: the stack and heap a firmware really uses, measured in QEMU, and the
sizes a build links from them."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MODELS, require_tools
from tinygen.board import DEFAULT_HEAP_SIZE, DEFAULT_STACK_SIZE, load_board
from tinygen.board.support import STACK_MIN
from tinygen.build_options import BuildOptions
from tinygen.errors import OverBudgetError
from tinygen.firmware import build_firmware
from tinygen.runner.probe import (
    STACK_ALIGN,
    STACK_MARGIN_MIN,
    Measured,
    memory_sizes,
    run_probe,
    sized_heap,
    sized_stack,
)


@pytest.mark.parametrize(("peak", "expected"), [
    (0, 488), (1, 488), (232, 488), (233, 496), (1104, 1384), (2048, 2560), (4000, 5000),
    (10_001, 12_504)])
def test_sized_stack_adds_a_quarter_or_the_minimum_margin(peak: int, expected: int) -> None:
    """At least what the fault handlers need (STACK_MIN)."""
    size = sized_stack(peak)
    assert size == expected
    assert size % STACK_ALIGN == 0 and size >= STACK_MIN
    assert size - peak >= max(peak // 4, STACK_MARGIN_MIN)


def test_sized_heap_is_the_use_rounded_to_eight() -> None:
    assert [sized_heap(n) for n in (0, 1, 8, 9)] == [0, 8, 8, 16]


def test_measured_round_trips_and_rejects_damaged_cache_files() -> None:
    m = Measured(stack_peak=1104, heap_used=0, probe_board="mps2_an386", arena_min=100_720)
    assert Measured.from_json(m.to_json()) == m
    native = Measured(stack_peak=900, heap_used=16, probe_board="mps2_an386")
    assert Measured.from_json(native.to_json()) == native
    assert Measured.from_json("{not json") is None
    assert Measured.from_json(json.dumps({"arena_min": 3024})) is None  # an older cache file


def test_sizes_come_from_the_measurement_unless_the_board_names_them() -> None:
    board = load_board("nucleo_f446re")
    assert board.stack_size is None and board.heap_size is None
    m = Measured(stack_peak=1104, heap_used=0, probe_board="mps2_an386")
    sizes = memory_sizes(board, m)
    assert (sizes.stack, sizes.heap, sizes.stack_source) == (1384, 0, "measured")
    fixed = dataclasses.replace(board, stack_size=4096, heap_size=1024)
    sizes = memory_sizes(fixed, m)
    assert (sizes.stack, sizes.heap, sizes.stack_source) == (4096, 1024, "board")
    sizes = memory_sizes(board, None)
    assert (sizes.stack, sizes.heap, sizes.stack_source) == (
        DEFAULT_STACK_SIZE, DEFAULT_HEAP_SIZE, "default")


def test_a_board_stack_below_the_measured_peak_is_over_budget() -> None:
    board = dataclasses.replace(load_board("nucleo_f446re"), stack_size=1024)
    with pytest.raises(OverBudgetError) as info:
        memory_sizes(board, Measured(stack_peak=1104, heap_used=0, probe_board="mps2_an386"))
    assert "1,104 bytes of stack" in info.value.message
    assert "reserves 1,024" in info.value.message
    assert "1,384" in (info.value.hint or "")
    heap_board = dataclasses.replace(load_board("nucleo_f446re"), heap_size=0)
    with pytest.raises(OverBudgetError, match="40 bytes of heap"):
        memory_sizes(heap_board, Measured(stack_peak=100, heap_used=40, probe_board="x"))


def test_run_probe_reads_the_painted_stack_of_a_real_firmware(bringup_elf: Path) -> None:
    """The bring-up firmware answers `memory` like every tinygen firmware: its stack peak after
    one inference is real (above the harness's own frames, below the reserved stack)."""
    found = run_probe(load_board("mps2_an386"), bringup_elf, 490)
    assert 200 < found.stack_peak < DEFAULT_STACK_SIZE
    assert found.heap_used == 0
    assert found.arena_min is None
    assert found.probe_board == "mps2_an386"


def _symbol(elf: Path, name: str) -> int:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return next(int(line.split()[0], 16) for line in out.splitlines()
                if line.split()[-1] == name)


def test_a_model_build_links_the_stack_it_measured(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A native build of kws_tiny for a board without stack_size: the probe measures (an empty
    cache, so it really runs), the linked stack is the sized one, and the final firmware's own
    peak stays inside it."""
    require_tools()
    monkeypatch.setenv("TINYGEN_CACHE", str(tmp_path / "cache"))
    board = load_board("mps2_an386")
    result = build_firmware(BuildOptions(board=board, out_dir=tmp_path / "fw",
                                         model_path=MODELS / "kws_tiny.tflite",
                                         runtime="native"))
    assert result.stack_peak is not None and result.stack_source == "measured"
    assert list((tmp_path / "cache" / "probe").glob("*.json")), "the probe ran and was cached"
    assert result.stack_size == sized_stack(result.stack_peak)
    assert result.heap_size == 0
    stack = _symbol(result.elf, "__stack_end__") - _symbol(result.elf, "__stack_start__")
    assert stack == result.stack_size
    assert _symbol(result.elf, "__heap_end__") == _symbol(result.elf, "__heap_start__")
    final = run_probe(board, result.elf, 490)
    assert final.stack_peak <= result.stack_peak + 64  # the same code, linked elsewhere
    assert final.stack_peak < result.stack_size


def test_without_qemu_a_native_build_links_the_default_stack(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A native build for a real board on a machine without QEMU still builds (nothing else
    needs QEMU); its stack and heap are the defaults, and it says it did not measure. (A
    measurement already in the cache would still be used: an empty cache here.)"""
    require_tools()
    monkeypatch.setenv("TINYGEN_CACHE", str(tmp_path / "cache"))
    import tinygen.runner.emulator as emulator

    real_which = emulator.shutil.which
    monkeypatch.setattr(emulator.shutil, "which",
                        lambda name: None if name == emulator.QEMU else real_which(name))
    messages: list[str] = []
    result = build_firmware(BuildOptions(board=load_board("nucleo_f446re"),
                                         out_dir=tmp_path / "fw",
                                         model_path=MODELS / "kws_tiny.tflite",
                                         runtime="native"), progress=messages.append)
    assert result.stack_peak is None and result.stack_source == "default"
    assert (result.stack_size, result.heap_size) == (DEFAULT_STACK_SIZE, DEFAULT_HEAP_SIZE)
    assert any("qemu-system-arm is not installed: the stack is not measured" in m
               for m in messages)


def test_an_energy_mode_build_is_probed_in_performance_mode(tmp_path: Path) -> None:
    """The probe must answer `infer` with timestamps: an --energy model build still measures its
    stack (the probe firmware is built in performance mode), and the firmware it links is the
    energy-mode one."""
    require_tools()
    result = build_firmware(BuildOptions(board=load_board("nucleo_f446re"),
                                         out_dir=tmp_path / "fw",
                                         model_path=MODELS / "ad_tiny.tflite", runtime="native",
                                         energy=True))
    assert result.stack_peak is not None and result.stack_source == "measured"
    config = (tmp_path / "fw" / "src" / "tinygen_config.h").read_text()
    assert "#define EE_CFG_ENERGY_MODE 1" in config
