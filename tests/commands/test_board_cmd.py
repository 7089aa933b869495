"""``tinygen board new`` and ``tinygen board show``: board files written from a known board or
from datasheet numbers load, and build the bring-up firmware with no code change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from elftools.elf.elffile import ELFFile

from tests.commands.cli_support import needs_gcc, run_cli
from tinygen.board import load_board
from tinygen.build_options import BuildOptions
from tinygen.firmware import build_firmware


def _builds_clean(path: Path, tmp_path: Path) -> None:
    board = load_board(str(path))
    for energy in (False, True):
        result = build_firmware(BuildOptions(board=board, out_dir=tmp_path / f"fw-{energy}",
                                             energy=energy))
        assert result.warnings == ()
        assert all(r.used <= r.size for r in result.audit.regions)
        with result.elf.open("rb") as f:
            vectors = ELFFile(f).get_section_by_name(".vectors")
            assert vectors["sh_addr"] == board.region(board.code_region).origin


@needs_gcc
def test_new_from_datasheet_numbers_builds(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    # STM32F411RE (DS10314): Cortex-M4F, 512 KB flash, 128 KB SRAM, 100 MHz; NUCLEO-F411RE's
    # virtual COM port on USART2 (PA2/PA3), Arduino D2 on PA10.
    out = tmp_path / "my_f411.yaml"
    code, stdout, err = run_cli(
        capsys, "board", "new", "my_f411", "--mcu", "STM32F411RE", "--core", "cortex-m4",
        "--flash", "512K", "--ram", "128K", "--clock", "100MHz", "--uart", "USART2",
        "--timestamp-pin", "PA10", "--source", "ST DS10314 rev 7, figure 14 and table 9",
        "--out", str(out))
    assert code == 0, err
    assert f"wrote {out}" in stdout and "PLL M=8 N=100 /2" in stdout
    raw = yaml.safe_load(out.read_text())
    assert raw["family"] == "stm32f4" and raw["fpu"] == "fpv4-sp-d16"
    assert raw["uart"] == {"driver": "stm32_usart", "instance": "USART2", "base": 0x40004400,
                           "baud": 115200, "tx": "PA2", "rx": "PA3", "af": 7}
    assert raw["timestamp_gpio"] == {"port": "A", "pin": 10}
    assert raw["sources"] == ["ST DS10314 rev 7, figure 14 and table 9"]
    assert out.read_text().startswith("# my_f411: written by 'tinygen board new'")
    _builds_clean(out, tmp_path)


@needs_gcc
def test_new_like_a_known_board_builds(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    # STM32F756ZG on a Nucleo-144 layout: as disco_f746, with another UART and the ST-LINK clock.
    out = tmp_path / "f756.yaml"
    code, _, err = run_cli(
        capsys, "board", "new", "my_f756", "--like", "disco_f746", "--mcu", "STM32F756ZG",
        "--hse", "8MHz", "--hse-bypass", "--uart", "USART3", "--tx", "PD8", "--rx", "PD9",
        "--out", str(out))
    assert code == 0, err
    board = load_board(str(out))
    assert board.clock is not None and board.clock.pll is not None
    assert (board.clock.pll.m, board.clock.pll.n) == (4, 216)
    assert board.uart.clock_hz == 54_000_000  # USART3 on APB1
    assert board.pyocd_target is None, "the probe target named the old part"
    assert "derived from boards/disco_f746.yaml by tinygen board new" in board.sources
    _builds_clean(out, tmp_path)


@needs_gcc
def test_new_nrf52_and_copy_of_an_emulated_board(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    nrf = tmp_path / "nrf52832.yaml"
    assert run_cli(capsys, "board", "new", "my_nrf52832", "--mcu", "nRF52832", "--core",
                "cortex-m4", "--flash", "512K", "--ram", "64K", "--clock", "64MHz",
                "--timestamp-pin", "P0.17", "--out", str(nrf))[0] == 0
    assert load_board(str(nrf)).uart.tx == "P0.06"
    _builds_clean(nrf, tmp_path / "nrf")
    copy = tmp_path / "netduino_copy.yaml"
    assert run_cli(capsys, "board", "new", "my_netduino", "--like", "netduinoplus2",
                "--out", str(copy))[0] == 0
    board = load_board(str(copy))
    assert board.emulator is None and board.timer == "dwt", "a copy is real hardware"


@pytest.mark.parametrize(("argv", "code", "fragment"), [
    (["--mcu", "STM32F411RE", "--core", "cortex-m4"], 2,
     "a new board needs --flash, --ram, --clock, or --like BOARD"),
    (["--mcu", "GD32VF103", "--core", "cortex-m4", "--flash", "128K", "--ram", "32K",
      "--clock", "100MHz"], 3, "no family tinygen knows matches MCU 'GD32VF103'"),
    (["--mcu", "STM32F411RE", "--core", "cortex-m4", "--flash", "512K", "--ram", "128K",
      "--clock", "250MHz"], 3, "clock_hz: 250 MHz is above the STM32F411RE maximum of 100 MHz"),
    (["--mcu", "STM32F411RE", "--core", "cortex-m4", "--flash", "512K", "--ram", "128K",
      "--clock", "100MHz", "--uart", "UART9"], 3, "stm32f4 has no UART 'UART9'"),
    (["--like", "nucleo_h743zi2", "--ram", "256K"], 3,
     "--ram: nucleo_h743zi2 has 2 ram regions"),
    (["--like", "disco_f746", "--clock", "fast"], 2, "'fast' is not a frequency"),
])
def test_new_errors(argv: list[str], code: int, fragment: str,
                    capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    got, _, err = run_cli(capsys, "board", "new", "x_board", *argv, "--out", str(out))
    assert got == code
    assert fragment in err
    assert not out.exists(), "nothing is written when the board is invalid"


def test_new_refuses_to_overwrite(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "b.yaml"
    out.write_text("keep me\n")
    code, _, err = run_cli(capsys, "board", "new", "b", "--like", "disco_f746", "--out", str(out))
    assert code == 3 and "exists" in err and out.read_text() == "keep me\n"
    assert run_cli(capsys, "board", "new", "b", "--like", "disco_f746", "--out", str(out),
                "--force")[0] == 0


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "board", "show", "nucleo_l4r5zi")
    assert code == 0
    assert "HSI 16 MHz -> PLL M=2 N=30 /2 (VCO input 8 MHz, VCO 240 MHz) = 120 MHz" in out
    assert "LPUART1 (stm32_lpuart) at 0x40008000, clock 16 MHz" in out
    code, out, _ = run_cli(capsys, "board", "show", "nucleo_h743zi2", "--json")
    data = json.loads(out)
    assert data["clock"]["pll"] == {"m": 1, "n": 120, "divider": 2, "ref_hz": 8_000_000,
                                    "vco_hz": 960_000_000}
    assert data["clock"]["hclk_hz"] == 240_000_000 and data["uart"]["clock_hz"] == 120_000_000


def test_board_without_action_is_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "board")
    assert code == 2 and "new or show" in err


def test_new_quotes_values_with_yaml_syntax(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    # Issue 16: these gave a YAML traceback; they are written quoted and load back as given.
    out = tmp_path / "q.yaml"
    odd = {"vendor": "*x", "description": "a: {b} [c], #d & 'e' \"f\" | g > h % @i `j`",
           "pyocd_target": "@target", "openocd_config": "!cfg"}
    code, _, err = run_cli(
        capsys, "board", "new", "q_board", "--like", "disco_f746", "--vendor", odd["vendor"],
        "--description", odd["description"], "--pyocd-target", odd["pyocd_target"],
        "--openocd-config", odd["openocd_config"], "--source", "- x: *y", "--out", str(out))
    assert code == 0, err
    board = load_board(str(out))
    assert (board.vendor, board.description, board.pyocd_target, board.openocd_config) == (
        odd["vendor"], odd["description"], odd["pyocd_target"], odd["openocd_config"])
    assert board.sources[0] == "- x: *y"


@pytest.mark.parametrize(("option", "value"), [
    ("--description", "two\nlines"), ("--vendor", "tab\there"), ("--description", "x\n- y: *z"),
])
def test_new_refuses_text_that_is_not_one_line(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path, option: str, value: str) -> None:
    out = tmp_path / "n.yaml"
    code, _, err = run_cli(capsys, "board", "new", "n_board", "--like", "disco_f746", option,
                           value, "--out", str(out))
    assert code == 3
    assert "must be one line of printable text" in err and f"fix {option}" in err
    assert not out.exists()


@pytest.mark.parametrize(("fixture", "fragment"), [
    ("invalid_baud_zero.yaml", "uart.baud: must be >= 1, not 0"),
    ("invalid_float_origin.yaml", "memory[1].origin: must be a whole number"),
    ("invalid_alias_bomb.yaml", "not valid YAML (line 16): anchor &a0 is not allowed"),
    ("invalid_not_utf8.yaml", "not UTF-8 text"),
])
def test_bad_board_files_exit_3(capsys: pytest.CaptureFixture[str], fixture: str,
                                fragment: str) -> None:
    path = Path(__file__).parents[1] / "data" / "boards" / fixture
    for argv in (["board", "show", str(path)], ["board", "new", "c", "--like", str(path),
                                                "--out", "/nonexistent/c.yaml"]):
        code, _, err = run_cli(capsys, *argv)
        assert code == 3 and f"{path}: {fragment}" in err and "hint:" in err


def test_board_path_that_is_a_folder_or_a_loop(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    folder = tmp_path / "f.yaml"
    folder.mkdir()
    loop = tmp_path / "l.yaml"
    loop.symlink_to(loop)
    for path, what in ((folder, "is a folder"), (loop, "is a symbolic link loop")):
        code, _, err = run_cli(capsys, "board", "show", str(path))
        assert code == 3 and f"board file {path} {what}" in err and "does not exist" not in err


def test_new_writes_utf8_whatever_the_locale(tmp_path: Path) -> None:
    # Board files are UTF-8 whatever the locale: under an ASCII locale a board with a non-ASCII
    # value is read and its copy written as UTF-8 (reading it gave a UnicodeDecodeError).
    like = tmp_path / "like.yaml"
    like.write_text((Path(__file__).parents[1] / "data" / "boards" / "valid_minimal.yaml")
                    .read_text().replace("vendor: t", "vendor: Café µ"), encoding="utf-8")
    out = tmp_path / "copy.yaml"
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    result = subprocess.run([sys.executable, "-X", "utf8=0", "-m", "tinygen", "board", "new",
                             "copy_b", "--like", str(like), "--out", str(out)],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert load_board(str(out)).vendor == "Café µ"
