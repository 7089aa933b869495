"""``tinygen profile`` end to end: the profile firmware built with the real compiler and run in
QEMU, its operator times against its whole inference and against the normal firmware's; the
same firmware's session over a serial port, to the harness's host build."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile

from tests.profile.support import KWS_TINY, KWS_TINY_OPS
from tests.tflm.support import tflm_unreachable_reason
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.cli import main
from tinygen.firmware import build_firmware
from tinygen.model import load_model
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.protocol import DutClient

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                       reason="arm-none-eabi-gcc is not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="no qemu-system-arm"),
]
BOARD = "mps2_an386"
# What the operators' sum may miss of the whole inference: the time between operators (the
# interpreter's loop for TFLM, one timer reading for native) and the timer's resolution.
BETWEEN_OPERATORS = 0.005
# How much more a profile build's inference may take than the normal build's: the timing calls.
PROFILE_OVERHEAD = 0.01


def _profile(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["profile", "--board", BOARD, "--model", str(KWS_TINY), *argv])
    return code, out.getvalue()


def _run(folder: Path, runtime: str) -> dict[str, Any]:
    code, out = _profile("--runtime", runtime, "--build-dir", str(folder / "fw"), "--json",
                         "--svg", str(folder / "profile.svg"))
    assert code == 0, out
    document: dict[str, Any] = json.loads(out)
    return document


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    folder = tmp_path_factory.mktemp("native_profile")
    return _run(folder, "native"), folder


def _check_whole(doc: dict[str, Any]) -> None:
    """Every operator of the model, in order, with a time; their sum against the whole."""
    info = load_model(KWS_TINY)
    ops = doc["operators"]
    assert len(ops) == len(info.operators) == KWS_TINY_OPS
    assert [(o["index"], o["type"]) for o in ops] == [(op.index, op.name)
                                                      for op in info.operators]
    assert all(o["ticks"] > 0 for o in ops)
    assert doc["unit"] == "instructions" and doc["clock_hz"] == 25_000_000
    per_tick = 1e9 / doc["clock_hz"]  # -icount shift=0: an instruction a nanosecond
    assert [o["time"] for o in ops] == [round(o["ticks"] * per_tick) for o in ops]
    total = doc["total"]
    summed = sum(o["ticks"] for o in ops)
    assert summed <= total["ticks"] <= summed * (1 + BETWEEN_OPERATORS)
    # The `infer` window around the same inference, on the microsecond clock (+ th_pre/post).
    window_ticks = total["window_us"] * doc["clock_hz"] / 1e6
    assert total["ticks"] <= window_ticks + doc["clock_hz"] / 1e6
    assert window_ticks <= total["ticks"] * (1 + BETWEEN_OPERATORS)
    assert sum(o["share"] for o in ops) == pytest.approx(summed / total["ticks"], abs=1e-4)


def test_native_times_every_operator(native: tuple[dict[str, Any], Path]) -> None:
    doc, _ = native
    assert doc["runtime"] == "native" and doc["kernels"] == "native"
    _check_whole(doc)


def test_native_profile_costs_little_and_the_normal_build_has_none_of_it(
        native: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    doc, folder = native
    board = load_board(BOARD)
    normal = build_firmware(BuildOptions(board=board, out_dir=tmp_path / "normal",
                                         model_path=KWS_TINY, runtime="native"))
    with QemuTransport(board, normal.elf) as uart:
        client = DutClient(uart)
        client.start(10)
        client.load(bytes(490))
        window = client.infer(1, 1)
    # The whole inference timed operator by operator against the normal firmware's.
    profiled_us = doc["total"]["ticks"] / (doc["clock_hz"] / 1e6)
    assert window.elapsed_us * (1 - BETWEEN_OPERATORS) <= profiled_us
    assert profiled_us <= window.elapsed_us * (1 + PROFILE_OVERHEAD)
    profile_elf = folder / "fw" / "firmware.elf"
    assert _profile_symbols(profile_elf) >= {"ee_profile_start", "ee_profile_op_end",
                                             "ee_profile_stop", "th_profile_ticks",
                                             "board_ticks"}
    assert b"opprofile" in profile_elf.read_bytes()
    assert _profile_symbols(normal.elf) == set()
    assert b"opprofile" not in normal.elf.read_bytes()


def _profile_symbols(elf: Path) -> set[str]:
    wanted = {"ee_profile_start", "ee_profile_op_begin", "ee_profile_op_end", "ee_profile_stop",
              "board_ticks", "th_profile_ticks"}
    with elf.open("rb") as stream:
        table = ELFFile(stream).get_section_by_name(".symtab")
        assert table is not None
        return {s.name for s in table.iter_symbols() if s.name in wanted}


def test_the_picture_has_a_bar_per_operator(native: tuple[dict[str, Any], Path]) -> None:
    _, folder = native
    root = ET.parse(folder / "profile.svg").getroot()
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")
            if r.find("{http://www.w3.org/2000/svg}title") is not None]
    assert len(bars) == KWS_TINY_OPS
    widths = [float(b.attrib["width"]) for b in bars]
    assert max(widths) == 420.0 and min(widths) > 0


def test_over_a_serial_port(native: tuple[dict[str, Any], Path], board_port: str) -> None:
    _, folder = native
    code, out = _profile("--elf", str(folder / "fw" / "firmware.elf"), "--port", board_port,
                         "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["transport"]["kind"] == "serial" and doc["unit"] == "cycles"
    # host_port.c: operator i takes 1000 * (i + 1) ticks, a cycle each on a board.
    assert [o["time"] for o in doc["operators"]] == [1000 * (i + 1)
                                                     for i in range(KWS_TINY_OPS)]


def test_tflm_times_every_operator_through_its_profiler(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    reason = tflm_unreachable_reason()
    if reason:
        pytest.skip(reason)
    doc = _run(tmp_path_factory.mktemp("tflm_profile"), "tflm")
    assert doc["runtime"] == "tflm" and doc["kernels"] == "cmsis-nn"
    _check_whole(doc)
