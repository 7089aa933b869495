"""The build pipeline with the real cross compiler and SCons (bring-up firmware: no TFLM)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from tinygen.board import list_board_names, load_board
from tinygen.errors import OverBudgetError, ToolMissingError
from tinygen.firmware import BuildOptions, build_firmware

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
    with (tmp_path / "fw" / "firmware.elf").open("rb") as f:
        elf = ELFFile(f)
        vectors = elf.get_section_by_name(".vectors")
        code = board.region(board.code_region)
        assert vectors["sh_addr"] == code.origin, "vector table at the flash origin"
        for section in elf.iter_sections():
            if section["sh_flags"] & 0x2 and section["sh_size"]:  # SHF_ALLOC
                start, end = section["sh_addr"], section["sh_addr"] + section["sh_size"]
                assert any(r.origin <= start and end <= r.end for r in board.memory), (
                    f"{section.name} at 0x{start:x} is outside every region")
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
    from tinygen.build import run_scons
    from tinygen.codegen import BringupSpec, render_bringup
    from tinygen.errors import BuildError
    from tinygen.resources import sconstruct_path

    project = render_bringup(load_board("mps2_an386"), BringupSpec())
    folder = tmp_path / "proj"
    project.write(folder)
    shutil.copy(sconstruct_path(), folder / "SConstruct")
    th_model = folder / "src" / "th_model.c"
    th_model.write_text(th_model.read_text() + "\nint broken(void) { return undeclared_x; }\n")
    with pytest.raises(BuildError) as info:
        run_scons(folder, total=None, label="firmware", progress=None)
    assert "th_model.c" in info.value.message
    assert "'undeclared_x' undeclared" in info.value.message
