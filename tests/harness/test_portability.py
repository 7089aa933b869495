"""The harness sources build warning-free as C99 for the host and for Arm, and as part of C++."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .host_harness import HostHarness
from .toolchain import (
    C_WARNINGS,
    HARNESS_DIR,
    HARNESS_MAIN,
    HARNESS_SOURCES,
    HOST_PORT,
    SANITIZE,
    TESTS_DIR,
    compile_c,
)

ALL_SOURCES = (*HARNESS_SOURCES, HARNESS_MAIN)
HEADERS = (HARNESS_DIR / "th_api.h", HARNESS_DIR / "ee_benchmark.h")
INCLUDES = (f"-I{TESTS_DIR}", f"-I{HARNESS_DIR}")
# Beyond the required -Wall -Wextra -Wpedantic: what catches real portability bugs.
EXTRA_WARNINGS = (
    "-Wshadow",
    "-Wconversion",
    "-Wsign-conversion",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Wcast-qual",
    "-Wcast-align",
    "-Wundef",
    "-Wformat=2",
)
CXX_WARNINGS = ("-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wshadow")
# The default test config, and one with every optional setting.
CONFIGS = {
    "default": (),
    "all-options": ("-DEE_CFG_INPUT_BYTES=490", "-DEE_CMD_SIZE=40", "-DEE_CFG_ENERGY_MODE=1"),
    "profile": ("-DTINYGEN_PROFILE=1", "-DEE_PROFILE_OPS=12"),
}
ARM_CPUS = {
    "cortex-m0plus": (),
    "cortex-m4": (),
    "cortex-m4f": ("-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
    "cortex-m7": ("-mfpu=fpv5-d16", "-mfloat-abi=hard"),
    "cortex-m33": (),
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="module")
def arm_gcc() -> str:
    return _tool("arm-none-eabi-gcc")


@pytest.fixture(scope="module")
def gxx() -> str:
    return _tool("g++")


@pytest.mark.parametrize("path", [*ALL_SOURCES, *HEADERS], ids=lambda p: p.name)
def test_static_sources_hold_no_jinja(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"\{\{|\{%|\{#", text), f"{path.name} looks like a Jinja template"


@pytest.mark.parametrize("path", [HARNESS_SOURCES[0], HARNESS_MAIN, *HEADERS], ids=lambda p: p.name)
def test_harness_uses_no_stdio_and_no_heap(path: Path) -> None:
    code = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    assert "<stdio.h>" not in code
    forbidden = r"\b(printf|sprintf|snprintf|vprintf|puts|putchar|malloc|calloc|realloc|free)\s*\("
    assert not re.search(forbidden, code), f"{path.name} calls libc directly"


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("source", ALL_SOURCES, ids=lambda p: p.name)
def test_host_c99_with_extra_warnings(
    host_cc: str, tmp_path: Path, source: Path, config: str
) -> None:
    compile_c(
        [
            host_cc,
            *C_WARNINGS,
            *EXTRA_WARNINGS,
            "-O2",
            *CONFIGS[config],
            *INCLUDES,
            "-c",
            source,
            "-o",
            tmp_path / "out.o",
        ]
    )


@pytest.mark.parametrize("header", HEADERS, ids=lambda p: p.name)
@pytest.mark.parametrize("language", ["c", "c++"])
def test_headers_stand_alone(
    host_cc: str, gxx: str, tmp_path: Path, header: Path, language: str
) -> None:
    unit = tmp_path / ("unit.c" if language == "c" else "unit.cpp")
    unit.write_text(f'#include "{header.name}"\nint tinygen_unit_marker;\n')
    flags = (*C_WARNINGS, *EXTRA_WARNINGS) if language == "c" else CXX_WARNINGS
    compiler = host_cc if language == "c" else gxx
    compile_c([compiler, *flags, *INCLUDES, "-c", unit, "-o", tmp_path / "unit.o"])


@pytest.mark.parametrize("standard", ["c++11", "c++17"])
@pytest.mark.parametrize("source", ALL_SOURCES, ids=lambda p: p.name)
def test_sources_compile_as_cpp(gxx: str, tmp_path: Path, source: Path, standard: str) -> None:
    compile_c(
        [
            gxx,
            "-x",
            "c++",
            f"-std={standard}",
            *CXX_WARNINGS,
            *INCLUDES,
            "-c",
            source,
            "-o",
            tmp_path / "out.o",
        ]
    )


def test_cpp_port_links_with_the_c_harness(host_cc: str, gxx: str, tmp_path: Path) -> None:
    """The real setup: TFLM ports are C++; th_api.h must give the hooks C linkage."""
    objects = []
    for source in ALL_SOURCES:
        obj = tmp_path / f"{source.stem}.o"
        compile_c([host_cc, *C_WARNINGS, "-g", *SANITIZE, *INCLUDES, "-c", source, "-o", obj])
        objects.append(obj)
    port = tmp_path / "host_port.o"
    compile_c(
        [
            gxx,
            "-x",
            "c++",
            "-std=c++17",
            *CXX_WARNINGS,
            "-g",
            *SANITIZE,
            *INCLUDES,
            "-c",
            HOST_PORT,
            "-o",
            port,
        ]
    )
    program = tmp_path / "cpp_harness"
    compile_c([gxx, *SANITIZE, *objects, port, "-o", program])
    harness = HostHarness(program)
    assert harness.converse("name", "db load 1", "db 2a", "infer 1 0")[0] == [
        "m-name-dut-[tinygen host test]"
    ]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("cpu", ARM_CPUS)
def test_arm_compile_is_warning_free(arm_gcc: str, tmp_path: Path, cpu: str, config: str) -> None:
    mcpu = cpu.removesuffix("f")
    flags = (
        f"-mcpu={mcpu}",
        "-mthumb",
        *ARM_CPUS[cpu],
        "-Os",
        "-ffunction-sections",
        "-fdata-sections",
        *CONFIGS[config],
    )
    for source in ALL_SOURCES:
        obj = tmp_path / f"{source.stem}.o"
        compile_c(
            [arm_gcc, *C_WARNINGS, *EXTRA_WARNINGS, *flags, *INCLUDES, "-c", source, "-o", obj]
        )
    # The harness proper needs nothing but th_* hooks (and libgcc's helpers, e.g. division).
    undefined = _undefined_symbols(arm_gcc, tmp_path / "ee_benchmark.o")
    assert undefined, "nm found no undefined symbols at all"
    assert [s for s in undefined if not s.startswith(("th_", "__aeabi_"))] == []


def test_arm_link_with_a_port(arm_gcc: str, tmp_path: Path) -> None:
    """Harness + main + a (stdio) port link into a Cortex-M4 ELF with newlib's nosys stubs."""
    elf = tmp_path / "harness.elf"
    compile_c(
        [
            arm_gcc,
            *C_WARNINGS,
            "-mcpu=cortex-m4",
            "-mthumb",
            "-Os",
            "-ffunction-sections",
            "-fdata-sections",
            "-Wl,--gc-sections",
            "--specs=nosys.specs",
            *INCLUDES,
            *ALL_SOURCES,
            HOST_PORT,
            "-o",
            elf,
        ]
    )
    defined = subprocess.run(
        [_binutil(arm_gcc, "nm"), "--defined-only", str(elf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for symbol in ("main", "ee_benchmark_initialize", "ee_serial_callback", "th_memcpy"):
        assert re.search(rf"\s{symbol}$", defined, flags=re.M), symbol


def _binutil(gcc: str, tool: str) -> str:
    return str(Path(gcc).with_name(Path(gcc).name.replace("gcc", tool)))


def _undefined_symbols(gcc: str, obj: Path) -> list[str]:
    out = subprocess.run(
        [_binutil(gcc, "nm"), "--undefined-only", str(obj)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split()[-1] for line in out.splitlines() if line.strip()]
