"""tinygen.audit.auditor: real Cortex-M ELFs built here with arm-none-eabi-gcc, their totals
checked against arm-none-eabi-size, their roles from the link map, DWARF or symbols."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.audit.support import (
    CPU_FLAGS,
    FLASH,
    SRAM,
    Firmware,
    _run,
    assert_consistent,
    build_firmware,
    needs_gcc,
    write_board,
)
from tinygen.audit import (
    audit_elf,
    budget_violations,
)
from tinygen.board import Board, load_board
from tinygen.errors import InputError

# --- totals --------------------------------------------------------------------------------


@needs_gcc
@pytest.mark.parametrize("cpu", sorted(CPU_FLAGS))
def test_totals_equal_size_for_each_core(builds: dict[str, Firmware], cpu: str) -> None:
    fw = builds[cpu]
    report = audit_elf(fw.elf, load_board(str(write_board(
        fw.elf.parent / "board.yaml", core=cpu))))
    assert_consistent(report, fw.elf)
    assert report.attribution == "map"
    assert [r.name for r in report.regions] == ["flash", "sram"]
    flash, sram = report.regions
    in_flash_only = sum(s.size for s in report.sections if s.regions == ("flash",)
                        and s.kind == "data")  # .init_array: see test_sections_and_regions
    assert flash.used == report.totals.flash
    assert sram.used == report.totals.ram - in_flash_only


@needs_gcc
def test_model_and_arena_roles_match_their_arrays(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4)
    model, arena = report.role("model"), report.role("arena")
    assert model.ram == 0
    # The array plus at most the padding its 16-byte alignment put before it.
    assert m4.model_size <= model.flash < m4.model_size + 16
    assert (arena.flash, arena.ram) == (0, m4.arena_size)
    assert report.role("stack").ram == 0x2000 and report.role("heap").ram == 0x1000


@needs_gcc
def test_kws_model_role_is_the_tflite_size(board_m4: Board, tmp_path: Path) -> None:
    tflite = Path(__file__).resolve().parents[2] / "models" / "kws_tiny.tflite"
    if not tflite.is_file():
        pytest.skip(f"{tflite} is not in this checkout")
    fw = build_firmware(tmp_path, model=tflite.read_bytes(), arena_size=22 * 1024)
    report = audit_elf(fw.elf, board_m4)
    assert_consistent(report, fw.elf)
    size = tflite.stat().st_size
    assert size <= report.role("model").flash < size + 16
    assert next(s for s in report.symbols if s.name == "g_model_data").size == size
    assert report.role("arena").ram == 22 * 1024


@needs_gcc
def test_roles_follow_object_paths(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4)
    kernels = {c.name for c in report.role("kernel").components}
    assert {"conv (cmsis-nn)", "conv (reference)", "fully_connected (reference)"} <= kernels
    assert report.role("cmsis_nn").flash > 0
    assert {c.name for c in report.role("tflm").components} == {"micro_interpreter"}
    assert report.role("harness").flash > 0 and report.role("harness").ram > 0
    assert report.role("board").flash > 0
    assert {c.name for c in report.role("port").components} == {"th_model"}
    runtime = {c.name for c in report.role("runtime").components}
    assert {"libc", "libm"} <= runtime
    by_name = {s.name: s for s in report.symbols}
    assert by_name["g_model_data"].role == "model"
    assert by_name["g_tensor_arena"].role == "arena"
    assert by_name["arm_convolve_s8"].role == "cmsis_nn"
    assert by_name["conv_eval"].component == "conv (cmsis-nn)"
    assert by_name["memset"].component == "libc"
    # Aliases are folded: HardFault_Handler is Default_Handler.
    assert "Default_Handler" in by_name and "HardFault_Handler" not in by_name


@needs_gcc
def test_sections_and_regions(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4)
    sections = {s.name: s for s in report.sections}
    assert sections[".data"].regions == ("flash", "sram")  # load image, then run address
    assert sections[".data"].load_address != sections[".data"].address
    assert sections[".text"].regions == ("flash",)
    assert sections[".tensor_arena"].kind == "bss"
    flash, sram = report.regions
    assert dict(flash.roles)["model"] == report.role("model").flash
    # .init_array is writable, so arm-none-eabi-size counts it as data (so in the RAM total)
    # though it sits in flash: the RAM region holds that much less than the RAM total.
    init_array = sections[".init_array"]
    assert init_array.kind == "data" and init_array.regions == ("flash",)
    assert sram.used == report.totals.ram - init_array.size
    assert any(".init_array" in n and "no ram region holds" in n for n in report.notes)


# --- without a board, without a map, stripped ---------------------------------------------


@needs_gcc
def test_without_board_regions_come_from_region_symbols(m4: Firmware) -> None:
    report = audit_elf(m4.elf)
    assert_consistent(report, m4.elf)
    assert [(r.name, r.kind, r.size, r.source) for r in report.regions] == [
        ("flash", "flash", FLASH[3], "elf-symbols"), ("sram", "ram", SRAM[3], "elf-symbols")]
    assert report.budget("flash").budget == FLASH[3]


@needs_gcc
def test_without_board_or_region_symbols_regions_come_from_program_headers(
        tmp_path: Path) -> None:
    fw = build_firmware(tmp_path, region_symbols=False)
    report = audit_elf(fw.elf)
    assert_consistent(report, fw.elf)
    assert [(r.name, r.kind, r.size, r.source) for r in report.regions] == [
        ("flash", "flash", None, "program-headers"), ("ram", "ram", None, "program-headers")]
    assert report.budget("flash").budget is None
    assert budget_violations(report) == []


@needs_gcc
def test_without_map_roles_come_from_dwarf(m4: Firmware, board_m4: Board,
                                           tmp_path: Path) -> None:
    elf = tmp_path / "alone.elf"
    shutil.copy(m4.elf, elf)
    report = audit_elf(elf, board_m4)
    assert_consistent(report, elf)
    assert report.attribution == "dwarf" and report.map_path is None
    assert any("no link map" in n for n in report.notes)
    assert report.role("model").flash >= m4.model_size
    assert report.role("arena").ram == m4.arena_size
    assert "conv (cmsis-nn)" in {c.name for c in report.role("kernel").components}
    assert report.role("runtime").flash > 0


@needs_gcc
def test_stripped_elf_keeps_totals_and_says_roles_need_symbols(
        m4: Firmware, board_m4: Board, tmp_path: Path) -> None:
    elf = tmp_path / "stripped.elf"
    _run(["arm-none-eabi-strip", "-o", elf, m4.elf], tmp_path)
    report = audit_elf(elf, board_m4)
    assert_consistent(report, elf)
    assert report.symbols == () and not report.elf.has_symbols
    assert any("stripped" in n and "roles need symbols" in n for n in report.notes)
    assert report.role("arena").ram == m4.arena_size  # section names still tell
    # With the link map, a stripped ELF still gets its roles.
    with_map = audit_elf(elf, board_m4, map_path=m4.map)
    assert with_map.attribution == "map"
    assert with_map.role("model").flash == audit_elf(m4.elf, board_m4).role("model").flash


@needs_gcc
def test_map_that_does_not_match(builds: dict[str, Firmware], board_m4: Board,
                                 tmp_path: Path) -> None:
    m4, m7 = builds["cortex-m4"], builds["cortex-m7"]
    with pytest.raises(InputError, match="is not the link map of"):
        audit_elf(m4.elf, board_m4, map_path=m7.map)
    # Found beside the ELF but stale: ignored, with a note.
    shutil.copy(m4.elf, tmp_path / "firmware.elf")
    shutil.copy(m7.map, tmp_path / "firmware.map")
    report = audit_elf(tmp_path / "firmware.elf", board_m4)
    assert report.attribution == "dwarf"
    assert any("does not match this ELF" in n for n in report.notes)


# --- bad input --------------------------------------------------------------------------------


def test_not_an_elf(tmp_path: Path) -> None:
    text = tmp_path / "firmware.hex"
    text.write_text(":020000040800F2\n")
    with pytest.raises(InputError, match="is not an ELF file"):
        audit_elf(text)
    with pytest.raises(InputError, match="no such file"):
        audit_elf(tmp_path / "missing.elf")
    truncated = tmp_path / "truncated.elf"
    truncated.write_bytes(b"\x7fELF\x01\x01\x01")
    with pytest.raises(InputError, match="corrupt ELF"):
        audit_elf(truncated)


def test_not_arm() -> None:
    host = Path(shutil.which("ls") or "/bin/ls").resolve()
    with pytest.raises(InputError, match="not 32-bit ARM"):
        audit_elf(host)


@needs_gcc
def test_object_file_is_not_firmware(m4: Firmware) -> None:
    with pytest.raises(InputError, match="object file"):
        audit_elf(m4.elf.parent / "src" / "th_model.o")


@needs_gcc
def test_region_the_board_lacks(tmp_path: Path, m4: Firmware) -> None:
    regions = (FLASH, ("ccm", "ram", 0x10000000, 0x10000), SRAM)
    fw = build_firmware(tmp_path / "fw", regions=regions)
    board = load_board(str(write_board(tmp_path / "b.yaml")))  # flash + sram only
    with pytest.raises(InputError, match=r"region 'ccm'.*which board test_board lacks"):
        audit_elf(fw.elf, board)
    elsewhere = load_board(str(write_board(
        tmp_path / "e.yaml", regions=(FLASH, ("sram", "ram", 0x20000000, 0x20000)))))
    with pytest.raises(InputError, match=r"region 'sram' is 0x20000000\.\.0x20050000 in the ELF"):
        audit_elf(m4.elf, elsewhere)


@needs_gcc
def test_section_outside_every_board_region(tmp_path: Path) -> None:
    fw = build_firmware(tmp_path / "fw", region_symbols=False)
    board = load_board(str(write_board(
        tmp_path / "b.yaml", regions=(FLASH, ("ram", "ram", 0x30000000, 0x10000)))))
    with pytest.raises(InputError, match=r"section \.data .* lies in no memory region"):
        audit_elf(fw.elf, board)
