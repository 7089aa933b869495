"""``tinygen flash``: the command lines for pyocd and openocd, the choice of tool, and the errors
when no tool is installed, the board names no target, or the ELF is for another board. No probe
is connected here, so nothing is programmed: the commands are checked as data."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.cli import main
from tinygen.errors import BoardError, DeviceError, InputError, ToolMissingError
from tinygen.firmware import build_firmware
from tinygen.flash import (
    _explain_failure,
    check_elf_for_board,
    choose_tool,
    flash_command,
    flash_firmware,
    planned_command,
)

needs_gcc = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                               reason="arm-none-eabi-gcc is not installed")


def _which(*installed: str) -> Callable[[str], str | None]:
    """shutil.which over a chosen set of tool names: the choice logic, not a fake tool."""
    return lambda name: f"/opt/bin/{name}" if name in installed else None


def test_pyocd_command() -> None:
    board = load_board("nucleo_f767zi")
    elf = Path("build/x/firmware.elf")
    assert flash_command("pyocd", board, elf) == [
        "pyocd", "flash", "--target", "stm32f767zitx", "build/x/firmware.elf"]
    assert flash_command("pyocd", board, elf, probe="0668FF", exe="/usr/bin/pyocd") == [
        "/usr/bin/pyocd", "flash", "--target", "stm32f767zitx", "--uid", "0668FF",
        "build/x/firmware.elf"]


def test_openocd_command_loads_the_interface_before_a_target_script() -> None:
    elf = Path("/tmp/with space/firmware.elf")
    assert flash_command("openocd", load_board("nucleo_f767zi"), elf) == [
        "openocd", "-f", "board/st_nucleo_f7.cfg",
        "-c", "program {/tmp/with space/firmware.elf} verify reset exit"]
    assert flash_command("openocd", load_board("nucleo_u575zi"), elf, probe="X1") == [
        "openocd", "-f", "interface/stlink.cfg", "-f", "target/stm32u5x.cfg",
        "-c", "adapter serial X1", "-c", "program {/tmp/with space/firmware.elf} verify reset exit"]


def test_tool_choice() -> None:
    board = load_board("nrf52840dk")
    assert choose_tool(board, None, _which("pyocd", "openocd")) == ("pyocd", "/opt/bin/pyocd")
    assert choose_tool(board, None, _which("openocd")) == ("openocd", "/opt/bin/openocd")
    assert choose_tool(board, "openocd", _which("pyocd", "openocd"))[0] == "openocd"


def test_no_tool_installed_names_what_to_install() -> None:
    with pytest.raises(ToolMissingError) as info:
        choose_tool(load_board("nucleo_h743zi2"), None, _which())
    assert info.value.message == "no flashing tool: pyocd or openocd is not installed"
    assert info.value.hint is not None
    assert "pip install pyocd" in info.value.hint and "apt-get install openocd" in info.value.hint


def test_emulated_board_has_no_probe() -> None:
    with pytest.raises(BoardError) as info:
        choose_tool(load_board("mps2_an386"), None, _which("pyocd"))
    assert "emulated by QEMU" in info.value.message
    assert info.value.hint is not None and "tinygen run" in info.value.hint


def test_requested_tool_without_target(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "boards" / "nucleo_f446re.yaml").read_text()
    path = tmp_path / "no_openocd.yaml"
    path.write_text(text.replace(", openocd_config: board/st_nucleo_f4.cfg", ""))
    with pytest.raises(BoardError, match="debug: no openocd_config for openocd"):
        choose_tool(load_board(str(path)), "openocd", _which("openocd"))


def test_failure_messages() -> None:
    board = load_board("nucleo_f767zi")
    no_probe = _explain_failure("pyocd", "0001 C No connected debug probes\n", board)
    assert isinstance(no_probe, DeviceError) and "found no debug probe" in no_probe.message
    assert no_probe.hint is not None and "connect the board's debug USB port" in no_probe.hint
    other = _explain_failure("openocd", "Error: target voltage may be too low\n", board)
    assert other.message == ("openocd could not flash nucleo_f767zi: Error: target voltage may "
                             "be too low")


@pytest.fixture(scope="module")
def f767_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    out = tmp_path_factory.mktemp("flash") / "fw"
    return build_firmware(BuildOptions(board=load_board("nucleo_f767zi"), out_dir=out)).elf


@needs_gcc
def test_elf_checks(f767_elf: Path, tmp_path: Path) -> None:
    check_elf_for_board(f767_elf, load_board("nucleo_f767zi"))
    with pytest.raises(InputError, match="was built for board nucleo_f767zi, not nrf52840dk"):
        check_elf_for_board(f767_elf, load_board("nrf52840dk"))
    text = tmp_path / "notes.elf"
    text.write_text("not an ELF")
    with pytest.raises(InputError, match="is not an ELF file"):
        check_elf_for_board(text, load_board("nucleo_f767zi"))
    with pytest.raises(InputError, match="does not exist"):
        check_elf_for_board(tmp_path / "none.elf", load_board("nucleo_f767zi"))


@needs_gcc
def test_flash_without_tools_is_exit_8(f767_elf: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither pyocd nor openocd
    with pytest.raises(ToolMissingError):
        flash_firmware(load_board("nucleo_f767zi"), f767_elf)
    code = main(["flash", "--board", "nucleo_f767zi", str(f767_elf)])
    err = capsys.readouterr().err
    assert code == 8
    assert "error: no flashing tool: pyocd or openocd is not installed" in err
    assert "hint: install it: pip install pyocd" in err and "Traceback" not in err


@needs_gcc
def test_dry_run_prints_the_command(f767_elf: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["flash", "--board", "nucleo_f767zi", str(f767_elf), "--dry-run",
                 "--tool", "openocd"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("openocd -f board/st_nucleo_f7.cfg -c 'program {")
    assert main(["flash", "--board", "nucleo_f767zi", str(f767_elf), "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tool"] == "pyocd" and data["command"][:4] == [
        "pyocd", "flash", "--target", "stm32f767zitx"]
    assert planned_command(load_board("nucleo_f767zi"), f767_elf)[0] == "pyocd"


@needs_gcc
def test_flash_cli_errors(f767_elf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flash", "--board", "mps2_an386", str(f767_elf)]) == 3
    assert "was built for board nucleo_f767zi, not mps2_an386" in capsys.readouterr().err
    assert main(["flash", "--board", "nrf52840dk", str(f767_elf), "--dry-run"]) == 3
    assert "was built for board nucleo_f767zi, not nrf52840dk" in capsys.readouterr().err


@needs_gcc
def test_an_f446_firmware_is_not_flashed_onto_an_f767(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # Both flash at 0x08000000 and hold the F446's image: only the board's name tells them apart.
    f446 = build_firmware(BuildOptions(board=load_board("nucleo_f446re"),
                                       out_dir=tmp_path / "fw")).elf
    assert main(["flash", "--board", "nucleo_f767zi", str(f446), "--dry-run"]) == 3
    err = capsys.readouterr().err
    assert "was built for board nucleo_f446re, not nucleo_f767zi" in err
    assert "hint: build it for this board (tinygen build --board nucleo_f767zi" in err
