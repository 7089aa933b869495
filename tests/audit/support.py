"""What the audit tests share: stand-in firmware built with the real cross-compiler, board files,
and the consistency check of a report against arm-none-eabi-size."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tinygen.audit.report import AuditReport

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


