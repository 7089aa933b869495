"""Calibration data: layouts, labels, the seeded split, decoding and its errors (no TF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygen.errors import InputError
from tinygen.quantize.calibration import (
    Decoding,
    SampleRef,
    read_samples,
    scan_samples,
    split_samples,
    stored_dtype,
)

SHAPE = (1, 4, 2, 1)


def _bins(folder: Path, count: int, dtype: str = "int8") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i:03d}.bin"
        np.arange(i, i + 8).astype(dtype).tofile(path)
        paths.append(path)
    return paths


def test_folder_of_npy_and_bin_files(tmp_path: Path) -> None:
    np.save(tmp_path / "b.npy", np.ones((4, 2, 1), np.float32))
    np.arange(8, dtype="<f4").tofile(tmp_path / "a.bin")
    (tmp_path / "notes.txt").write_text("not a sample")
    data = scan_samples(tmp_path)
    assert data.layout == "folder" and not data.has_labels
    assert [s.name for s in data.samples] == ["a.bin", "b.npy"]
    x = read_samples(data.samples, SHAPE, Decoding())
    assert x.shape == (2, *SHAPE) and x.dtype == np.float32
    assert x[0].ravel().tolist() == list(range(8)) and np.all(x[1] == 1)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(InputError, match=r"empty calibration folder: no \.npy or \.bin files"):
        scan_samples(tmp_path)


def test_missing_data(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        scan_samples(tmp_path / "nope")
    (tmp_path / "one.bin").write_bytes(b"\x00" * 8)
    with pytest.raises(InputError, match=r"a folder or a \.npy file"):
        scan_samples(tmp_path / "one.bin")


def test_mlperf_folder_with_labels_and_windows(tmp_path: Path) -> None:
    _bins(tmp_path, 3)
    np.arange(24, dtype="<f4").tofile(tmp_path / "long.bin")  # 96 bytes: windows of 32 every 16
    (tmp_path / "y_labels.csv").write_text(
        "000.bin,3,0\n001.bin,3,2\n\n002.bin,3,1\nlong.bin,3,1,32,16\n")
    data = scan_samples(tmp_path)
    assert data.layout == "mlperf" and data.n_classes == 3 and data.has_labels
    assert [s.name for s in data.samples] == [
        "000.bin", "001.bin", "002.bin", "long.bin#0", "long.bin#1", "long.bin#2",
        "long.bin#3", "long.bin#4"]
    assert [s.label for s in data.samples][:3] == [0, 2, 1]
    windows = read_samples(data.samples[3:], SHAPE, Decoding("float32"))
    assert windows[1].ravel().tolist() == list(range(4, 12))


@pytest.mark.parametrize(("rows", "message"), [
    ("000.bin,3\n000.bin\n", r"y_labels.csv:2: expected file, class \(2 columns\)"),
    ("000.bin,3,3\n", "class: 3 is not below n_classes 3"),
    ("000.bin,x,1\n", "n_classes: 'x' is not a whole number"),
    ("missing.bin,3,1\n", "file 'missing.bin' does not exist"),
    ("000.bin,3,1\n001.bin,4,1\n", r"rows disagree on n_classes \(\[3, 4\]\)"),
    ("000.bin,3,1,5,2\n", "8 bytes do not split into windows of 5 bytes every 2"),
    ("\n\n", "no rows"),
])
def test_bad_label_rows(tmp_path: Path, rows: str, message: str) -> None:
    _bins(tmp_path, 2)
    (tmp_path / "y_labels.csv").write_text(rows)
    with pytest.raises(InputError, match=message):
        scan_samples(tmp_path)


def test_labels_file_for_a_plain_folder(tmp_path: Path) -> None:
    _bins(tmp_path / "data", 2)
    labels = tmp_path / "labels.csv"
    labels.write_text("001.bin,1\n000.bin,0\n")
    data = scan_samples(tmp_path / "data", labels)
    assert [(s.name, s.label) for s in data.samples] == [("001.bin", 1), ("000.bin", 0)]
    assert data.n_classes is None and data.labels_file == labels
    with pytest.raises(InputError, match=r"a \.npy of labels goes with a stacked \.npy"):
        scan_samples(tmp_path / "data", tmp_path / "labels.npy")


def test_stacked_npy(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.arange(5 * 8, dtype=np.float32).reshape(5, 4, 2, 1))
    np.save(tmp_path / "y.npy", np.array([0, 1, 0, 1, 1]))
    data = scan_samples(tmp_path / "x.npy", tmp_path / "y.npy")
    assert data.layout == "npy" and [s.label for s in data.samples] == [0, 1, 0, 1, 1]
    x = read_samples(data.samples[2:3], SHAPE, Decoding())
    assert x.ravel().tolist() == list(range(16, 24))
    np.save(tmp_path / "bad.npy", np.array([0, 1]))
    with pytest.raises(InputError, match="expected 5 integer class numbers"):
        scan_samples(tmp_path / "x.npy", tmp_path / "bad.npy")
    np.save(tmp_path / "wrong.npy", np.zeros((5, 3, 3), np.float32))
    stack = scan_samples(tmp_path / "wrong.npy")
    with pytest.raises(InputError, match=r"has shape \(N, 4, 2, 1\)"):
        read_samples(stack.samples[:1], SHAPE, Decoding())
    np.save(tmp_path / "empty.npy", np.zeros((0, 4, 2, 1), np.float32))
    with pytest.raises(InputError, match="no samples"):
        scan_samples(tmp_path / "empty.npy")


def test_split_is_seeded_and_disjoint() -> None:
    refs = [SampleRef(f"{i}", Path(f"{i}")) for i in range(50)]
    a = split_samples(refs, 20, 100, seed=3, source=Path("d"))
    b = split_samples(refs, 20, 100, seed=3, source=Path("d"))
    c = split_samples(refs, 20, 100, seed=4, source=Path("d"))
    assert a == b and a != c
    calibration, held_back = a
    assert len(calibration) == 20 and len(held_back) == 30
    assert not {r.name for r in calibration} & {r.name for r in held_back}
    assert len(split_samples(refs, 20, 5, seed=3, source=Path("d"))[1]) == 5


def test_split_needs_samples_to_hold_back() -> None:
    refs = [SampleRef(f"{i}", Path(f"{i}")) for i in range(10)]
    with pytest.raises(InputError, match="would hold none back") as exc:
        split_samples(refs, 10, 5, seed=0, source=Path("d"))
    assert exc.value.hint == "pass --samples 5, or give more data"
    with pytest.raises(InputError, match="at least 2 are needed"):
        split_samples(refs[:1], 1, 1, seed=0, source=Path("d"))


def test_int8_bins_are_dequantized(tmp_path: Path) -> None:
    paths = _bins(tmp_path, 1)
    ref = SampleRef(paths[0].name, paths[0])
    x = read_samples([ref], SHAPE, Decoding("int8", 0.5, 3))
    assert x.ravel().tolist() == [0.5 * (q - 3) for q in range(8)]
    assert stored_dtype(ref, Decoding("int8")) == "int8"


def test_uint8_npy_is_dequantized(tmp_path: Path) -> None:
    np.save(tmp_path / "u.npy", np.full((4, 2, 1), 255, np.uint8))
    ref = SampleRef("u.npy", tmp_path / "u.npy")
    assert stored_dtype(ref, Decoding()) == "uint8"
    x = read_samples([ref], SHAPE, Decoding(scale=1 / 255))
    assert np.allclose(x, 1.0)


def test_integer_data_needs_a_scale(tmp_path: Path) -> None:
    paths = _bins(tmp_path, 1)
    with pytest.raises(InputError, match="holds int8 values, but the float model takes float32"
                       ) as exc:
        read_samples([SampleRef(paths[0].name, paths[0])], SHAPE, Decoding("int8"))
    assert exc.value.hint is not None and "--input-scale" in exc.value.hint


def test_float_data_refuses_a_scale(tmp_path: Path) -> None:
    np.save(tmp_path / "f.npy", np.zeros((4, 2, 1), np.float32))
    with pytest.raises(InputError, match="--input-scale is for integer data"):
        read_samples([SampleRef("f.npy", tmp_path / "f.npy")], SHAPE, Decoding(scale=0.1))


def test_raw_size_mismatch_hints_at_the_dtype(tmp_path: Path) -> None:
    paths = _bins(tmp_path, 1)  # 8 int8 bytes for 8 values
    ref = SampleRef(paths[0].name, paths[0])
    with pytest.raises(InputError, match=r"8 bytes, but one float32 input \[1, 4, 2, 1\] is 32 "
                                         "bytes") as exc:
        read_samples([ref], SHAPE, Decoding())
    assert exc.value.hint is not None and "--bin-dtype int8" in exc.value.hint
    np.zeros(8, "<f4").tofile(paths[0])
    with pytest.raises(InputError, match="32 bytes, but one int8 input") as exc:
        read_samples([ref], SHAPE, Decoding("int8", 1.0))
    assert exc.value.hint is not None and "four bytes per value" in exc.value.hint
    paths[0].write_bytes(b"\x00" * 7)
    with pytest.raises(InputError, match="7 bytes") as exc:
        read_samples([ref], SHAPE, Decoding("int8", 1.0))
    assert exc.value.hint == "is the file for another model, or truncated?"


@pytest.mark.parametrize(("array", "message"), [
    (np.zeros((4, 2), np.float32), r"shape \(4, 2\), but the model's input is \[1, 4, 2, 1\]"),
    (np.zeros((4, 2, 1), np.complex64), "holds complex64 values"),
    (np.zeros((4, 2, 1), np.bool_), "holds bool values"),
    (np.full((4, 2, 1), np.nan, np.float32), "NaN or infinite"),
])
def test_bad_npy_samples(tmp_path: Path, array: np.ndarray[Any, Any], message: str) -> None:
    np.save(tmp_path / "s.npy", array)
    with pytest.raises(InputError, match=message):
        read_samples([SampleRef("s.npy", tmp_path / "s.npy")], SHAPE, Decoding())


def test_unreadable_npy(tmp_path: Path) -> None:
    (tmp_path / "s.npy").write_bytes(b"not numpy")
    with pytest.raises(InputError, match=r"not a readable \.npy file"):
        read_samples([SampleRef("s.npy", tmp_path / "s.npy")], SHAPE, Decoding())


@pytest.mark.parametrize(("decoding", "message"), [
    (Decoding("int4"), "samples stored as 'int4'"),
    (Decoding(zero_point=3), "an input zero point without an input scale"),
    (Decoding(scale=0.0), "the input scale must be a finite number > 0"),
    (Decoding(scale=float("nan")), "the input scale must be a finite number > 0"),
])
def test_bad_decoding(decoding: Decoding, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decoding.check()
