"""Bit-exactness: run a firmware in QEMU and compare its raw outputs with the host interpreter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tinygen.board import Board
from tinygen.model import ModelInfo
from tinygen.reference import host_output_bytes
from tinygen.runner.emulator import QemuTransport
from tinygen.runner.protocol import DutClient


@dataclass(frozen=True)
class InputCheck:
    label: str
    device: bytes
    host: bytes
    instructions: int  # per inference, under -icount shift=0

    @property
    def equal(self) -> bool:
        return self.device == self.host

    def to_json(self) -> dict[str, object]:
        return {"input": self.label, "equal": self.equal, "device": self.device.hex(),
                "host": self.host.hex(), "instructions": self.instructions}


def verify_firmware(board: Board, elf: Path, info: ModelInfo, benchmark: str,
                    inputs: Sequence[tuple[str, bytes]],
                    on_input: Callable[[InputCheck], None] | None = None) -> list[InputCheck]:
    """Load each input, ``infer 1 0``, read ``outbytes``; compare with the host TFLM bytes."""
    checks = []
    with QemuTransport(board, elf) as uart:
        dut = DutClient(uart, elf=elf)
        dut.start()
        for label, payload in inputs:
            dut.load(payload)
            result = dut.infer(1, 0)
            check = InputCheck(label, dut.outbytes(),
                               host_output_bytes(info, benchmark, payload),
                               result.elapsed_us * 1000)
            checks.append(check)
            if on_input:
                on_input(check)
    return checks
