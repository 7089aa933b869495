"""``tinygen audit`` end to end, in-process: outputs, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit.support import (
    FLASH,
    GCC,
    SRAM,
    Firmware,
    build_firmware,
    size_totals,
    write_board,
)
from tinygen.cli import main
from tinygen.commands.args import parse_size

pytestmark = pytest.mark.skipif(GCC is None, reason="arm-none-eabi-gcc is not installed")


@pytest.fixture(scope="module")
def fw(tmp_path_factory: pytest.TempPathFactory) -> Firmware:
    return build_firmware(tmp_path_factory.mktemp("cli") / "fw")


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_board(tmp_path_factory.mktemp("cli_boards") / "test_m4.yaml")


def test_text_output(fw: Firmware, board: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(fw.elf), "--board", str(board), "--top", "3"]) == 0
    out = capsys.readouterr().out
    text, data, bss = size_totals(fw.elf)
    assert f"text {text:,} + data {data:,}" in out and f"data {data:,} + bss {bss:,}" in out
    assert "model weights" in out and "top 3 symbols" in out


def test_json_output(fw: Firmware, board: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(fw.elf), "--board", str(board), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    text, data_size, bss = size_totals(fw.elf)
    assert data["schema_version"] == 1 and data["board"] == "test_board"
    assert (data["totals"]["flash"], data["totals"]["ram"]) == (text + data_size,
                                                                data_size + bss)
    assert len(data["symbols"]) == data["symbols_total"]
    assert main(["audit", str(fw.elf), "--json", "--top", "2"]) == 0
    assert len(json.loads(capsys.readouterr().out)["symbols"]) == 2


def test_markdown_and_html(fw: Firmware, board: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "where.html"
    assert main(["audit", str(fw.elf), "--board", str(board), "--markdown",
                 "--html", str(page)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("### Firmware size:")
    assert f"wrote {page}" in captured.err
    assert "<svg" in page.read_text()


def test_board_by_name_and_without_board(fw: Firmware,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(fw.elf), "--board", "disco_f746"]) == 0  # same memory map
    assert "board disco_f746" in capsys.readouterr().out
    assert main(["audit", str(fw.elf)]) == 0
    assert "no board" in capsys.readouterr().out


def test_over_budget_exits_5_naming_the_region(fw: Firmware, board: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", str(fw.elf), "--board", str(board), "--budget-flash", "4K"])
    captured = capsys.readouterr()
    assert code == 5
    assert "OVER" in captured.out  # the report is still printed
    assert "error: flash region 'flash' is" in captured.err and "bytes over budget" in captured.err
    assert "hint:" in captured.err


def test_model_too_big_for_board_file_budget(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    regions = (("flash", "flash", 0x08000000, 0x10000), SRAM)
    big = build_firmware(tmp_path / "big", model_size=40000, regions=regions)
    small = write_board(tmp_path / "small.yaml", regions=regions, budgets={"flash": 32768})
    assert main(["audit", str(big.elf), "--board", str(small), "--json"]) == 5
    captured = capsys.readouterr()
    assert json.loads(captured.out)["budgets"][0]["over"] > 0
    assert "region 'flash'" in captured.err and "model weights" in captured.err


def test_diff(fw: Firmware, board: Path, tmp_path: Path,
              capsys: pytest.CaptureFixture[str]) -> None:
    new = build_firmware(tmp_path / "new", model_size=fw.model_size + 512)
    assert main(["audit", str(new.elf), "--board", str(board), "--diff", str(fw.elf)]) == 0
    out = capsys.readouterr().out
    assert "g_model_data" in out and "+512" in out
    assert main(["audit", str(new.elf), "--diff", str(fw.elf), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["symbols"][0]["name"] == "g_model_data" and data["symbols"][0]["delta"] == 512
    assert main(["audit", str(new.elf), "--diff", str(fw.elf), "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("### Firmware size change: flash +")


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["--budget-flash", "lots"], 2, "is not a size"),
    (["--json", "--markdown"], 2, "not allowed with"),
    (["--top", "-1"], 2, "--top must be >= 0"),
    (["--board", "no_such_board"], 3, "unknown board"),
    (["--map", "/nonexistent.map"], 3, "does not exist"),
])
def test_usage_errors(fw: Firmware, argv: list[str], code: int, message: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(fw.elf), *argv]) == code
    assert message in capsys.readouterr().err


def test_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not firmware\n")
    assert main(["audit", str(notes)]) == 3
    assert "is not an ELF file" in capsys.readouterr().err
    assert main(["audit", "/bin/ls"]) == 3
    assert "not 32-bit ARM" in capsys.readouterr().err


def test_region_missing_from_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    regions = (FLASH, ("ccm", "ram", 0x10000000, 0x10000), SRAM)
    three = build_firmware(tmp_path / "three", regions=regions)
    assert main(["audit", str(three.elf), "--board", "disco_f746"]) == 3
    assert "'ccm'" in capsys.readouterr().err


def test_parse_size() -> None:
    assert parse_size("262144") == 262144
    assert parse_size("0x40000") == 0x40000
    assert parse_size("256K") == parse_size("256 KiB") == 256 * 1024
    assert parse_size("1M") == 1 << 20
