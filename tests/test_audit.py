"""tinygen.audit against real Cortex-M ELFs built here with arm-none-eabi-gcc, checked against
arm-none-eabi-size."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tinygen.audit import (
    audit_elf,
    budget_violations,
    diff_reports,
    enforce_budgets,
    render_diff_markdown,
    render_diff_text,
    render_markdown,
    render_text,
    write_treemap_html,
)
from tinygen.audit.layout import layout_problems
from tinygen.audit.linkmap import parse_map_lines
from tinygen.audit.report import AuditReport
from tinygen.audit.roles import Role, Unit, classify_section, classify_symbol, classify_unit
from tinygen.audit.treemap import squarify
from tinygen.board import Board, load_board
from tinygen.errors import ExitCode, InputError, OverBudgetError

GCC = shutil.which("arm-none-eabi-gcc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="arm-none-eabi-gcc is not installed")

CPU_FLAGS = {
    "cortex-m0plus": ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"],
    "cortex-m4": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "cortex-m7": ["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"],
}
FLASH = ("flash", "flash", 0x08000000, 0x00100000)
SRAM = ("sram", "ram", 0x20000000, 0x00050000)

# Stand-ins for the objects of a tinygen build, at the paths its SCons build gives them.
SOURCES = {
    "src/model_data.c": """
__attribute__((aligned(16), section(".rodata.g_model_data")))
const unsigned char g_model_data[MODEL_SIZE] = {0x1c, 0x00, 0x00, 0x00, 'T', 'F', 'L', '3'};
""",
    "src/th_model.c": """
#include <stdint.h>
#include <stdio.h>
extern const unsigned char g_model_data[];
extern int tflm_invoke(const unsigned char *model, uint8_t *arena, int size);
__attribute__((aligned(16), section(".tensor_arena"))) uint8_t g_tensor_arena[ARENA_SIZE];
static char line[48];
int th_infer(void) {
    int r = tflm_invoke(g_model_data, g_tensor_arena, ARENA_SIZE);
    return snprintf(line, sizeof line, "m-results-[%d]", r);
}
""",
    "src/harness/th_lib.c": """
#include <string.h>
extern int th_infer(void);
static char th_command[80];
int th_counter = 3;
__attribute__((constructor)) static void th_init(void) { th_counter++; }  /* -> .init_array */
int main(void) { memset(th_command, 0, sizeof th_command); return th_infer() + th_counter; }
""",
    "src/board/startup.c": """
#include <stdint.h>
#include <string.h>
extern int main(void);
extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_end__;
void Reset_Handler(void) {
    memcpy(&__data_start__, &__data_load__,
           (uintptr_t)&__data_end__ - (uintptr_t)&__data_start__);
    memset(&__bss_start__, 0, (uintptr_t)&__bss_end__ - (uintptr_t)&__bss_start__);
    main();
    for (;;) {}
}
void Default_Handler(void) { for (;;) {} }
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
__attribute__((section(".isr_vector"), used)) void (*const g_vectors[])(void) = {
    (void (*)(void))&__stack_end__, Reset_Handler, Default_Handler, HardFault_Handler};
""",
}
TFLM_SOURCES = {
    "tensorflow/lite/micro/micro_interpreter.c": """
#include <math.h>
#include <stdint.h>
extern int conv_eval(const unsigned char *, uint8_t *);
extern int fully_connected_eval(const unsigned char *, uint8_t *);
float tflm_scale = 0.5f;
int tflm_invoke(const unsigned char *model, uint8_t *arena, int size) {
    arena[size - 1] = (uint8_t)expf(tflm_scale);
    return conv_eval(model, arena) + fully_connected_eval(model, arena);
}
""",
    "tensorflow/lite/micro/kernels/cmsis_nn/conv.c": """
#include <stdint.h>
extern int conv_prepare_common(const unsigned char *);
extern int arm_convolve_s8(const unsigned char *, uint8_t *);
int conv_eval(const unsigned char *m, uint8_t *a) {
    return conv_prepare_common(m) + arm_convolve_s8(m, a);
}
""",
    "tensorflow/lite/micro/kernels/conv_common.c": """
static const int conv_table[64] = {1, 2, 3};
int conv_prepare_common(const unsigned char *m) { return conv_table[m[0] & 63] * m[1]; }
""",
    "tensorflow/lite/micro/kernels/fully_connected.c": """
#include <stdint.h>
int fully_connected_eval(const unsigned char *m, uint8_t *a) {
    int acc = 0;
    for (int i = 0; i < 64; i++) acc += m[i] * a[i];
    return acc;
}
""",
}
CMSIS_SOURCES = {
    "CMSIS-NN/Source/ConvolutionFunctions/arm_convolve_s8.c": """
#include <stdint.h>
int arm_convolve_s8(const unsigned char *m, uint8_t *a) {
    int acc = 0;
    for (int i = 0; i < 16; i++) acc += (int8_t)m[i] * (int8_t)a[i];
    return acc;
}
""",
}


@dataclass(frozen=True)
class Firmware:
    elf: Path
    map: Path
    model_size: int
    arena_size: int


def _run(cmd: Sequence[str | Path], cwd: Path) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed:\n{done.stderr}")
    return done.stdout


def _model_source(model: bytes) -> str:
    rows = (", ".join(f"0x{b:02x}" for b in model[i:i + 16]) for i in range(0, len(model), 16))
    return ('__attribute__((aligned(16), section(".rodata.g_model_data")))\n'
            "const unsigned char g_model_data[] = {\n" + ",\n".join(rows) + "\n};\n")


def size_totals(elf: Path) -> tuple[int, int, int]:
    """text, data, bss as arm-none-eabi-size prints them."""
    out = _run(["arm-none-eabi-size", elf], elf.parent).splitlines()
    text, data, bss = (int(v) for v in out[1].split()[:3])
    return text, data, bss


def linker_script(regions: Sequence[tuple[str, str, int, int]], data_region: str,
                  region_symbols: bool = True) -> str:
    """A linker script in the style of tinygen's generated one."""
    code = next(r[0] for r in regions if r[1] == "flash")
    mem = "\n".join(f"  {n.upper()} ({'rx' if k == 'flash' else 'rwx'}) : ORIGIN = 0x{o:08x}, "
                    f"LENGTH = 0x{s:x}" for n, k, o, s in regions)
    syms = "".join(
        f"__tinygen_{n}_start__ = ORIGIN({n.upper()});\n"
        f"__tinygen_{n}_end__ = ORIGIN({n.upper()}) + LENGTH({n.upper()});\n"
        for n, _, _, _ in regions) if region_symbols else ""
    c, d = code.upper(), data_region.upper()
    return f"""MEMORY
{{
{mem}
}}
{syms}ENTRY(Reset_Handler)
SECTIONS
{{
  .isr_vector : {{ KEEP(*(.isr_vector)) }} > {c}
  .text : {{ *(.text*) *(.rodata*) . = ALIGN(4); }} > {c}
  .ARM.extab : {{ *(.ARM.extab* .gnu.linkonce.armextab.*) }} > {c}
  .ARM.exidx : {{ *(.ARM.exidx* .gnu.linkonce.armexidx.*) }} > {c}
  .init_array : {{ KEEP(*(SORT(.init_array.*))) KEEP(*(.init_array)) }} > {c}
  __data_load__ = LOADADDR(.data);
  .data : {{ __data_start__ = .; *(.data*) . = ALIGN(4); __data_end__ = .; }} > {d} AT > {c}
  .bss (NOLOAD) : {{ __bss_start__ = .; *(.bss*) *(COMMON) . = ALIGN(4); __bss_end__ = .; }} > {d}
  .tensor_arena (NOLOAD) : ALIGN(16) {{ *(.tensor_arena) }} > {d}
  .heap (NOLOAD) : ALIGN(8) {{ __heap_start__ = .; end = .; . += 0x1000; __heap_end__ = .; }} > {d}
  .stack (NOLOAD) : ALIGN(8) {{ __stack_start__ = .; . = . + 0x2000; __stack_end__ = .; }} > {d}
}}
"""


def build_firmware(root: Path, *, cpu: str = "cortex-m4", model_size: int = 3000,
                   arena_size: int = 4096,
                   regions: Sequence[tuple[str, str, int, int]] = (FLASH, SRAM),
                   data_region: str = "sram", region_symbols: bool = True,
                   model: bytes | None = None) -> Firmware:
    """Compile and link a small firmware laid out like a tinygen build under ``root``.

    ``model``: bytes for ``g_model_data`` (a .tflite), as tinygen's generator embeds them.
    """
    root.mkdir(parents=True, exist_ok=True)
    if model is not None:
        model_size = len(model)
    build, cache = root / "build", root / "cache"
    flags = [*CPU_FLAGS[cpu], "-g", "-Os", "-ffunction-sections", "-fdata-sections",
             f"-DMODEL_SIZE={model_size}", f"-DARENA_SIZE={arena_size}"]
    jobs: list[tuple[Path, Path, Path]] = []  # source, object, cwd
    for files, base in ((SOURCES, build), (TFLM_SOURCES, cache / "tflm"),
                        (CMSIS_SOURCES, cache / "cmsis")):
        for rel, text in files.items():
            src = base / rel
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_text(text if model is None or rel != "src/model_data.c" else
                           _model_source(model))
            jobs.append((src, src.with_suffix(".o"), build))
    (build / "src").mkdir(parents=True, exist_ok=True)

    def compile_one(job: tuple[Path, Path, Path]) -> str:
        src, obj, cwd = job
        rel_src = src.relative_to(cwd) if src.is_relative_to(cwd) else src
        rel_obj = obj.relative_to(cwd) if obj.is_relative_to(cwd) else obj
        return _run([GCC or "arm-none-eabi-gcc", *flags, "-c", rel_src, "-o", rel_obj], cwd)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(compile_one, jobs))
    tflm_objs = [(cache / "tflm" / r).with_suffix(".o") for r in TFLM_SOURCES]
    cmsis_objs = [(cache / "cmsis" / r).with_suffix(".o") for r in CMSIS_SOURCES]
    for lib in (cache / "libtflm.a", cache / "libcmsis_nn.a"):
        lib.unlink(missing_ok=True)
    # TFLM as a thin archive (members keep their paths), CMSIS-NN as a regular one.
    _run(["arm-none-eabi-ar", "rcT", cache / "libtflm.a", *tflm_objs], build)
    _run(["arm-none-eabi-ar", "rc", cache / "libcmsis_nn.a", *cmsis_objs], build)
    (build / "firmware.ld").write_text(linker_script(regions, data_region, region_symbols))
    objs = [Path(r).with_suffix(".o") for r in SOURCES]
    _run([GCC or "arm-none-eabi-gcc", *flags, "--specs=nano.specs", "--specs=nosys.specs",
          "-nostartfiles", "-T", "firmware.ld", "-Wl,--gc-sections", "-Wl,-Map,firmware.map",
          *objs, cache / "libtflm.a", cache / "libcmsis_nn.a", "-lm", "-o", "firmware.elf"],
         build)
    return Firmware(build / "firmware.elf", build / "firmware.map", model_size, arena_size)


def write_board(path: Path, *, name: str = "test_board", core: str = "cortex-m4",
                regions: Sequence[tuple[str, str, int, int]] = (FLASH, SRAM),
                budgets: dict[str, int] | None = None) -> Path:
    fpu = {"cortex-m0plus": "none", "cortex-m4": "fpv4-sp-d16", "cortex-m7": "fpv5-d16"}[core]
    lines = [f"name: {name}", "description: audit test board", "vendor: test", "mcu: test",
             "family: stm32f4", f"core: {core}", f"fpu: {fpu}", "clock_hz: 100000000",
             "memory:"]
    lines += [f"  - {{name: {n}, kind: {k}, origin: 0x{o:08x}, size: 0x{s:x}}}"
              for n, k, o, s in regions]
    lines += ["uart: {driver: stm32_usart, base: 0x40011000}", "timer: {driver: systick}"]
    if budgets:
        lines.append("budgets: {" + ", ".join(f"{k}: {v}" for k, v in budgets.items()) + "}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Firmware]:
    if GCC is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    root = tmp_path_factory.mktemp("audit")
    return {cpu: build_firmware(root / cpu, cpu=cpu) for cpu in CPU_FLAGS}


@pytest.fixture(scope="module")
def m4(builds: dict[str, Firmware]) -> Firmware:
    return builds["cortex-m4"]


@pytest.fixture(scope="module")
def board_m4(tmp_path_factory: pytest.TempPathFactory) -> Board:
    return load_board(str(write_board(tmp_path_factory.mktemp("boards") / "test_m4.yaml")))


def assert_consistent(report: AuditReport, elf: Path) -> None:
    """Totals equal arm-none-eabi-size's; roles and their components add up to them."""
    text, data, bss = size_totals(elf)
    t = report.totals
    assert (t.text, t.data, t.bss) == (text, data, bss)
    assert (t.flash, t.ram) == (text + data, data + bss)
    assert sum(r.flash for r in report.roles) == t.flash
    assert sum(r.ram for r in report.roles) == t.ram
    for r in report.roles:
        assert sum(c.flash for c in r.components) == r.flash
        assert sum(c.ram for c in r.components) == r.ram
    assert report.budget("flash").used == t.flash
    assert report.budget("ram").used == t.ram


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
    tflite = Path(__file__).resolve().parents[1] / "models" / "kws_tiny.tflite"
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


# --- budgets ----------------------------------------------------------------------------------


@needs_gcc
def test_model_too_big_for_the_board_is_over_budget(tmp_path: Path) -> None:
    regions = (("flash", "flash", 0x08000000, 0x10000), SRAM)
    fw = build_firmware(tmp_path / "fw", model_size=40000, regions=regions)
    board = load_board(str(write_board(tmp_path / "small.yaml", regions=regions,
                                       budgets={"flash": 32768})))
    report = audit_elf(fw.elf, board)
    assert_consistent(report, fw.elf)
    flash = report.regions[0]
    assert flash.budget == 32768 and flash.over == report.totals.flash - 32768
    with pytest.raises(OverBudgetError) as info:
        enforce_budgets(report)
    assert info.value.exit_code is ExitCode.OVER_BUDGET and int(ExitCode.OVER_BUDGET) == 5
    message = info.value.message
    assert "region 'flash'" in message
    assert f"{flash.over:,} bytes over budget" in message
    assert "model weights" in message and "g_model_data" in message
    enforce_budgets(audit_elf(fw.elf, board, budget_flash=0x10000))  # overridden: fits


@needs_gcc
def test_ram_budget_from_command_line(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4, budget_ram=4096)
    assert report.budget("ram").source == "command line"
    with pytest.raises(OverBudgetError, match=r"ram region 'sram' is .* bytes over budget"):
        enforce_budgets(report)
    with pytest.raises(InputError, match="must be > 0"):
        audit_elf(m4.elf, board_m4, budget_flash=0)


@needs_gcc
def test_several_regions_of_a_kind(tmp_path: Path) -> None:
    regions = (FLASH, ("ccm", "ram", 0x10000000, 0x10000), SRAM)
    fw = build_firmware(tmp_path / "fw", regions=regions)
    board = load_board(str(write_board(tmp_path / "b.yaml", regions=regions,
                                       budgets={"ram": 8192})))
    report = audit_elf(fw.elf, board)
    assert_consistent(report, fw.elf)
    assert [r.name for r in report.regions] == ["flash", "ccm", "sram"]  # address order
    assert report.regions[1].used == 0
    with pytest.raises(OverBudgetError, match=r"ram \(regions 'ccm', 'sram'\)"):
        enforce_budgets(report)


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


# --- diff and outputs ---------------------------------------------------------------------------


@needs_gcc
def test_diff_shows_growth_per_role_and_symbol(m4: Firmware, board_m4: Board,
                                               tmp_path: Path) -> None:
    bigger = build_firmware(tmp_path / "new", model_size=m4.model_size + 1600)
    new, old = audit_elf(bigger.elf, board_m4), audit_elf(m4.elf, board_m4)
    diff = diff_reports(new, old)
    totals = {d.name: d for d in diff.totals}
    assert totals["flash"].delta == new.totals.flash - old.totals.flash
    model = next(r for r in diff.roles if r.role == "model" and r.component is None)
    assert model.flash.delta == new.role("model").flash - old.role("model").flash
    assert 1600 - 16 < model.flash.delta < 1600 + 16
    assert diff.symbols[0].name == "g_model_data" and diff.symbols[0].delta == 1600
    text = render_diff_text(diff)
    assert "g_model_data" in text and "+1,600" in text
    assert "g_model_data" in render_diff_markdown(diff)
    as_json = json.loads(json.dumps(diff.to_json()))
    assert as_json["schema"] == "tinygen-audit-diff"
    assert as_json["symbols"][0] == {"name": "g_model_data", "role": "model", "kind": "text",
                                     "old": m4.model_size, "new": m4.model_size + 1600,
                                     "delta": 1600, "status": "changed"}
    same = diff_reports(old, old)
    assert not same.symbols and all(d.delta == 0 for d in same.totals)


@needs_gcc
def test_json_follows_the_documented_schema(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4)
    data = json.loads(json.dumps(report.to_json()))
    assert data["schema"] == "tinygen-audit" and data["schema_version"] == 1
    assert set(data) == {"schema", "schema_version", "elf", "board", "map", "attribution",
                         "totals", "budgets", "regions", "roles", "sections", "symbols",
                         "symbols_total", "notes"}
    text, data_size, bss = size_totals(m4.elf)
    assert data["totals"] == {"text": text, "data": data_size, "bss": bss,
                              "flash": text + data_size, "ram": data_size + bss}
    assert [r["role"] for r in data["roles"]] == [
        "model", "arena", "tflm", "kernel", "cmsis_nn", "harness", "port", "board", "runtime",
        "stack", "heap", "other"]
    assert len(data["symbols"]) == data["symbols_total"]
    assert len(report.to_json(top=3)["symbols"]) == 3
    assert set(data["symbols"][0]) == {"name", "address", "size", "kind", "section", "role",
                                       "component", "flash", "ram"}
    assert data["regions"][0]["roles"]["model"] == report.role("model").flash


@needs_gcc
def test_text_and_markdown(m4: Firmware, board_m4: Board) -> None:
    report = audit_elf(m4.elf, board_m4)
    text = render_text(report, top=5)
    assert "model weights" in text and "[" in text and "top 5 symbols" in text
    assert f"text {report.totals.text:,}" in text
    md = render_markdown(report)
    assert md.startswith("### Firmware size: `firmware.elf` (within budget)")
    assert "| region | kind | used | budget | use |" in md
    assert "<details>" in md


@needs_gcc
def test_treemap_html_is_self_contained(m4: Firmware, board_m4: Board,
                                        tmp_path: Path) -> None:
    report = audit_elf(m4.elf, board_m4)
    out = tmp_path / "flash.html"
    write_treemap_html(report, out)
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL):
        ElementTree.fromstring(svg)  # well-formed
    assert "model weights" in page and "g_model_data" not in page.split("<svg")[0]
    write_treemap_html(report, tmp_path / "again.html")
    assert (tmp_path / "again.html").read_text() == page  # deterministic


# --- pieces ---------------------------------------------------------------------------------


def test_role_table() -> None:
    cases = {
        "/c/tflm/tensorflow/lite/micro/kernels/cmsis_nn/conv.o": Role("kernel", "conv (cmsis-nn)"),
        "/c/tflm/tensorflow/lite/micro/kernels/conv_common.o": Role("kernel", "conv (reference)"),
        "/c/tflm/tensorflow/lite/micro/kernels/softmax.cc": Role("kernel", "softmax (reference)"),
        "/c/tflm/tensorflow/lite/micro/micro_allocator.o": Role("tflm", "micro_allocator"),
        "/c/tflm/third_party/flatbuffers/src/util.o": Role("tflm", "util"),
        "/c/CMSIS-NN/Source/SoftmaxFunctions/arm_softmax_s8.o": Role("cmsis_nn",
                                                                     "arm_softmax_s8"),
        "/o/cmsis-nn/Source/ConvolutionFunctions/arm_convolve_s8.o": Role("cmsis_nn",
                                                                          "arm_convolve_s8"),
        "/d/cmsis-nn-4ab83cc3cc98/Source/FullyConnectedFunctions/arm_fully_connected_s8.c":
            Role("cmsis_nn", "arm_fully_connected_s8"),
        "/c/tflm/tensorflow/lite/micro/kernels/kernel_util.o": Role("tflm", "kernel_util"),
        "/c/tflm/tensorflow/lite/kernels/internal/quantization_util.o": Role(
            "tflm", "quantization_util"),
        "/c/tflm/tensorflow/compiler/mlir/lite/core/api/error_reporter.o": Role(
            "tflm", "error_reporter"),
        "src/model_data.o": Role("model", "model_data"),
        "src/harness/th_lib.o": Role("harness", "th_lib"),
        "src/board/uart.o": Role("board", "uart"),
        "src/op_resolver.o": Role("port", "op_resolver"),
        "../../newlib/libm/math/e_exp.c": Role("runtime", "libm"),
        "/usr/lib/gcc/arm-none-eabi/12/thumb/crti.o": Role("runtime", "crt"),
        "/home/x/elsewhere/foo.o": Role("other", "/home/x/elsewhere/foo.o"),
    }
    for path, role in cases.items():
        assert classify_unit(Unit(path)) == role, path
    libs = {"libc_nano.a": "libc", "libg_nano.a": "libc", "libm.a": "libm",
            "libstdc++_nano.a": "libstdc++", "libsupc++.a": "libsupc++", "libgcc.a": "libgcc",
            "libnosys.a": "libnosys"}
    for lib, name in libs.items():
        assert classify_unit(Unit("lib_a-x.o", f"/usr/lib/{lib}")) == Role("runtime", name)
    assert classify_unit(Unit("x.o", "/b/libcmsis_nn.a")).role == "cmsis_nn"
    assert classify_section(".tensor_arena") == Role("arena", ".tensor_arena")
    assert classify_symbol("g_model_data") == Role("model", "g_model_data")
    assert classify_symbol("main") is None


def test_link_map_parser_handles_wrapped_names() -> None:
    lines = """
.text           0x08000010      0x100
 *(.text*)
 .text.a_rather_long_function_name
                0x08000010       0x48 src/main.o
                0x08000010                a_rather_long_function_name
 *fill*         0x08000058        0x8
 .text          0x08000060       0x20 /x/libc_nano.a(lib_a-memcpy.o)
 .text          0x08000080       0x10 /c/libtflm.a(/c/tflm/tensorflow/lite/micro/kernels/add.o)
 .text.empty    0x08000090        0x0 src/main.o
a_very_long_output_section_name
                0x20000000       0x10 load address 0x08000110
 .data          0x20000000       0x10 src/main.o
.debug_info     0x00000000      0x100
 .debug_info    0x00000000      0x100 src/main.o
""".splitlines()
    sections = parse_map_lines(lines, {".text", "a_very_long_output_section_name"})
    assert set(sections) == {".text", "a_very_long_output_section_name"}
    text = sections[".text"]
    assert (text.address, text.size) == (0x08000010, 0x100)
    assert [(i.address, i.size, i.unit) for i in text.inputs] == [
        (0x08000010, 0x48, Unit("src/main.o")),
        (0x08000060, 0x20, Unit("lib_a-memcpy.o", "/x/libc_nano.a")),
        (0x08000080, 0x10, Unit("/c/tflm/tensorflow/lite/micro/kernels/add.o", "/c/libtflm.a")),
    ]
    assert sections["a_very_long_output_section_name"].address == 0x20000000


def test_squarify_tiles_the_rectangle() -> None:
    values = [500.0, 300.0, 120.0, 50.0, 20.0, 10.0]
    rects = squarify(values, (0, 0, 300, 200))
    assert len(rects) == len(values)
    total = sum(values)
    for v, (x, y, w, h) in zip(values, rects, strict=True):
        assert w * h == pytest.approx(v / total * 300 * 200)
        assert x >= 0 and y >= 0 and x + w <= 300 + 1e-6 and y + h <= 200 + 1e-6


def test_layout_of_a_firmware_on_its_board_and_on_another(bringup_elf: Path) -> None:
    """The bring-up ELF for mps2_an386: right for it; for netduinoplus2 (flash at 0x08000000,
    SRAM at 0x20000000, 128 KiB) its vector table is off the boot origin and its code outside."""
    assert layout_problems(bringup_elf, load_board("mps2_an386")) == []
    problems = layout_problems(bringup_elf, load_board("netduinoplus2"))
    assert problems[0] == ("the vector table is at 0x00000000, not at the origin of 'flash' "
                           "(0x08000000) the core boots from")
    assert any(p.startswith(".text (0x") and "outside every memory region of netduinoplus2" in p
               for p in problems)
