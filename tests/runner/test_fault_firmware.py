"""Firmwares that fault on purpose, in QEMU: the session ends at the fault (not at a timeout)
with exit 6 and a message naming the function, the source line and the fault; a stack
overflow is caught and named, on every emulated core (M3, M4, M7, M33 and the STM32F4)."""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commands.cli_support import needs_qemu_and_gcc, run_cli
from tests.runner.faulty import PORT, build_faulty
from tinygen.board import load_board
from tinygen.bringup import BringupRuntime
from tinygen.errors import BuildError, ExitCode, OverBudgetError
from tinygen.resources import sconstruct_path
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.fault import DeviceFaultError
from tinygen.runner.probe import BOOT_TIMEOUT, run_probe
from tinygen.runner.protocol import DutClient
from tinygen.scons import run_scons

pytestmark = needs_qemu_and_gcc

BOARDS = ["mps2_an385", "mps2_an386", "mps2_an500", "mps2_an505", "netduinoplus2"]
Build = Callable[[str, str], Path]


def _line_of(text: str) -> int:
    """The line of faulty_th_model.c that holds ``text``."""
    lines = PORT.read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


STORE = f"store_through_bad_pointer (th_model.c:{_line_of('*g_bad_pointer = value;')})"


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """``faulty(board, fault)``: the faulting firmware's ELF, built once per module."""
    built: dict[tuple[str, str], Path] = {}

    def build(board: str, fault: str) -> Path:
        if (board, fault) not in built:
            folder = tmp_path_factory.mktemp(f"faulty-{board}-{fault}")
            built[board, fault] = build_faulty(folder, board, fault)
        return built[board, fault]

    return build


def _smoke(capsys: pytest.CaptureFixture[str], board: str, elf: Path) -> tuple[int, str]:
    code, _, err = run_cli(capsys, "bench", "--board", board, "--elf", str(elf), "--mode",
                           "smoke")
    return code, err


@pytest.mark.parametrize("board", BOARDS)
def test_a_bus_fault_names_the_function_the_line_and_the_access(
        capsys: pytest.CaptureFixture[str], faulty: Build, board: str) -> None:
    code, err = _smoke(capsys, board, faulty(board, "infer_write"))
    assert code == ExitCode.DEVICE, err
    assert (f"the firmware faulted in {STORE}: precise bus fault writing 0x86667fe4"
            in err), err


@pytest.mark.parametrize("board", BOARDS)
def test_a_stack_overflow_is_caught_and_named(capsys: pytest.CaptureFixture[str],
                                              faulty: Build, board: str) -> None:
    code, err = _smoke(capsys, board, faulty(board, "recursion"))
    assert code == ExitCode.DEVICE, err
    assert re.search(r"stack overflow: the firmware ran out of its 8,192-byte stack", err), err


@pytest.mark.parametrize("board", ["mps2_an386", "mps2_an505"])
def test_a_frame_larger_than_the_stack_is_an_overflow(capsys: pytest.CaptureFixture[str],
                                                      faulty: Build, board: str) -> None:
    code, err = _smoke(capsys, board, faulty(board, "huge_frame"))
    assert code == ExitCode.DEVICE, err
    assert "stack overflow" in err, err


def test_a_call_through_a_null_pointer_names_the_caller(capsys: pytest.CaptureFixture[str],
                                                        faulty: Build) -> None:
    code, err = _smoke(capsys, "mps2_an386", faulty("mps2_an386", "null_call"))
    assert code == ExitCode.DEVICE, err
    assert re.search(r"the firmware faulted at 0x00000000, called from \w+ \(\w+\.c:\d+\): "
                     r"invalid state", err), err


def test_a_lockup_is_reported_with_the_code_qemu_stopped_in(
        capsys: pytest.CaptureFixture[str], faulty: Build) -> None:
    code, err = _smoke(capsys, "mps2_an386", faulty("mps2_an386", "lockup"))
    assert code == ExitCode.DEVICE, err
    assert "the emulated core locked up (a fault while no fault handler could run" in err, err
    assert f"in {STORE}: QEMU said 'Lockup: can't escalate 3 to HardFault" in err, err


def test_a_fault_while_booting_ends_the_wait_for_the_banner(faulty: Build) -> None:
    """The boot wait is the probe's 300 s; the fault ends it, not the timeout."""
    elf = faulty("mps2_an386", "boot_write")
    with QemuTransport(load_board("mps2_an386"), elf) as uart:
        dut = DutClient(uart, elf=elf)
        with pytest.raises(DeviceFaultError) as err:
            dut.start(boot_timeout=BOOT_TIMEOUT)
    assert err.value.message == (f"the firmware faulted in {STORE}: precise bus fault writing "
                                 "0x86667fe4")
    assert err.value.fault is not None and err.value.fault.handler == "BusFault"


@pytest.mark.parametrize("fault", ["boot_write", "infer_write"])
def test_the_probe_reports_the_fault(faulty: Build, fault: str) -> None:
    board = load_board("mps2_an386")
    with pytest.raises(DeviceFaultError) as err:
        run_probe(board, faulty("mps2_an386", fault), 490)
    assert STORE in err.value.message and err.value.exit_code == ExitCode.DEVICE


def test_a_stack_overflow_in_the_probe_is_over_budget(faulty: Build) -> None:
    board = load_board("mps2_an386")
    with pytest.raises(OverBudgetError) as err:
        run_probe(board, faulty("mps2_an386", "recursion"), 490)
    assert err.value.message.startswith("the firmware overflowed the probe's 8,192-byte stack: "
                                        "stack overflow: ")
    assert "stack_size" in (err.value.hint or "")


def test_the_probe_turns_a_boot_error_into_a_build_error(faulty: Build) -> None:
    board = load_board("mps2_an386")
    elf = faulty("mps2_an386", "boot_error")
    with pytest.raises(BuildError, match="the tensor arena is too small") as given:
        run_probe(board, elf, 490)
    assert "leave out --arena-size" in (given.value.hint or "")
    with pytest.raises(OverBudgetError, match="larger than the 4,096 bytes") as searched:
        run_probe(board, elf, 490, searched=4096)
    assert "--arena-size" not in (searched.value.hint or "")


def test_the_armv6m_handlers_compile_without_warnings(tmp_path: Path) -> None:
    """No emulated Cortex-M0+ here: its fault handler (no CFSR, the guard pattern) is compiled
    for an MPS2 board with its core swapped, warnings being errors of this test."""
    board = dataclasses.replace(load_board("mps2_an385"), core="cortex-m0plus", fpu="none")
    project = BringupRuntime("kws01").render(board, 0)
    project.write(tmp_path)
    shutil.copy(sconstruct_path(), tmp_path / "SConstruct")
    (tmp_path / "tinygen_local.json").write_text("{}\n")
    assert run_scons(tmp_path, total=None, label="firmware", progress=None) == []
    assert "-mcpu=cortex-m0plus" in (tmp_path / "tinygen_project.json").read_text()
