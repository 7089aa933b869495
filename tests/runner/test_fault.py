"""Fault reports in words: the device's e- line parsed, the fault status registers decoded, the
Thumb load/store classifier, QEMU's lockup output (tinygen/runner/fault.py, codesite.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinygen.errors import DeviceError, ExitCode
from tinygen.runner.codesite import CodeSite, demangle, thumb_access
from tinygen.runner.fault import (
    DeviceFaultError,
    describe_fault,
    describe_qemu_exit,
    fault_causes,
    parse_fault,
)

BUS_FAULT = ("e-[BusFault: pc=0x00000d7c lr=0x0000074f psr=0x61000000 sp=0x200034e0 "
             "cfsr=0x00008200 hfsr=0x00000000 bfar=0x86667fe4]")
OVERFLOW = ("e-[MemManage, stack overflow: sp=0x200014e8 cfsr=0x00000092 hfsr=0x00000000 "
            "mmfar=0x2000150c]")


def test_a_fault_line_is_parsed_into_its_registers() -> None:
    fault = parse_fault(BUS_FAULT)
    assert fault is not None
    assert (fault.handler, fault.stack_overflow) == ("BusFault", False)
    assert fault.registers == {"pc": 0xD7C, "lr": 0x74F, "psr": 0x61000000, "sp": 0x200034E0,
                               "cfsr": 0x8200, "hfsr": 0, "bfar": 0x86667FE4}


def test_a_stack_overflow_line_has_no_frame_registers() -> None:
    fault = parse_fault(OVERFLOW)
    assert fault is not None and fault.stack_overflow
    assert fault.get("pc") is None and fault.get("mmfar") == 0x2000150C


def test_the_old_bare_hardfault_line_is_a_fault_too() -> None:
    fault = parse_fault("e-[HardFault]")
    assert fault is not None and fault.registers == {}


@pytest.mark.parametrize("line", ["e-[Invoke failed]", "e-[AllocateTensors failed with a 16-byte "
                                  "arena]", "m-[HardFault]", "e-[HardFault: pc=zz]", "e-[exit]"])
def test_other_lines_are_no_faults(line: str) -> None:
    assert parse_fault(line) is None


@pytest.mark.parametrize(("cfsr", "hfsr", "words"), [
    (1 << 9 | 1 << 15, 0, ["precise bus fault writing 0x86667fe4"]),
    (1 << 9, 0, ["precise bus fault"]),  # BFAR not valid: no address
    (1 << 10, 0, ["imprecise bus fault (a buffered write by an instruction before pc)"]),
    (1 << 1 | 1 << 7, 0, ["MPU violation writing 0x2000150c"]),
    (1 << 1 | 1 << 4 | 1 << 7, 0, ["MPU violation writing 0x2000150c",
                                   "MPU violation stacking on exception entry"]),
    (1 << 0, 0, ["MPU violation fetching an instruction"]),
    (1 << 8, 0, ["bus fault fetching an instruction"]),
    (1 << 12, 0, ["bus fault stacking on exception entry"]),
    (1 << 16, 0, ["undefined instruction"]),
    (1 << 17, 0, ["invalid state: a jump to an address without the Thumb bit (a call through a "
                  "null or corrupt function pointer?)"]),
    (1 << 18, 0, ["invalid exception return (a corrupt EXC_RETURN or stack)"]),
    (1 << 19, 0, ["coprocessor instruction with the coprocessor off (is the FPU enabled?)"]),
    (1 << 20, 0, ["stack pointer below the stack limit (MSPLIM)"]),
    (1 << 24, 0, ["unaligned access"]),
    (1 << 25, 0, ["divide by zero"]),
    (0, 1 << 1, ["bus fault reading the vector table"]),
    (0, 1 << 30, ["a fault escalated to HardFault"]),
    (1 << 25, 1 << 30, ["divide by zero"]),  # FORCED adds nothing when CFSR says why
    (0, 0, []),
])
def test_fault_status_bits_in_words(cfsr: int, hfsr: int, words: list[str]) -> None:
    assert fault_causes(cfsr, hfsr, mmfar=0x2000150C, bfar=0x86667FE4,
                        access="writing") == words


def test_an_address_in_the_stack_guard_is_named() -> None:
    words = fault_causes(1 << 1 | 1 << 7, 0, mmfar=0x2000150C, guard=range(0x20001500, 0x20001520))
    assert words == ["MPU violation accessing 0x2000150c (the guard below the stack)"]


def test_without_an_elf_the_message_has_the_address_and_the_cause() -> None:
    fault = parse_fault(BUS_FAULT)
    assert fault is not None
    err = describe_fault(fault, None)
    assert isinstance(err, DeviceError) and err.exit_code == ExitCode.DEVICE
    assert err.message == ("the firmware faulted at 0x00000d7c, lr 0x0000074f: precise bus "
                           "fault accessing 0x86667fe4")
    assert BUS_FAULT in (err.hint or "")


def test_a_stack_overflow_is_named_and_the_hint_is_the_stack_size() -> None:
    fault = parse_fault(OVERFLOW)
    assert fault is not None
    err = describe_fault(fault, Path("/nonexistent/firmware.elf"))
    assert err.message.startswith("stack overflow: the firmware ran out of its stack (")
    assert "stack_size" in (err.hint or "")


# (first halfword, second halfword or None, what it does): encodings as arm-none-eabi-as
# assembles them (ARMv7-M ARM A5.2, A5.3).
THUMB = [
    (0x6018, None, "writing"),  # str r0, [r3]
    (0x6818, None, "reading"),  # ldr r0, [r3]
    (0x54D1, None, "writing"),  # strb r1, [r2, r3]
    (0x5ED1, None, "reading"),  # ldrsh r1, [r2, r3]
    (0xB510, None, "writing"),  # push {r4, lr}
    (0xBD10, None, "reading"),  # pop {r4, pc}
    (0x9001, None, "writing"),  # str r0, [sp, #4]
    (0x4801, None, "reading"),  # ldr r0, [pc, #4]
    (0xC006, None, "writing"),  # stmia r0!, {r1, r2}
    (0x2001, None, None),  # movs r0, #1
    (0xF8C3, 0x0800, "writing"),  # str.w r0, [r3, #2048]
    (0xF8D3, 0x0800, "reading"),  # ldr.w r0, [r3, #2048]
    (0xE9C3, 0x0100, "writing"),  # strd r0, r1, [r3]
    (0xE9D3, 0x0100, "reading"),  # ldrd r0, r1, [r3]
    (0xED83, 0x0A00, "writing"),  # vstr s0, [r3]
    (0xED93, 0x0A00, "reading"),  # vldr s0, [r3]
    (0xED2D, 0x8B02, "writing"),  # vpush {d8}
    (0xEC41, 0x0B10, None),  # vmov d0, r0, r1
    (0xF7FF, 0xFFFE, None),  # bl
    (0xEB01, 0x0002, None),  # add.w r0, r1, r2
    (0xE842, 0x1000, "writing"),  # strex r0, r1, [r2]
    (0xF811, 0x0C04, "reading"),  # ldrb.w r0, [r1, #-4]
    (0xF821, 0x0012, "writing"),  # strh.w r0, [r1, r2, lsl #1]
    (0xF8C3, None, None),  # a 32-bit instruction cut short
]


@pytest.mark.parametrize(("first", "second", "kind"), THUMB)
def test_thumb_loads_and_stores(first: int, second: int | None, kind: str | None) -> None:
    assert thumb_access(first, second) == kind


def test_a_code_site_reads_as_function_and_line() -> None:
    assert str(CodeSite(0x100, "arm_svdf_s8", "svdf_s8.c", 123)) == "arm_svdf_s8 (svdf_s8.c:123)"
    assert str(CodeSite(0x100, "f")) == "f"
    assert str(CodeSite(0x100)) == "0x00000100"


@pytest.mark.skipif(shutil.which("arm-none-eabi-c++filt") is None,
                    reason="arm-none-eabi-c++filt is not installed")
def test_cxx_names_are_demangled_without_their_parameters() -> None:
    assert (demangle("_ZN6tflite12_GLOBAL__N_14EvalEP13TfLiteContextP10TfLiteNode")
            == "tflite::(anonymous namespace)::Eval")
    assert demangle("_ZN6tflite16MicroInterpreter6InvokeEv") == "tflite::MicroInterpreter::Invoke"
    assert demangle("arm_svdf_s8") == "arm_svdf_s8"


QEMU_LOCKUP = """\
qemu-system-arm: -chardev socket,id=uart0,path=/tmp/x/uart0.sock,server=on,wait=on: info: QEMU \
waiting for connection on: disconnected:unix:/tmp/x/uart0.sock,server=on
qemu: fatal: Lockup: can't escalate 3 to HardFault (current priority -1)

R00=12345678 R01=20003387 R02=00000000 R03=86667fe4
R04=20000478 R05=00000000 R06=00000001 R07=00000000
R08=00000000 R09=00000000 R10=00000000 R11=00000000
R12=00001d0c R13=200034a0 R14=00000a9d R15=00000d7c
XPSR=21000000 --C- T priv-thread
"""


def test_a_qemu_lockup_names_the_cpu_state() -> None:
    err = describe_qemu_exit(QEMU_LOCKUP, None)
    assert isinstance(err, DeviceFaultError)
    assert err.message == (
        "the emulated core locked up (a fault while no fault handler could run, e.g. inside one)"
        " at 0x00000d7c: QEMU said 'Lockup: can't escalate 3 to HardFault (current priority -1)'")


def test_an_ordinary_qemu_exit_is_no_fault() -> None:
    assert describe_qemu_exit("qemu-system-arm: terminating on signal 15\n", None) is None
