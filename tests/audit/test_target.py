"""Whether a firmware ELF can run on a board (tinygen.audit.target): real ELFs from the real
cross-compiler, for the right board, another board, no board at all, and wrong vector tables."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tinygen.audit.target import BOARD_SECTION, check_firmware_for_board
from tinygen.board import load_board
from tinygen.errors import InputError

GCC = shutil.which("arm-none-eabi-gcc")
OBJCOPY = shutil.which("arm-none-eabi-objcopy")
pytestmark = pytest.mark.skipif(GCC is None or OBJCOPY is None,
                                reason="arm-none-eabi-gcc/objcopy are not installed")

# A minimal non-tinygen firmware: a vector table (stack pointer, reset handler) and a loop
# (the reset handler, the only code, is linked at origin + 0x100; Thumb code: bit 0 set).
_VECTORS_C = """
void reset(void) { for (;;) { } }
__attribute__((section(".vectors"), used))
const unsigned int vectors[2] = {%(sp)s, %(reset)s};
"""


def _foreign_elf(tmp_path: Path, origin: int = 0, sp: int = 0x20001000,
                 reset_offset: int = 0x101) -> Path:
    """Linked with the vector table at ``origin`` (mps2: flash at 0, RAM at 0x20000000)."""
    src = tmp_path / "fw.c"
    src.write_text(_VECTORS_C % {"sp": f"0x{sp:08x}u", "reset": f"0x{origin + reset_offset:x}u"})
    elf = tmp_path / f"fw-{origin:x}-{sp:x}-{reset_offset:x}.elf"
    assert GCC is not None
    subprocess.run([GCC, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Os", "-o", str(elf),
                    str(src), f"-Wl,--section-start=.vectors=0x{origin:x}",
                    f"-Wl,-Ttext=0x{origin + 0x100:x}", "-Wl,-e,reset"], check=True)
    return elf


def _refused(elf: Path, board: str) -> str:
    with pytest.raises(InputError) as caught:
        check_firmware_for_board(elf, load_board(board))
    assert caught.value.hint
    return caught.value.message


def test_tinygen_firmware_names_its_board(bringup_elf: Path, tmp_path: Path) -> None:
    check_firmware_for_board(bringup_elf, load_board("mps2_an386"))
    # mps2_an385 has the same memory map: only the name tells the boards apart
    assert "was built for board mps2_an386, not mps2_an385" in _refused(bringup_elf,
                                                                          "mps2_an385")
    assert "not nucleo_f767zi" in _refused(bringup_elf, "nucleo_f767zi")
    out = subprocess.run(["arm-none-eabi-readelf", "-SW", str(bringup_elf)], check=True,
                         capture_output=True, text=True).stdout
    (line,) = [ln for ln in out.splitlines() if BOARD_SECTION in ln]
    assert " A " not in line.split(BOARD_SECTION, 1)[1]  # not allocated: no flash used


def test_without_the_name_the_regions_decide(bringup_elf: Path, tmp_path: Path) -> None:
    anonymous = tmp_path / "anonymous.elf"
    assert OBJCOPY is not None
    subprocess.run([OBJCOPY, "--remove-section", BOARD_SECTION, str(bringup_elf),
                    str(anonymous)], check=True)
    check_firmware_for_board(anonymous, load_board("mps2_an385"))
    message = _refused(anonymous, "nucleo_f767zi")
    assert "does not fit board nucleo_f767zi: it stores 0x00000000.." in message
    assert "outside the board's flash" in message


def test_a_foreign_firmware_is_checked_by_its_vector_table(tmp_path: Path) -> None:
    check_firmware_for_board(_foreign_elf(tmp_path), load_board("mps2_an386"))
    assert "initial stack pointer 0x30000000 is outside the board's RAM" in _refused(
        _foreign_elf(tmp_path, sp=0x30000000), "mps2_an386")
    assert "reset vector 0x00000100 is not Thumb code in the board's flash" in _refused(
        _foreign_elf(tmp_path, reset_offset=0x100), "mps2_an386")  # bit 0 clear: ARM code
    assert "reset vector 0x00500001 is not Thumb code in the board's flash" in _refused(
        _foreign_elf(tmp_path, reset_offset=0x500001), "mps2_an386")  # beyond its 4 MiB
    assert "outside the board's flash" in _refused(_foreign_elf(tmp_path, origin=0x08000000),
                                                   "mps2_an386")


def test_not_arm_corrupt_or_missing(bringup_elf: Path, tmp_path: Path) -> None:
    board = "mps2_an386"
    host = Path(shutil.which("true") or "/bin/true").resolve()
    if host.read_bytes()[:4] == b"\x7fELF":
        assert "not 32-bit ARM" in _refused(host, board)
    truncated = tmp_path / "truncated.elf"
    truncated.write_bytes(bringup_elf.read_bytes()[:60])
    assert "corrupt ELF" in _refused(truncated, board)
    notes = tmp_path / "notes.elf"
    notes.write_text("not an ELF")
    assert "is not an ELF file" in _refused(notes, board)
    assert "no such file" in _refused(tmp_path / "none.elf", board)
