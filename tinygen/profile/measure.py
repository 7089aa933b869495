"""One profiled inference on a started session: load an input, run it, ask for its operators."""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.errors import DeviceError
from tinygen.runner.protocol import DeviceReplyError, DutClient, OpTimes

# Seconds for each answer line of the profiled `infer`: a large model in QEMU, or on a slow
# core, takes far longer than an ordinary command.
INFER_TIMEOUT = 300.0


@dataclass(frozen=True)
class Measurement:
    """What the device measured: the operators of one inference, and that inference's
    `infer 1 W` timing window (microseconds on its timestamp clock, th_pre/th_post included)."""

    times: OpTimes
    window_us: int
    warmup: int


def measure_ops(client: DutClient, payload: bytes, warmup: int,
                timeout: float = INFER_TIMEOUT) -> Measurement:
    """``db load`` the input, ``infer 1 W``, then ``opprofile``: the last inference's times."""
    client.load(payload)
    window = client.infer(1, warmup, timeout=timeout)
    try:
        times = client.op_times()
    except DeviceReplyError as exc:
        if exc.line.startswith("e-[Unknown command: opprofile"):
            raise DeviceError(
                "the firmware has no per-operator profile (it is a normal build)",
                hint="let 'tinygen profile' build the profile firmware (leave out --elf), and "
                     "on a board flash that one") from exc
        raise
    return Measurement(times, window.elapsed_us, warmup)
