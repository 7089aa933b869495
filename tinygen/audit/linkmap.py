"""Read a GNU ld ``-Map`` file: which object each input section of an output section came from."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tinygen.audit.roles import Unit
from tinygen.errors import InputError

_MAP_START = "Linker script and memory map"
_HEX = r"0x([0-9a-fA-F]+)"
# ".text           0x08000010     0x1314" or with " load address 0x..." after it.
_OUTPUT = re.compile(rf"^(\S+)(?:\s+{_HEX}\s+{_HEX}(?:\s+load address {_HEX})?)?\s*$")
# " .text.main     0x08000010       0x48 src/main.o"
_INPUT = re.compile(rf"^ (\S+)(?:\s+{_HEX}\s+{_HEX}\s+(.*?))?\s*$")
# Continuation line of a name too long for its column.
_ADDR_SIZE = re.compile(rf"^\s+{_HEX}\s+{_HEX}(?:\s+load address {_HEX})?(?:\s+(.*?))?\s*$")
_ARCHIVE_MEMBER = re.compile(r"^([^()]+)\((.+)\)$")


@dataclass(frozen=True)
class MapInput:
    """One input section placed in an output section."""

    name: str
    address: int
    size: int
    unit: Unit


@dataclass(frozen=True)
class MapSection:
    """One output section as the map describes it."""

    name: str
    address: int
    size: int
    inputs: tuple[MapInput, ...]


@dataclass(frozen=True)
class LinkMap:
    path: Path
    sections: dict[str, MapSection]


@lru_cache(maxsize=8192)
def parse_unit(text: str) -> Unit:
    """``lib.a(member.o)`` or ``obj.o`` (a thin archive's member is the object's own path)."""
    m = _ARCHIVE_MEMBER.match(text)
    if m:
        return Unit(path=m.group(2), archive=m.group(1))
    return Unit(path=text)


def read_link_map(path: Path, wanted: Collection[str] | None = None) -> LinkMap:
    """Parse ``path``; keep only output sections named in ``wanted`` (all if None)."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read link map {path}: {exc.strerror}",
                         hint="check the path and its permissions, or leave out --map") from exc
    start = text.find(_MAP_START)
    if start < 0:
        raise InputError(f"{path} is not a GNU ld link map (no '{_MAP_START}' line)",
                         hint="link with -Wl,-Map,firmware.map to write one")
    return LinkMap(path, parse_map_lines(text[start:].splitlines()[1:], wanted))


def parse_map_lines(lines: list[str], wanted: Collection[str] | None) -> dict[str, MapSection]:
    sections: dict[str, MapSection] = {}
    current: tuple[str, int, int] | None = None
    inputs: list[MapInput] = []
    pending_input: str | None = None  # an input section name whose numbers are on the next line
    pending_output: str | None = None

    def close() -> None:
        nonlocal current, inputs
        if current is not None:
            name, addr, size = current
            sections[name] = MapSection(name, addr, size, tuple(inputs))
        current, inputs = None, []

    for line in lines:
        if not line:
            continue
        first = line[0]
        if pending_output is not None:
            name, pending_output = pending_output, None
            m = _ADDR_SIZE.match(line)
            if m:
                current = (name, int(m.group(1), 16), int(m.group(2), 16))
                continue
            current = (name, 0, 0)
        if first != " ":
            close()
            m = _OUTPUT.match(line)
            if not m or (wanted is not None and m.group(1) not in wanted):
                continue
            if m.group(2) is None:
                pending_output = m.group(1)
            else:
                current = (m.group(1), int(m.group(2), 16), int(m.group(3), 16))
            continue
        if current is None:
            continue
        if pending_input is not None:
            name, pending_input = pending_input, None
            m = _ADDR_SIZE.match(line)
            if m and m.group(4):
                _add_input(inputs, name, int(m.group(1), 16), int(m.group(2), 16), m.group(4))
            continue
        if line[1] in " *":  # symbols, assignments, patterns and *fill*: gaps are found later
            continue
        m = _INPUT.match(line)
        if not m:
            continue
        if m.group(2) is None:
            pending_input = m.group(1)
        elif m.group(4):
            _add_input(inputs, m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4))
    close()
    return sections


def _add_input(inputs: list[MapInput], name: str, address: int, size: int, obj: str) -> None:
    if size > 0:
        inputs.append(MapInput(name, address, size, parse_unit(obj.strip())))
