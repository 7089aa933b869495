"""A firmware's fault report (its ``e-[<Fault>...]`` line, or QEMU's lockup) in words: which
function and source line, and what the Cortex-M fault status registers say happened."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tinygen.errors import DeviceError
from tinygen.runner.codesite import CodeSite, FirmwareCode

HANDLERS = ("HardFault", "MemManage", "BusFault", "UsageFault")
# The line the fault handlers of templates/board/startup.c.j2 print; a bare ``e-[HardFault]``
# is what tinygen's firmwares printed before.
_LINE = re.compile(r"e-\[(?P<handler>" + "|".join(HANDLERS) + r")(?P<overflow>, stack overflow)?"
                   r"(?::(?P<fields>(?: [a-z]+=0x[0-9a-fA-F]{1,8})*))?\]")
_FIELD = re.compile(r"([a-z]+)=0x([0-9a-fA-F]{1,8})")
# QEMU (target/arm, hw/intc/armv7m_nvic.c) stops with cpu_abort(): "qemu: fatal: <why>" and a
# register dump, R14 = LR, R15 = PC.
_QEMU_FATAL = re.compile(r"qemu: fatal: (?P<why>.+)")
_QEMU_REGISTER = re.compile(r"\bR(?P<n>1[45])=(?P<value>[0-9a-fA-F]{8})\b")

# Configurable Fault Status Register bits (ARMv7-M ARM B3.2.15; STKOF: ARMv8-M ARM D1.2.10).
IACCVIOL, DACCVIOL, MUNSTKERR, MSTKERR, MLSPERR, MMARVALID = 0, 1, 3, 4, 5, 7
IBUSERR, PRECISERR, IMPRECISERR, UNSTKERR, STKERR, LSPERR, BFARVALID = 8, 9, 10, 11, 12, 13, 15
UNDEFINSTR, INVSTATE, INVPC, NOCP, STKOF, UNALIGNED, DIVBYZERO = 16, 17, 18, 19, 20, 24, 25
# HardFault Status Register bits (ARMv7-M ARM B3.2.16).
VECTTBL, FORCED, DEBUGEVT = 1, 30, 31

_SIMPLE_CAUSES = (
    (IACCVIOL, "MPU violation fetching an instruction"),
    (MUNSTKERR, "MPU violation unstacking on exception return"),
    (MSTKERR, "MPU violation stacking on exception entry"),
    (MLSPERR, "MPU violation saving the FPU state"),
    (IBUSERR, "bus fault fetching an instruction"),
    (IMPRECISERR, "imprecise bus fault (a buffered write by an instruction before pc)"),
    (UNSTKERR, "bus fault unstacking on exception return"),
    (STKERR, "bus fault stacking on exception entry"),
    (LSPERR, "bus fault saving the FPU state"),
    (UNDEFINSTR, "undefined instruction"),
    (INVSTATE, "invalid state: a jump to an address without the Thumb bit (a call through a "
               "null or corrupt function pointer?)"),
    (INVPC, "invalid exception return (a corrupt EXC_RETURN or stack)"),
    (NOCP, "coprocessor instruction with the coprocessor off (is the FPU enabled?)"),
    (STKOF, "stack pointer below the stack limit (MSPLIM)"),
    (UNALIGNED, "unaligned access"),
    (DIVBYZERO, "divide by zero"),
)


@dataclass(frozen=True)
class Fault:
    """One fault report: the handler that ran, whether it saw a stack overflow, the registers
    it could read (pc, lr, psr, sp, cfsr, hfsr, mmfar, bfar: each only when known)."""

    handler: str
    line: str
    stack_overflow: bool = False
    registers: Mapping[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int | None:
        return self.registers.get(name)


class DeviceFaultError(DeviceError):
    """The firmware faulted (or the emulated core locked up): the session cannot go on."""

    def __init__(self, message: str, fault: Fault | None, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.fault = fault


def parse_fault(line: str) -> Fault | None:
    """The fault in a line from the device, or None when the line is no fault report."""
    m = _LINE.fullmatch(line.strip())
    if m is None:
        return None
    registers = {name: int(value, 16) for name, value in _FIELD.findall(m.group("fields") or "")}
    return Fault(m.group("handler"), line.strip(), m.group("overflow") is not None, registers)


def fault_causes(cfsr: int, hfsr: int, *, mmfar: int | None = None, bfar: int | None = None,
                 access: str | None = None, guard: range | None = None) -> list[str]:
    """The fault status registers in words, most telling first. ``access``: 'reading' or
    'writing', what the faulting instruction does (for the data faults); ``guard``: the
    addresses of the stack's guard."""
    causes: list[str] = []
    verb = access or "accessing"

    def bit(n: int) -> bool:
        return bool(cfsr >> n & 1)

    if bit(DACCVIOL):
        where = f" 0x{mmfar:08x}" if mmfar is not None and bit(MMARVALID) else ""
        if where and guard is not None and mmfar in guard:
            where += " (the guard below the stack)"
        causes.append(f"MPU violation {verb}{where}" if where else f"MPU violation {verb} data")
    if bit(PRECISERR):
        where = f" 0x{bfar:08x}" if bfar is not None and bit(BFARVALID) else ""
        causes.append(f"precise bus fault {verb}{where}" if where else "precise bus fault")
    causes += [text for n, text in _SIMPLE_CAUSES if bit(n)]
    if hfsr >> VECTTBL & 1:
        causes.append("bus fault reading the vector table")
    if not causes and hfsr >> FORCED & 1:
        causes.append("a fault escalated to HardFault")
    if not causes and hfsr >> DEBUGEVT & 1:
        causes.append("a debug event with no debugger")
    return causes


def describe_fault(fault: Fault, elf: Path | None) -> DeviceFaultError:
    """The error for a fault report, naming the code from ``elf`` when it is given."""
    pc, lr = fault.get("pc"), fault.get("lr")
    pc_site = lr_site = None
    access = None
    stack: tuple[int, int] | None = None
    guard: range | None = None
    if elf is not None and elf.is_file():
        try:
            with FirmwareCode(elf) as code:
                pc_site = code.site(pc) if pc is not None else None
                lr_site = code.site(lr) if lr is not None else None
                access = code.access(pc) if pc is not None else None
                start, end = code.symbol("__stack_start__"), code.symbol("__stack_end__")
                stack = (start, end) if start is not None and end is not None else None
                low = code.symbol("__stack_guard__")
                guard = range(low, start) if low is not None and start is not None else None
        except (OSError, ValueError):
            pass  # no names then: the registers still say what happened
    where = _where(pc, lr, pc_site, lr_site)
    causes = fault_causes(fault.get("cfsr") or 0, fault.get("hfsr") or 0,
                          mmfar=fault.get("mmfar"), bfar=fault.get("bfar"), access=access,
                          guard=guard)
    said = "; ".join(causes) or f"{fault.handler} (no fault status registers reported)"
    if fault.stack_overflow:
        size = f" {stack[1] - stack[0]:,}-byte" if stack else ""
        return DeviceFaultError(
            f"stack overflow: the firmware ran out of its{size} stack{where} ({said})", fault,
            hint="give it more stack: raise stack_size in the board file, or leave it out so "
                 "'tinygen build' sizes the stack from the measured peak (device line: "
                 f"{fault.line})")
    return DeviceFaultError(
        f"the firmware faulted{where}: {said}", fault,
        hint=f"a bug in the firmware or in what it was given, not in the link (device line: "
             f"{fault.line}); a fault in a TFLM or CMSIS-NN kernel often means a model the "
             f"runtime mishandles: check it with 'tinygen inspect'")


def _where(pc: int | None, lr: int | None, pc_site: CodeSite | None,
           lr_site: CodeSite | None) -> str:
    if pc_site is not None and pc_site.known:
        return f" in {pc_site}"
    caller = f", called from {lr_site}" if lr_site is not None and lr_site.known else (
        f", lr 0x{lr:08x}" if lr is not None else "")
    if pc is not None:
        return f" at 0x{pc:08x}{caller}"
    return ""


def describe_qemu_exit(output: str, elf: Path | None) -> DeviceFaultError | None:
    """The error for QEMU stopping on a fatal CPU state (a lockup: a fault no handler could
    take, such as one inside a fault handler), or None when its output shows none."""
    m = _QEMU_FATAL.search(output)
    if m is None:
        return None
    why = m.group("why").strip()
    registers = {int(r.group("n")): int(r.group("value"), 16)
                 for r in _QEMU_REGISTER.finditer(output[m.end():])}
    pc, lr = registers.get(15), registers.get(14)
    where = ""
    if elf is not None and elf.is_file() and pc is not None:
        try:
            with FirmwareCode(elf) as code:
                where = _where(pc, lr, code.site(pc), code.site(lr) if lr is not None else None)
        except (OSError, ValueError):
            where = f" at 0x{pc:08x}"
    elif pc is not None:
        where = f" at 0x{pc:08x}"
    locked = "Lockup" in why
    what = ("the emulated core locked up (a fault while no fault handler could run, e.g. "
            "inside one)" if locked else "QEMU stopped the emulated core")
    return DeviceFaultError(
        f"{what}{where}: QEMU said '{why}'", None,
        hint="a fault in a fault handler or with faults masked: tinygen's own handlers cannot "
             "fault, so look for code that masks faults or replaces the handlers"
        if locked else "QEMU stops like this on a state of the core it does not emulate")
