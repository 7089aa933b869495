"""A profile: the device's operator times joined with the model's operators (type, output
shape, MACs), in the unit the clock counts (instructions under QEMU, cycles on a board)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinygen.errors import DeviceError
from tinygen.model import ModelInfo
from tinygen.profile.measure import Measurement
from tinygen.tables import bar, format_table

# QEMU runs with -icount shift=0: one instruction is one nanosecond of virtual time, so a
# counter at clock_hz ticks 1e9 / clock_hz instructions.
NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class OpRow:
    """One operator of the model; ``ticks`` None: it does not run (folded at generation
    time by the native runtime)."""

    index: int
    kind: str
    output_shape: tuple[int, ...]
    macs: int
    ticks: int | None
    time: float | None  # in the profile's unit
    share: float | None  # of the whole inference

    @property
    def macs_per_unit(self) -> float | None:
        if not self.macs or not self.time:
            return None
        return self.macs / self.time

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "type": self.kind, "output_shape": list(self.output_shape),
                "macs": self.macs, "ticks": self.ticks,
                "time": None if self.time is None else round(self.time),
                "share": None if self.share is None else round(self.share, 6),
                "macs_per_unit": (None if self.macs_per_unit is None
                                  else round(self.macs_per_unit, 4))}


@dataclass(frozen=True)
class Profile:
    """One inference, operator by operator; times in ``unit`` (instructions or cycles)."""

    rows: tuple[OpRow, ...]
    unit: str
    clock_hz: int
    total_ticks: int
    window_us: int
    warmup: int

    @property
    def per_tick(self) -> float:
        """Units per tick of the device's counter."""
        return NS_PER_SECOND / self.clock_hz if self.unit == "instructions" else 1.0

    @property
    def total(self) -> float:
        """The whole inference, as the firmware timed it (start to stop of th_infer's run)."""
        return self.total_ticks * self.per_tick

    @property
    def operators_total(self) -> float:
        return sum(r.time for r in self.rows if r.time is not None)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        between = self.total - self.operators_total
        return {"unit": self.unit, "clock_hz": self.clock_hz, "warmup": self.warmup,
                "operators": [r.to_json() for r in self.rows],
                "total": {"ticks": self.total_ticks, "time": round(self.total),
                          "operators_time": round(self.operators_total),
                          "between_operators_time": round(between),
                          "macs": self.macs,
                          "macs_per_unit": round(self.macs / self.total, 4) if self.total else None,
                          "window_us": self.window_us}}


def build_profile(info: ModelInfo, measured: Measurement, emulated: bool) -> Profile:
    """Join the device's times with ``info``'s operators; refuse times that cannot be this
    model's (an index out of range, an operator twice)."""
    times = measured.times
    unit = "instructions" if emulated else "cycles"
    per_tick = NS_PER_SECOND / times.clock_hz if emulated else 1.0
    ticks: dict[int, int] = {}
    for index, value in times.ops:
        if index >= len(info.operators) or index in ticks:
            what = "beyond its" if index >= len(info.operators) else "twice among its"
            raise DeviceError(
                f"the firmware timed operator {index}, {what} {len(info.operators)} "
                f"operators: it runs another model than {info.path}",
                hint="give the model the firmware was built from, or let 'tinygen profile' "
                     "build the firmware (leave out --elf)")
        ticks[index] = value
    total = times.total * per_tick
    rows = []
    for op in info.operators:
        t = ticks.get(op.index)
        time = None if t is None else t * per_tick
        rows.append(OpRow(
            index=op.index, kind=op.name,
            output_shape=info.tensors[op.outputs[0]].shape if op.outputs else (),
            macs=op.macs, ticks=t, time=time,
            share=None if time is None or total <= 0 else time / total))
    return Profile(tuple(rows), unit, times.clock_hz, times.total, measured.window_us,
                   measured.warmup)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def format_profile(profile: Profile) -> str:
    """The table: one line per operator, then the operators' sum and the whole inference."""
    unit = profile.unit
    per = "MACs/instr." if unit == "instructions" else "MACs/cycle"
    headers = ("#", "operator", "output", "MACs", unit, "share", per, "")
    rows: list[list[object]] = []
    for r in profile.rows:
        if r.time is None:
            rows.append([r.index, r.kind, _shape(r.output_shape), f"{r.macs:,}",
                         "folded", "-", "-", ""])
            continue
        rows.append([r.index, r.kind, _shape(r.output_shape), f"{r.macs:,}", f"{r.time:,.0f}",
                     f"{100 * (r.share or 0):.1f}%",
                     "-" if r.macs_per_unit is None else f"{r.macs_per_unit:.3f}",
                     bar(r.share or 0, 20)])
    between = profile.total - profile.operators_total
    total = profile.total
    rows.append(["", "operators", "", f"{profile.macs:,}", f"{profile.operators_total:,.0f}",
                 f"{100 * profile.operators_total / total:.1f}%" if total else "-", "", ""])
    rows.append(["", "between operators", "", "", f"{between:,.0f}",
                 f"{100 * between / total:.1f}%" if total else "-", "", ""])
    rows.append(["", "whole inference", "", f"{profile.macs:,}", f"{total:,.0f}", "100.0%",
                 f"{profile.macs / total:.3f}" if total else "-", ""])
    return format_table(headers, rows, align_right=(0, 3, 4, 5, 6))
