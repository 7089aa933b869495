"""The audit's pieces on their own: the role table (roles.py), the link-map parser (linkmap.py),
squarified tiles (treemap.py) and section placement (layout.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.audit.layout import layout_problems
from tinygen.audit.linkmap import parse_map_lines
from tinygen.audit.roles import Role, Unit, classify_section, classify_symbol, classify_unit
from tinygen.audit.treemap import squarify
from tinygen.board import load_board

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
