"""What a firmware ELF says about a code address: the function, the source line, and whether
the Thumb instruction there reads or writes memory."""

from __future__ import annotations

import functools
import posixpath
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.common.exceptions import DWARFError, ELFError
from elftools.elf.sections import SymbolTableSection

from tinygen.audit.dwarf import cu_ranges
from tinygen.audit.elf import open_elf
from tinygen.errors import InputError

_STT_FUNC = "STT_FUNC"
_CXXFILT = "arm-none-eabi-c++filt"
# Errors pyelftools raises on damaged or unusual DWARF: a lookup then just has no line.
_DWARF_ERRORS = (DWARFError, ELFError, struct.error, ValueError, KeyError, IndexError,
                 AttributeError, TypeError)


@dataclass(frozen=True)
class CodeSite:
    """A code address, named as far as the ELF allows."""

    address: int
    function: str | None = None
    file: str | None = None  # the source file's base name
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else None
        if self.function and where:
            return f"{self.function} ({where})"
        if self.function:
            return self.function
        if where:
            return f"0x{self.address:08x} ({where})"
        return f"0x{self.address:08x}"

    @property
    def known(self) -> bool:
        return self.function is not None or self.line is not None


class FirmwareCode:
    """An open firmware ELF, for naming code addresses; use as a context manager."""

    def __init__(self, elf: Path) -> None:
        try:
            self._stream, self._elf = open_elf(elf)
        except InputError as exc:
            raise ValueError(exc.message) from exc
        self._functions: list[tuple[int, int, str]] | None = None

    def __enter__(self) -> FirmwareCode:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()

    def site(self, address: int) -> CodeSite:
        """The function holding ``address`` and its source line (DWARF), as far as known."""
        address &= ~1  # the Thumb bit
        function = self._function(address)
        # Only inside a function: the line rows of code the linker dropped start at 0.
        line = self._line(address) if function is not None else None
        return CodeSite(address, function, *(line or (None, None)))

    def symbol(self, name: str) -> int | None:
        """The value of symbol ``name`` (e.g. a linker-script address), or None."""
        for section in self._elf.iter_sections():
            if isinstance(section, SymbolTableSection):
                for sym in section.get_symbol_by_name(name) or ():
                    return int(sym["st_value"])
        return None

    def access(self, address: int) -> str | None:
        """'reading' or 'writing' for a load or store instruction at ``address``, else None."""
        code = self._read(address & ~1, 4)
        if code is None or len(code) < 2:
            return None
        first = int.from_bytes(code[:2], "little")
        second = int.from_bytes(code[2:4], "little") if len(code) == 4 else None
        return thumb_access(first, second)

    # ---- symbols ---------------------------------------------------------------------------

    def _function(self, address: int) -> str | None:
        if self._functions is None:
            self._functions = self._read_functions()
        for start, size, name in self._functions:
            if start <= address < start + max(size, 2):
                return demangle(name)
        return None

    def _read_functions(self) -> list[tuple[int, int, str]]:
        found = []
        for section in self._elf.iter_sections():
            if not isinstance(section, SymbolTableSection):
                continue
            for sym in section.iter_symbols():
                if sym["st_info"]["type"] == _STT_FUNC and sym.name and sym["st_value"]:
                    found.append((sym["st_value"] & ~1, sym["st_size"], sym.name))
        return found

    def _read(self, address: int, size: int) -> bytes | None:
        for segment in self._elf.iter_segments():
            if segment["p_type"] != "PT_LOAD":
                continue
            start = segment["p_vaddr"]
            if start <= address and address + 2 <= start + segment["p_filesz"]:
                data: bytes = segment.data()
                return data[address - start:address - start + size]
        return None

    # ---- DWARF lines -----------------------------------------------------------------------

    def _line(self, address: int) -> tuple[str, int] | None:
        if not self._elf.has_dwarf_info():
            return None
        try:
            dwarf = self._elf.get_dwarf_info()
            cu = _unit_at(dwarf, address)
            return None if cu is None else _line_in_unit(dwarf, cu, address)
        except _DWARF_ERRORS:
            return None


def _unit_at(dwarf: Any, address: int) -> Any:
    """The compile unit whose code holds ``address`` (tinygen/audit/dwarf.py's ranges)."""
    return next((cu for begin, end, cu in cu_ranges(dwarf) if begin <= address < end), None)


def _line_in_unit(dwarf: Any, cu: Any, address: int) -> tuple[str, int] | None:
    """The line-table row covering ``address`` (the last row at or before it in its sequence)."""
    program = dwarf.line_program_for_CU(cu)
    if program is None:
        return None
    best: tuple[int, int, int] | None = None  # address, file index, line
    previous: Any = None
    for entry in program.get_entries():
        state = entry.state
        if state is None:
            continue
        if previous is not None and previous.address <= address < state.address:
            best = (previous.address, previous.file, previous.line)
        previous = None if state.end_sequence else state
    if best is None:
        return None
    files = program["file_entry"]
    index = best[1] if program["version"] >= 5 else best[1] - 1
    if not 0 <= index < len(files):
        return None
    name = files[index].name
    text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
    return posixpath.basename(text), best[2]


def thumb_access(first: int, second: int | None) -> str | None:
    """Whether a Thumb instruction (its first halfword, and the second of a 32-bit one) reads
    or writes memory: ARMv7-M ARM A5.2 (16-bit) and A5.3 (32-bit) encodings."""
    if first >> 11 in (0b11101, 0b11110, 0b11111):  # 32-bit
        if second is None:
            return None
        op1, op2 = (first >> 11) & 0b11, (first >> 4) & 0x7F
        kind = "reading" if first & (1 << 4) else "writing"  # bit 20: L in every class below
        if op1 == 0b01 and op2 >> 5 == 0:  # load/store multiple, dual, exclusive; TBB/TBH
            return kind
        if op1 == 0b11 and op2 >> 5 == 0 and op2 & 0b0010001 != 0b0010000:
            return kind  # single loads and stores
        if first & 0xEE00 == 0xEC00 and first & 0xEFE0 != 0xEC40:
            return kind  # coprocessor and FPU loads and stores (VLDR, VSTR, VPUSH, VPOP...)
        return None
    top = first >> 12
    if top == 0b0101:  # register offset: STR STRH STRB LDRSB LDR LDRH LDRB LDRSH
        return "writing" if (first >> 9) & 0b111 < 0b011 else "reading"
    if top in (0b0110, 0b0111, 0b1000, 0b1001):  # immediate offset, SP-relative
        return "reading" if first & (1 << 11) else "writing"
    if first >> 11 == 0b01001:  # LDR literal
        return "reading"
    if first & 0xFE00 == 0xB400:  # PUSH
        return "writing"
    if first & 0xFE00 == 0xBC00:  # POP
        return "reading"
    if top == 0b1100:  # STM / LDM
        return "reading" if first & (1 << 11) else "writing"
    return None


@functools.cache
def demangle(name: str) -> str:
    """A C++ symbol's qualified name without its parameters (c++filt), else ``name``."""
    if not name.startswith("_Z"):
        return name
    tool = shutil.which(_CXXFILT)
    if tool is None:
        return name
    try:
        out = subprocess.run([tool, name], capture_output=True, text=True, timeout=10,
                             check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return name
    return _without_parameters(out) or name


def _without_parameters(text: str) -> str:
    """``ns::f<T>(int, char)`` -> ``ns::f<T>``; ``(anonymous namespace)`` is part of a name."""
    depth = 0
    i = 0
    while i < len(text):
        if text.startswith("(anonymous namespace)", i):
            i += len("(anonymous namespace)")
            continue
        ch = text[i]
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth <= 0:
            return text[:i]
        i += 1
    return text
