"""The role table: which ML role (model, arena, kernel, runtime, ...) a byte of firmware plays."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Role ids in report order; the ids are part of the JSON schema (docs/audit-json.md).
ROLE_LABELS: dict[str, str] = {
    "model": "model weights",
    "arena": "tensor arena",
    "tflm": "TFLM framework",
    "kernel": "op kernels",
    "cmsis_nn": "CMSIS-NN library",
    "harness": "benchmark harness",
    "port": "harness/model glue",
    "board": "board support + startup",
    "runtime": "runtime libraries",
    "stack": "stack",
    "heap": "heap",
    "other": "other",
}
ROLES = tuple(ROLE_LABELS)


@dataclass(frozen=True)
class Role:
    """A role plus the finer component inside it (op and kernel variant, library, object)."""

    role: str
    component: str


@dataclass(frozen=True)
class _Rule:
    role: str
    pattern: re.Pattern[str]
    # How to name the component: a template over the match's named groups, or None for the
    # unit's file stem (``micro_allocator`` for .../micro_allocator.o).
    component: str | None = None


def _rule(role: str, pattern: str, component: str | None = None) -> _Rule:
    return _Rule(role, re.compile(pattern), component)


# Output sections that are one role whatever fills them (matched on the ELF section name).
SECTION_ROLES: dict[str, str] = {
    ".tensor_arena": "arena",
    ".stack": "stack",
    ".heap": "heap",
}

# Well-known symbols, used when no link map or compile unit says where a byte came from.
SYMBOL_RULES: tuple[_Rule, ...] = (
    _rule("model", r"^g_model(_data)?$", "{name}"),
    _rule("arena", r"^(g_)?tensor_arena$", "{name}"),
    _rule("board", r"^(g_pfnVectors|__isr_vector|__Vectors|vectors|g_vectors)$", "vectors"),
)

# Rules on a unit's path: an object file (``src/main.o``), a thin-archive member (the member's
# own path), or a DWARF compile unit's source (``.../kernels/conv.cc``); matched with the
# extension removed and ``/`` separators. First match wins, so specific rules come first.
_LIB = r"lib(?P<lib>c|g|m|stdc\+\+|supc\+\+|gcc|nosys|rdimon|rdpmon)(_nano)?"
UNIT_RULES: tuple[_Rule, ...] = (
    # Shared helpers that live among the kernels but are no op of their own.
    _rule("tflm", r"(^|/)tensorflow/lite/micro/kernels/(kernel_util|kernel_runner|"
                  r"micro_tensor_utils|decompress(_common)?|decode_state\w*)$"),
    _rule("kernel", r"(^|/)tensorflow/lite/micro/kernels/cmsis_nn/(?P<op>[^/]+)$",
          "{op} (cmsis-nn)"),
    _rule("kernel",
          r"(^|/)tensorflow/lite/micro/kernels/(?P<op>[^/]+?)(_common|_reference)?$",
          "{op} (reference)"),
    # CMSIS-NN's checkout: "CMSIS-NN/", "cmsis-nn/" or tinygen's "cmsis-nn-<hash>/".
    _rule("cmsis_nn", r"(?i)(^|/)cmsis[-_]?nn(-[0-9a-f]+)?/"),
    _rule("tflm", r"(^|/)(tensorflow|third_party/flatbuffers|flatbuffers)/"),
    _rule("model", r"(^|/)src/model_data$"),
    # The native runtime's kernels (tinygen's own, templates/native/kernels).
    _rule("kernel", r"(^|/)src/native/(?P<op>[^/]+)$", "{op} (native)"),
    _rule("harness", r"(^|/)src/harness/"),
    _rule("board", r"(^|/)src/board/"),
    _rule("port", r"(^|/)src/[^/]+$"),
    # Toolchain sources, as newlib/libgcc/libstdc++ name their compile units.
    _rule("runtime", r"(^|/)newlib/libc/", "libc"),
    _rule("runtime", r"(^|/)newlib/libm/", "libm"),
    _rule("runtime", r"(^|/)libgloss/", "libnosys"),
    _rule("runtime", r"(^|/)libgcc/", "libgcc"),
    _rule("runtime", r"(^|/)libstdc\+\+-v3/", "libstdc++"),
    _rule("runtime", r"(^|/)crt[a-z0-9]*$", "crt"),
)

# Rules on the name of the archive a member came from (without ".a"), for regular archives
# whose members carry no directory.
ARCHIVE_RULES: tuple[_Rule, ...] = (
    _rule("runtime", rf"^{_LIB}$", "lib{lib}"),
    _rule("cmsis_nn", r"(?i)^lib.*cmsis[-_]?nn", "{archive}"),
    _rule("tflm", r"^lib(tflm|tensorflow-microlite)", "{archive}"),
)

_RUNTIME_ALIASES = {"libg": "libc"}  # libg is newlib's debugging alias of libc


@dataclass(frozen=True)
class Unit:
    """Where some bytes came from: an object (maybe inside an archive) or a source file."""

    path: str
    archive: str | None = None

    @property
    def display(self) -> str:
        if self.archive is None:
            return self.path
        return f"{_basename(self.archive)}({_basename(self.path)})"


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _stem(path: str) -> str:
    base = _basename(path)
    return base.rsplit(".", 1)[0] if "." in base else base


def _normalise(path: str) -> str:
    path = path.replace("\\", "/")
    base = _basename(path)
    if "." in base:
        path = path[: len(path) - len(base)] + base.rsplit(".", 1)[0]
    return path


def _component(rule: _Rule, match: re.Match[str], fallback: str, **extra: str) -> str:
    if rule.component is None:
        return fallback
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    name = rule.component.format(**{**extra, **groups})
    return _RUNTIME_ALIASES.get(name, name)


def classify_unit(unit: Unit) -> Role:
    """The role of bytes that came from ``unit``."""
    path = _normalise(unit.path)
    for rule in UNIT_RULES:
        m = rule.pattern.search(path)
        if m:
            return Role(rule.role, _component(rule, m, _stem(unit.path)))
    if unit.archive is not None:
        archive = _stem(unit.archive)
        for rule in ARCHIVE_RULES:
            m = rule.pattern.search(archive)
            if m:
                return Role(rule.role, _component(rule, m, _stem(unit.path),
                                                  archive=_stem(unit.archive)))
    return Role("other", unit.display)


def classify_symbol(name: str) -> Role | None:
    """The role of a well-known symbol, or None."""
    for rule in SYMBOL_RULES:
        m = rule.pattern.search(name)
        if m:
            return Role(rule.role, _component(rule, m, name, name=name))
    return None


def classify_section(name: str) -> Role | None:
    """The role of an output section that is one role as a whole (arena, stack, heap)."""
    role = SECTION_ROLES.get(name)
    return Role(role, name) if role else None
