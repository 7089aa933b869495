"""``tinygen run``: the firmware's UART on stdin/stdout, QEMU stopped at the end."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.cli_support import needs_qemu_and_gcc
from tests.processes import qemu_children
from tinygen.cli import main
from tinygen.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]

pytestmark = needs_qemu_and_gcc


def _tinygen_run(elf: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tinygen", "run", "--board", "mps2_an386", str(elf), *extra],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def test_piped_commands_are_answered_then_qemu_stops(elf: Path) -> None:
    proc = _tinygen_run(elf, "--linger", "0.5")
    out, err = proc.communicate("name%\nprofile%bogus%", timeout=60)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    # The boot stamp is taken at the first microsecond tick (deterministic under -icount).
    assert lines[1].startswith("m-lap-us-") and lines[1][9:].isdigit()
    assert [lines[0], *lines[2:]] == [
        "m-timestamp-mode-performance", "m-init-done", "m-ready",
        "m-name-dut-[tinygen bring-up]", "m-ready",
        "m-profile-[ULPMark for tinyML Firmware V0.0.1]", "m-model-[kws01]", "m-ready",
        "e-[Unknown command: bogus]", "m-ready"]


def test_ctrl_c_ends_the_session(elf: Path) -> None:
    proc = _tinygen_run(elf)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "m-timestamp-mode-performance\n"  # QEMU is running
    qemu = qemu_children(proc.pid)
    assert qemu
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in qemu)  # stopped and reaped


def test_a_board_without_emulator(capsys: pytest.CaptureFixture[str], elf: Path) -> None:
    code = main(["run", "--board", "nucleo_l4r5zi", str(elf)])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT
    assert "is not emulated" in err and "miniterm" in err


@pytest.mark.parametrize("linger", ["inf", "nan", "-1", "1e9"])
def test_a_linger_that_never_ends_is_refused(capsys: pytest.CaptureFixture[str], elf: Path,
                                             linger: str) -> None:
    code = main(["run", "--board", "mps2_an386", str(elf), f"--linger={linger}"])
    assert code == ExitCode.USAGE
    assert "argument --linger" in capsys.readouterr().err


def test_another_boards_firmware_is_refused(capsys: pytest.CaptureFixture[str],
                                            elf: Path) -> None:
    code = main(["run", "--board", "mps2_an505", str(elf)])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT
    assert "was built for board mps2_an386, not mps2_an505" in err and "hint: " in err
