"""The profile over a serial port, against the harness's host build on a pseudo-terminal: the
real SerialTransport, DutClient and profile code, with figures the host port makes exact."""

from __future__ import annotations

import dataclasses

import pytest

from tests.profile.support import KWS_TINY, KWS_TINY_OPS
from tinygen.errors import DeviceError
from tinygen.model import load_model
from tinygen.profile import build_profile, format_profile, measure_ops
from tinygen.runner.protocol import DutClient
from tinygen.runner.session import identify, start_session
from tinygen.runner.transport import SerialTransport

GAP = 7  # host_port.c: ticks before each fake operator and after the last


def _op_ticks(i: int) -> int:
    return 1000 * (i + 1)


def test_cycles_share_and_macs_per_cycle(board_port: str) -> None:
    info = load_model(KWS_TINY)
    assert len(info.operators) == KWS_TINY_OPS
    with SerialTransport(board_port) as port:
        client = DutClient(port)
        start_session(client, emulated=False)
        assert identify(client, "kws01").model == "kws01"
        measured = measure_ops(client, bytes(490), warmup=2)
    profile = build_profile(info, measured, emulated=False)
    assert profile.unit == "cycles" and profile.clock_hz == 1_000_000
    ops_total = sum(_op_ticks(i) for i in range(KWS_TINY_OPS))
    assert profile.total_ticks == ops_total + GAP * (KWS_TINY_OPS + 1)
    assert [r.ticks for r in profile.rows] == [_op_ticks(i) for i in range(KWS_TINY_OPS)]
    assert [r.kind for r in profile.rows] == [op.name for op in info.operators]
    for r, op in zip(profile.rows, info.operators, strict=True):
        assert r.time == _op_ticks(op.index)  # a cycle per tick on a board
        assert r.share == pytest.approx(_op_ticks(op.index) / profile.total_ticks)
        assert r.macs == op.macs
        assert r.macs_per_unit == (op.macs / _op_ticks(op.index) if op.macs else None)
    assert profile.operators_total == ops_total
    table = format_profile(profile)
    assert "MACs/cycle" in table and f"{profile.total_ticks:,}" in table


def test_another_models_times_are_refused(board_port: str) -> None:
    # The device times 12 operators: its operator 11 is beyond a model of 11.
    info = load_model(KWS_TINY)
    cut = dataclasses.replace(info, operators=info.operators[:11])
    with SerialTransport(board_port) as port:
        client = DutClient(port)
        start_session(client, emulated=False)
        measured = measure_ops(client, bytes(490), warmup=0)
    with pytest.raises(DeviceError, match="timed operator 11, beyond its 11 operators"):
        build_profile(cut, measured, emulated=False)
