"""The build pipeline with the real cross compiler and SCons (bring-up firmware: no TFLM)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinygen.audit.layout import layout_problems
from tinygen.board import list_board_names, load_board
from tinygen.build_options import BuildOptions
from tinygen.errors import OverBudgetError, ToolMissingError
from tinygen.firmware import build_firmware

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                reason="arm-none-eabi-gcc is not installed")


@pytest.mark.parametrize("name", list_board_names())
@pytest.mark.parametrize("energy", [False, True])
def test_bringup_builds_clean_for_every_board(name: str, energy: bool, tmp_path: Path) -> None:
    board = load_board(name)
    result = build_firmware(BuildOptions(board=board, out_dir=tmp_path / "fw", energy=energy))
    assert result.warnings == ()
    for suffix in ("elf", "bin", "hex", "map"):
        assert (tmp_path / "fw" / f"firmware.{suffix}").is_file()
    assert layout_problems(tmp_path / "fw" / "firmware.elf", board) == []
    assert all(r.used <= r.size for r in result.audit.regions)
    assert not list(tmp_path.glob("fw.*")), "no .partial/.failed folders left behind"


def test_over_budget_leaves_output_untouched(tmp_path: Path) -> None:
    board = load_board("mps2_an386")
    out = tmp_path / "fw"
    build_firmware(BuildOptions(board=board, out_dir=out))
    before = (out / "firmware.elf").read_bytes()
    with pytest.raises(OverBudgetError) as info:
        build_firmware(BuildOptions(board=board, out_dir=out, budget_flash=1024, energy=True))
    assert "flash" in info.value.message
    assert (out / "firmware.elf").read_bytes() == before
    assert (tmp_path / "fw.failed" / "firmware.elf").is_file()
    assert not (tmp_path / "fw.partial").exists()


def test_missing_toolchain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError, match="arm-none-eabi-gcc") as info:
        build_firmware(BuildOptions(board=load_board("mps2_an386"), out_dir=tmp_path / "fw"))
    assert info.value.hint is not None and "apt-get install" in info.value.hint
    assert not (tmp_path / "fw").exists()


def test_compile_error_carries_the_compilers_lines(tmp_path: Path) -> None:
    from tinygen.bringup import BringupRuntime
    from tinygen.errors import BuildError
    from tinygen.resources import sconstruct_path
    from tinygen.scons import run_scons

    project = BringupRuntime().render(load_board("mps2_an386"), 0)
    folder = tmp_path / "proj"
    project.write(folder)
    shutil.copy(sconstruct_path(), folder / "SConstruct")
    th_model = folder / "src" / "th_model.c"
    th_model.write_text(th_model.read_text() + "\nint broken(void) { return undeclared_x; }\n")
    with pytest.raises(BuildError) as info:
        run_scons(folder, total=None, label="firmware", progress=None)
    assert "th_model.c" in info.value.message
    assert "'undeclared_x' undeclared" in info.value.message


# ---- board support: clock tree, caches, timer -------------------------------------------


def _board_sources(name: str) -> dict[str, str]:
    from tinygen.bringup import BringupRuntime

    return BringupRuntime().render(load_board(name), 0).files


def test_clock_tree_values_reach_the_code() -> None:
    board_c = _board_sources("nucleo_f767zi")["src/board/board.c"]
    # PLLM=4, PLLN=216, PLLP=/2 (code 0), PLLQ=9 from the 8 MHz ST-LINK clock, bypassed.
    assert ("| 4u\n        | (216u << 6) | (0u << 16) | (9u << 24) | RCC_PLLCFGR_PLLSRC_HSE;"
            in board_c)
    assert "REG32(RCC_CR) |= RCC_CR_HSEBYP;" in board_c
    assert "REG32(PWR_CR) |= PWR_CR_ODEN;" in board_c  # 216 MHz needs the over-drive
    assert "REG32(FLASH_ACR) = 7u |" in board_c
    assert "pin_alternate(3u, 8u, 7u);" in board_c  # USART3 TX on PD8, AF7
    l4 = _board_sources("nucleo_l4r5zi")["src/board/board.c"]
    assert "RCC_CCIPR_LPUART1SEL_HSI16" in l4 and "PWR_CR2_IOSV" in l4  # PG7/PG8 on VDDIO2
    assert "RCC_CFGR_HPRE_DIV2" in l4  # the 1 us AHB / 2 step above 80 MHz


def test_bounded_waits_and_the_fallback_clock() -> None:
    board_c = _board_sources("nucleo_h743zi2")["src/board/board.c"]
    assert "while (!(REG32(RCC_CR)" not in board_c, "no unbounded wait on a ready flag"
    assert board_c.count("clock_fallback(\"") >= 6
    assert "board_sysclk_hz = 64000000u;" in board_c  # HSI after a failed set-up


def test_cortex_m7_enables_its_caches_and_dwt_unlock() -> None:
    for name in ("disco_f746", "nucleo_h743zi2", "mps2_an500"):
        startup = _board_sources(name)["src/board/startup.c"]
        assert "caches_enable();" in startup and "SCB_CCR |= SCB_CCR_DC;" in startup
    assert "caches_enable" not in _board_sources("nucleo_f446re")["src/board/startup.c"]
    assert "DWT_LAR = DWT_LAR_KEY;" in _board_sources("nucleo_f767zi")["src/board/board.c"]
    emulated = _board_sources("netduinoplus2")["src/board/board.c"]
    assert "DWT_CYCCNT" not in emulated and "SYST_RVR = SYST_PERIOD - 1u;" in emulated


@pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                    reason="qemu-system-arm is not installed")
@pytest.mark.parametrize(("name", "first_line"), [
    # QEMU 7.2 models no RCC on the STM32F405: the firmware notices, keeps the clock and says so.
    ("netduinoplus2", "m-clock-[no answer from the RCC (emulator): clock left as it is; "
                      "running at 168000000 Hz]"),
    ("mps2_an500", "m-timestamp-mode-performance"),  # Cortex-M7 with its caches on
    ("mps2_an505", "m-timestamp-mode-performance"),  # Cortex-M33, Secure state
])
def test_bringup_boots_in_qemu(name: str, first_line: str, tmp_path: Path) -> None:
    from tinygen.runner.emulator import QemuTransport

    board = load_board(name)
    result = build_firmware(BuildOptions(board=board, out_dir=tmp_path / "fw"))
    with QemuTransport(board, result.elf) as uart:
        lines = [uart.readline(timeout=20) for _ in range(5 if name == "netduinoplus2" else 4)]
        assert lines[0] == first_line
        assert lines[-2:] == ["m-init-done", "m-ready"]
        uart.write(b"name%")
        assert uart.readline(timeout=20) == "m-name-dut-[tinygen bring-up]"
