"""Time ``tinygen audit`` on a synthetic ~1 MB Cortex-M ELF (goal: under 2 s).

Builds, in a temporary folder, a firmware with a 600 KB model array and a few thousand
generated functions spread over TFLM/CMSIS-NN-like paths (``-g``, link map), then prints the
time of ``audit_elf`` with the map, without it (DWARF), and of merely opening the ELF with
pyelftools, with the ratios. Usage: ``python bench/audit_speed.py [--keep DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from elftools.elf.elffile import ELFFile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygen.audit import audit_elf, render_text

FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-g", "-O1",
         "-ffunction-sections", "-fdata-sections"]
MODEL_BYTES = 600 * 1024
UNITS = {  # path -> number of generated functions
    **{f"tflm/tensorflow/lite/micro/kernels/op{i}.c": 60 for i in range(12)},
    **{f"tflm/tensorflow/lite/micro/part{i}.c": 80 for i in range(8)},
    **{f"cmsis/CMSIS-NN/Source/Functions/arm_f{i}.c": 60 for i in range(8)},
    **{f"src/harness/h{i}.c": 50 for i in range(4)},
}
LINKER_SCRIPT = """
MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 2M
         SRAM (rwx) : ORIGIN = 0x20000000, LENGTH = 640K }
__tinygen_flash_start__ = ORIGIN(FLASH); __tinygen_flash_end__ = ORIGIN(FLASH) + LENGTH(FLASH);
__tinygen_sram_start__ = ORIGIN(SRAM); __tinygen_sram_end__ = ORIGIN(SRAM) + LENGTH(SRAM);
ENTRY(main)
SECTIONS {
  .text : { KEEP(*(.text.main)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .data : { *(.data*) . = ALIGN(4); } > SRAM AT > FLASH
  .bss (NOLOAD) : { *(.bss*) *(COMMON) } > SRAM
  .tensor_arena (NOLOAD) : ALIGN(16) { *(.tensor_arena) } > SRAM
  .stack (NOLOAD) : ALIGN(8) { . = . + 0x2000; } > SRAM
}
"""


def _unit_source(stem: str, count: int) -> str:
    lines = ["#include <stdint.h>"]
    for i in range(count):
        name = f"{stem}_fn{i}"
        lines.append(f"static int32_t {name}_table[{8 + i % 24}] = {{{i}, 1, 2, 3}};")
        lines.append(
            f"int32_t {name}(const int8_t *in, int32_t n) {{ int32_t acc = {i};"
            f" for (int32_t k = 0; k < n; k++) {{ acc += in[k] * {name}_table[k & 7];"
            f" acc ^= acc >> {1 + i % 5}; }} return acc + {name}_table[n & 7]; }}")
    return "\n".join(lines) + "\n"


def build(root: Path) -> Path:
    objs, calls, decls = [], [], []
    for rel, count in UNITS.items():
        src = root / rel
        src.parent.mkdir(parents=True, exist_ok=True)
        stem = src.stem
        src.write_text(_unit_source(stem, count))
        objs.append(src.with_suffix(".o"))
        for i in range(count):
            decls.append(f"int {stem}_fn{i}(const signed char *, int);")
            calls.append(f"acc += {stem}_fn{i}((const signed char *)g_model_data + {i}, 16);")
    main = root / "src" / "main.c"
    main.write_text(
        f"__attribute__((aligned(16), section(\".rodata.g_model_data\"))) "
        f"const unsigned char g_model_data[{MODEL_BYTES}] = {{1, 2, 3}};\n"
        "__attribute__((aligned(16), section(\".tensor_arena\"))) "
        "unsigned char g_tensor_arena[100000];\n"
        + "\n".join(decls) + "\nint main(void) { int acc = g_tensor_arena[0];\n"
        + "\n".join(calls) + "\nreturn acc; }\n")
    objs.append(main.with_suffix(".o"))
    procs = [subprocess.Popen(["arm-none-eabi-gcc", *FLAGS, "-c", str(o.with_suffix(".c")),
                               "-o", str(o)]) for o in objs]
    if any(p.wait() for p in procs):
        raise SystemExit("compiling failed")
    (root / "fw.ld").write_text(LINKER_SCRIPT)
    elf = root / "firmware.elf"
    subprocess.run(["arm-none-eabi-gcc", *FLAGS, "-nostdlib", "-T", str(root / "fw.ld"),
                    f"-Wl,-Map,{root / 'firmware.map'}", *map(str, objs), "-lgcc",
                    "-o", str(elf)], check=True)
    return elf


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def open_only(elf: Path) -> None:
    with elf.open("rb") as f:
        e = ELFFile(f)
        for _ in e.iter_sections():
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("arm-none-eabi-gcc") is None:
        print("arm-none-eabi-gcc is not installed", file=sys.stderr)
        return 8
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        elf = build(root)
        report = audit_elf(elf)
        size = report.totals.flash
        print(render_text(report, top=3).split("\n\n")[0])
        print(f"\nELF file {elf.stat().st_size:,} bytes, flash {size:,} bytes, "
              f"{len(report.symbols):,} symbols")
        base = best_of(args.repeat, lambda: open_only(elf))
        with_map = best_of(args.repeat, lambda: audit_elf(elf))
        alone = root / "alone"
        alone.mkdir(exist_ok=True)
        shutil.copy(elf, alone / "firmware.elf")
        dwarf = best_of(args.repeat, lambda: audit_elf(alone / "firmware.elf"))
        print(f"open with pyelftools (baseline): {base * 1000:8.1f} ms")
        print(f"audit with link map:             {with_map * 1000:8.1f} ms  "
              f"({with_map / base:.1f}x baseline)")
        print(f"audit with DWARF, no map:        {dwarf * 1000:8.1f} ms  "
              f"({dwarf / base:.1f}x baseline)")
        print("goal: under 2 s:", "met" if max(with_map, dwarf) < 2.0 else "MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
