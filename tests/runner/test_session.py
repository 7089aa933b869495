"""Choosing the transport and the inputs of a session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.board import load_board
from tinygen.errors import InputError, NotEmulatedError
from tinygen.runner.dataset import load_dataset, synthetic_input
from tinygen.runner.session import bench_inputs, open_transport, payload_bytes, transport_json

from .test_dataset import write_dataset


def test_performance_takes_the_first_window_of_each_file(tmp_path: Path) -> None:
    rows = [(f"f{i}.bin", bytes([i]) * 2560, "2,0,2560,512") for i in range(6)]
    ds = load_dataset(write_dataset(tmp_path, "ad01", rows), "ad01")
    assert [i.name for i in bench_inputs(ds, "ad01", 5)] == [f"f{i}.bin" for i in range(5)]


def test_fewer_files_than_windows_are_filled_with_later_windows(tmp_path: Path) -> None:
    data = bytes(range(256)) * 14  # 3584 bytes: 3 windows
    rows = [("a.bin", data, "2,0,2560,512"), ("b.bin", data[::-1], "2,1,2560,512")]
    ds = load_dataset(write_dataset(tmp_path, "ad01", rows), "ad01")
    items = bench_inputs(ds, "ad01", 5)
    assert [i.name for i in items] == ["a.bin", "b.bin", "a.bin#1", "a.bin#2", "b.bin#1"]
    assert items[2].data == data[512:3072]


def test_without_a_dataset_the_inputs_are_synthetic() -> None:
    items = bench_inputs(None, "ic01", 2)
    assert [(i.name, i.data) for i in items] == [("synthetic-0", synthetic_input(3072, 0)),
                                                 ("synthetic-1", synthetic_input(3072, 1))]
    with pytest.raises(InputError, match="knows the inputs of kws01"):
        payload_bytes("generic")


def test_transport_choice() -> None:
    nucleo = load_board("nucleo_l4r5zi")
    with pytest.raises(NotEmulatedError, match="not emulated") as info:
        open_transport(nucleo, Path("fw.elf"), None, None)
    assert "serial port" in info.value.hint
    an386 = load_board("mps2_an386")
    with pytest.raises(InputError, match="QEMU needs a firmware ELF"):
        open_transport(an386, None, None, None)
    assert transport_json(nucleo, "/dev/ttyACM0", None) == {
        "kind": "serial", "port": "/dev/ttyACM0", "baud": 115200}
    assert transport_json(an386, None, None) == {
        "kind": "qemu", "machine": "mps2-an386", "icount_shift": 0}
