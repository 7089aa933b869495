"""Code address ranges per DWARF compile unit: who wrote which bytes, when there is no link map."""

from __future__ import annotations

import posixpath
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.common.exceptions import DWARFError, ELFError

from tinygen.audit.elf import open_elf
from tinygen.audit.roles import Unit


@dataclass(frozen=True)
class UnitRange:
    start: int
    end: int
    unit: Unit


def read_unit_ranges(path: Path) -> tuple[UnitRange, ...]:
    """Address ranges per compile unit, from .debug_aranges or else each CU's own ranges.

    Only the top DIE of each unit is read, never the whole tree, so this stays fast on the
    megabytes of DWARF a TFLM build carries. Ranges starting at 0 are dropped: they belong to
    functions the linker garbage-collected, and a Cortex-M has its vector table, not code, at 0.
    """
    stream, elf = open_elf(path)
    with stream:
        if not elf.has_dwarf_info():
            return ()
        try:
            dwarf = elf.get_dwarf_info()
            units: dict[int, Unit] = {}
            ranges = []
            for begin, end, cu in cu_ranges(dwarf):
                unit = units.get(cu.cu_offset)
                if unit is None:
                    unit = units[cu.cu_offset] = _unit_of(cu)
                ranges.append(UnitRange(begin, end, unit))
        except (DWARFError, ELFError, struct.error, ValueError, KeyError, IndexError):
            return ()
    kept = (r for r in ranges if r.start > 0 and r.end > r.start)
    return tuple(sorted(kept, key=lambda r: (r.start, r.end)))


def _unit_of(cu: Any) -> Unit:
    top = cu.get_top_DIE()
    name = _text(top.attributes.get("DW_AT_name"))
    comp_dir = _text(top.attributes.get("DW_AT_comp_dir"))
    if name and comp_dir and not posixpath.isabs(name):
        name = posixpath.normpath(posixpath.join(comp_dir, name))
    return Unit(path=name or "(unnamed compile unit)")


def _text(attr: Any) -> str:
    if attr is None:
        return ""
    value = attr.value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def cu_ranges(dwarf: Any) -> Iterator[tuple[int, int, Any]]:
    """(start, end, compile unit) for every code range: from .debug_aranges when the ELF has
    them, else from each unit's top DIE (low/high pc, or its range list)."""
    aranges = dwarf.get_aranges()
    entries = [e for e in (aranges.entries if aranges is not None else ()) if e.length]
    if entries:
        units: dict[int, Any] = {}
        for entry in entries:
            cu = units.get(entry.info_offset)
            if cu is None:
                cu = units[entry.info_offset] = dwarf.get_CU_at(entry.info_offset)
            yield entry.begin_addr, entry.begin_addr + entry.length, cu
        return
    range_lists = dwarf.range_lists()
    for cu in dwarf.iter_CUs():
        attrs = cu.get_top_DIE().attributes
        if "DW_AT_ranges" in attrs and range_lists is not None:
            base = attrs["DW_AT_low_pc"].value if "DW_AT_low_pc" in attrs else 0
            for entry in range_lists.get_range_list_at_offset(attrs["DW_AT_ranges"].value, cu=cu):
                begin = getattr(entry, "begin_offset", None)
                end = getattr(entry, "end_offset", None)
                if begin is None or end is None:
                    continue
                if not getattr(entry, "is_absolute", False):
                    begin, end = begin + base, end + base
                yield begin, end, cu
        elif "DW_AT_low_pc" in attrs and "DW_AT_high_pc" in attrs:
            low = attrs["DW_AT_low_pc"].value
            high_attr = attrs["DW_AT_high_pc"]
            high = high_attr.value
            if high_attr.form != "DW_FORM_addr":
                high = low + high  # DWARF 4+: high_pc is an offset from low_pc
            yield low, high, cu
