"""Calibration and evaluation samples: find, split, read and check them (no TensorFlow here).

DATA is one of:

- a folder of ``.npy`` and ``.bin`` files, one sample each (every such file in the folder);
- an MLPerf Tiny dataset folder: ``y_labels.csv`` (rows ``file, n_classes, class[,
  window_bytes, stride_bytes]``) names the files and their classes; with the window columns
  each file is cut into windows of ``window_bytes`` every ``stride_bytes``, one sample each;
- one ``.npy`` file holding a stack of samples, shape ``(N, *input shape)``.

``.npy`` files carry their dtype; ``.bin`` files are raw little-endian values of
``Decoding.bin_dtype``. Integer values (MLPerf Tiny KWS inputs are int8, already quantized for
the int8 reference model) are dequantized to the float model's input as
``scale * (q - zero_point)``; float values are used as they are.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinygen.errors import InputError
from tinygen.runner.dataset import int_cell

LABELS_FILE = "y_labels.csv"
BIN_DTYPES = ("float32", "int8", "uint8")
_SAMPLE_SUFFIXES = (".npy", ".bin")
_INT_KINDS = ("int8", "uint8", "int16", "uint16")
_SCALE_HINT = (
    "pass --input-scale and --input-zero-point to dequantize them (real = scale * (q - "
    "zero_point)): the input scale and zero point of the int8 model the files were made for, "
    "which 'tinygen inspect' shows (MLPerf Tiny kws01: 0.5847029 and 83)"
)

Floats = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class Decoding:
    """How stored values become float model inputs."""

    bin_dtype: str = "float32"
    scale: float | None = None
    zero_point: int | None = None

    def check(self) -> None:
        if self.bin_dtype not in BIN_DTYPES:
            raise InputError(f"samples stored as {self.bin_dtype!r}: tinygen reads "
                             f"{', '.join(BIN_DTYPES)}",
                             hint="name the element type of the .bin samples")
        if self.zero_point is not None and self.scale is None:
            raise InputError("an input zero point without an input scale",
                             hint="integer data is dequantized as scale * (q - zero_point)")
        if self.scale is not None and not (math.isfinite(self.scale) and self.scale > 0):
            raise InputError(f"the input scale must be a finite number > 0, not {self.scale}",
                             hint="e.g. 0.0039 (1/255)")


@dataclass(frozen=True)
class SampleRef:
    """Where one sample lives: a whole file, a window of a file, or a row of a stacked .npy."""

    name: str
    path: Path
    row: int | None = None  # row of a stacked .npy
    offset: int = 0  # byte offset of a window in a .bin file
    length: int | None = None  # window length in bytes (None: the whole file)
    label: int | None = None


@dataclass(frozen=True)
class SampleSet:
    """All samples DATA offers, in a fixed order; labels when DATA (or --labels) gives them."""

    source: Path
    layout: str  # 'folder', 'mlperf' or 'npy'
    samples: tuple[SampleRef, ...]
    n_classes: int | None
    labels_file: Path | None

    @property
    def has_labels(self) -> bool:
        return bool(self.samples) and all(s.label is not None for s in self.samples)


def scan_samples(data: Path, labels: Path | None = None) -> SampleSet:
    """The samples in DATA (see the module docstring), checked for existence, not content."""
    data = Path(data)
    if not data.exists():
        raise InputError(f"calibration data {data} does not exist",
                         hint="pass a folder of .npy/.bin files, an MLPerf Tiny dataset folder "
                              "or a .npy file of stacked samples")
    if data.is_file():
        if data.suffix.lower() != ".npy":
            raise InputError(f"{data}: calibration data is a folder or a .npy file of stacked "
                             "samples", hint="put the sample files in a folder and pass it")
        return _scan_stack(data, labels)
    if labels is not None and labels.suffix.lower() == ".npy":
        raise InputError(f"--labels {labels}: a .npy of labels goes with a stacked .npy; for a "
                         f"folder, give a CSV like {LABELS_FILE}",
                         hint="give --labels a CSV, or pass the samples as one stacked .npy")
    if labels is None and (data / LABELS_FILE).is_file():
        labels = data / LABELS_FILE
    if labels is not None:
        return _scan_labelled(data, labels)
    files = sorted(p for p in data.iterdir()
                   if p.is_file() and p.suffix.lower() in _SAMPLE_SUFFIXES)
    if not files:
        raise InputError(f"empty calibration folder: no .npy or .bin files in {data}",
                         hint="put one sample per .npy or .bin file there, or add a "
                              f"{LABELS_FILE} naming them")
    return SampleSet(data, "folder", tuple(SampleRef(p.name, p) for p in files), None, None)


def _npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype[Any]]:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})",
                         hint="save it with np.save (no pickled objects)") from exc
    return tuple(array.shape), array.dtype


def _scan_stack(data: Path, labels: Path | None) -> SampleSet:
    shape, _ = _npy_header(data)
    if not shape or shape[0] == 0:
        raise InputError(f"{data}: no samples (shape {shape}); a stack of samples has shape "
                         "(N, *input shape)",
                         hint="stack at least 2 samples along the first axis (np.stack)")
    count = shape[0]
    values: list[int | None] = [None] * count
    if labels is not None:
        values = list(_npy_labels(labels, count))
    samples = tuple(SampleRef(f"{data.name}[{i}]", data, row=i, label=values[i])
                    for i in range(count))
    return SampleSet(data, "npy", samples, None, labels)


def _npy_labels(path: Path, count: int) -> list[int]:
    if path.suffix.lower() != ".npy":
        raise InputError(f"--labels {path}: for a stacked .npy, labels are a .npy of {count} "
                         "class numbers",
                         hint="save the labels with np.save(path, np.array(classes))")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})",
                         hint="save it with np.save (no pickled objects)") from exc
    flat = array.reshape(-1) if array.ndim == 2 and 1 in array.shape else array
    if flat.ndim != 1 or len(flat) != count or array.dtype.kind not in "iu":
        raise InputError(f"{path}: expected {count} integer class numbers, found "
                         f"{array.dtype} values of shape {array.shape}",
                         hint="one integer class per sample, in the order of the stack")
    if len(flat) and flat.min() < 0:
        raise InputError(f"{path}: class numbers must be >= 0",
                         hint="classes count from 0")
    return [int(v) for v in flat]


def _scan_labelled(folder: Path, labels: Path) -> SampleSet:
    """Rows ``file, class`` or ``file, n_classes, class[, window_bytes, stride_bytes]``."""
    try:
        with labels.open(newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{labels}: cannot read: {exc}",
                         hint="save the labels as UTF-8 CSV text") from exc
    samples: list[SampleRef] = []
    classes: set[int] = set()
    for lineno, row in enumerate(rows, start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        where = f"{labels}:{lineno}"
        if len(row) not in (2, 3, 5):
            raise InputError(f"{where}: expected file, class (2 columns) or file, n_classes, "
                             f"class[, window_bytes, stride_bytes] (3 or 5), found {len(row)}",
                             hint=f"rows of {LABELS_FILE}: file, class (or file, n_classes, class)")
        name = row[0].strip()
        path = folder / name
        if not name or not path.is_file():
            raise InputError(f"{where}: file {name!r} does not exist in {folder}",
                             hint=f"file names are relative to the folder of {LABELS_FILE}")
        if len(row) == 2:
            label = int_cell(row[1], where, "class", 0)
        else:
            n = int_cell(row[1], where, "n_classes", 1)
            label = int_cell(row[2], where, "class", 0)
            if label >= n:
                raise InputError(f"{where}: class: {label} is not below n_classes {n}",
                                 hint="classes count from 0: a row's class is 0 .. n_classes - 1")
            classes.add(n)
        if len(row) == 5:
            samples.extend(_windows(path, row, where, label))
        else:
            samples.append(SampleRef(name, path, label=label))
    if not samples:
        raise InputError(f"{labels}: no rows", hint="each row names one sample file")
    if len(classes) > 1:
        raise InputError(f"{labels}: rows disagree on n_classes ({sorted(classes)})",
                         hint="every row of one labels file has the same n_classes")
    n_classes = classes.pop() if classes else None
    return SampleSet(folder, "mlperf", tuple(samples), n_classes, labels)


def _windows(path: Path, row: Sequence[str], where: str, label: int) -> list[SampleRef]:
    window = int_cell(row[3], where, "window_bytes", 1)
    stride = int_cell(row[4], where, "stride_bytes", 1)
    size = path.stat().st_size
    if size < window or (size - window) % stride:
        raise InputError(f"{path}: {size} bytes do not split into windows of {window} bytes "
                         f"every {stride}", hint="is the file truncated, or the row's "
                                                 "window/stride wrong?")
    return [SampleRef(f"{path.name}#{i}", path, offset=i * stride, length=window, label=label)
            for i in range((size - window) // stride + 1)]


def split_samples(samples: Sequence[SampleRef], calibration: int, held_back: int, seed: int,
                  source: Path) -> tuple[tuple[SampleRef, ...], tuple[SampleRef, ...]]:
    """A seeded shuffle: the first ``calibration`` samples calibrate, the next (at most
    ``held_back``) are held back to compare the float and int8 models on."""
    if calibration < 1 or held_back < 1:
        raise InputError("the calibration and the held-back sample counts must be >= 1",
                         hint="e.g. 100 to calibrate and 20 to compare on")
    n = len(samples)
    if n < 2:
        raise InputError(f"{source}: {n} sample; at least 2 are needed (one to calibrate, one "
                         "held back to compare the models on)",
                         hint="give more samples (a folder or a stacked .npy)")
    if n <= calibration:
        raise InputError(
            f"{source}: {n} samples, and --samples {calibration} for calibration would hold "
            "none back to compare the float and int8 models on",
            hint=f"pass --samples {max(1, n // 2)}, or give more data")
    order = np.random.default_rng(seed).permutation(n)
    chosen = [samples[int(i)] for i in order[:calibration + held_back]]
    return tuple(chosen[:calibration]), tuple(chosen[calibration:])


def stored_dtype(ref: SampleRef, decoding: Decoding) -> str:
    """The element type a sample is stored in: the .npy's dtype, or ``--bin-dtype``."""
    if ref.path.suffix.lower() == ".npy":
        return _npy_header(ref.path)[1].name
    return decoding.bin_dtype


def read_samples(refs: Sequence[SampleRef], input_shape: tuple[int, ...],
                 decoding: Decoding) -> Floats:
    """The samples as float32 model inputs, shape ``(len(refs), *input_shape)``."""
    decoding.check()
    out = np.empty((len(refs), *input_shape), dtype=np.float32)
    for i, ref in enumerate(refs):
        out[i] = _read_one(ref, input_shape, decoding)
    return out


def _read_one(ref: SampleRef, shape: tuple[int, ...], decoding: Decoding) -> Floats:
    if ref.path.suffix.lower() == ".npy":
        values = _read_npy(ref, shape)
    else:
        values = _read_raw(ref, shape, decoding.bin_dtype)
    return _to_float(values, ref, decoding).reshape(shape)


def _read_npy(ref: SampleRef, shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    try:
        array = np.load(ref.path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"{ref.path}: not a readable .npy file ({exc})",
                         hint="save it with np.save (no pickled objects)") from exc
    if ref.row is not None:
        if array.shape[1:] not in _accepted_shapes(shape):
            raise InputError(
                f"{ref.path}: shape {tuple(array.shape)}, but a stack of samples for the input "
                f"{list(shape)} has shape (N, {', '.join(str(d) for d in shape[1:])})",
                hint="stack samples of the model's input shape along a new first axis")
        array = array[ref.row]
    elif tuple(array.shape) not in _accepted_shapes(shape):
        raise InputError(f"{ref.path}: shape {tuple(array.shape)}, but the model's input is "
                         f"{list(shape)}", hint="is the file for another model?")
    return np.asarray(array)


def _accepted_shapes(shape: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """The input shape with or without its leading batch dimension of 1."""
    return (shape, shape[1:]) if shape and shape[0] == 1 else (shape,)


def _read_raw(ref: SampleRef, shape: tuple[int, ...], dtype: str) -> np.ndarray[Any, Any]:
    try:
        with ref.path.open("rb") as f:
            f.seek(ref.offset)
            data = f.read() if ref.length is None else f.read(ref.length)
    except OSError as exc:
        raise InputError(f"{ref.path}: cannot read: {exc.strerror}",
                         hint="check the path and its permissions") from exc
    elements = math.prod(shape)
    itemsize = np.dtype(dtype).itemsize
    if len(data) != elements * itemsize:
        raise InputError(f"{ref.name}: {len(data)} bytes, but one {dtype} input "
                         f"{list(shape)} is {elements * itemsize} bytes",
                         hint=_size_hint(len(data), elements, dtype))
    return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"))


def _size_hint(size: int, elements: int, dtype: str) -> str:
    if size == elements and dtype == "float32":
        return ("the file holds one byte per value: pass --bin-dtype int8 (or uint8) with "
                "--input-scale and --input-zero-point (MLPerf Tiny kws01 files are int8)")
    if size == elements * 4 and dtype != "float32":
        return "the file holds four bytes per value: float32? (then leave out --bin-dtype)"
    return "is the file for another model, or truncated?"


def _to_float(values: np.ndarray[Any, Any], ref: SampleRef, decoding: Decoding) -> Floats:
    kind = values.dtype.name
    if values.dtype.kind == "f":
        if decoding.scale is not None:
            raise InputError(f"{ref.name}: holds {kind} values, but --input-scale is for "
                             "integer data", hint="leave out --input-scale/--input-zero-point")
        result: Floats = values.astype(np.float32)
        if not np.all(np.isfinite(result)):
            raise InputError(f"{ref.name}: holds NaN or infinite values",
                             hint="replace or drop the samples with NaN or infinite values")
        return result
    if kind not in _INT_KINDS:
        raise InputError(f"{ref.name}: holds {kind} values; samples are float, int8, uint8 or "
                         "int16",
                         hint="convert the samples to float32 (or int8, uint8, int16 with "
                              "--input-scale)")
    if decoding.scale is None:
        raise InputError(f"{ref.name}: holds {kind} values, but the float model takes float32",
                         hint=_SCALE_HINT)
    zero_point = decoding.zero_point or 0
    return ((values.astype(np.float32) - np.float32(zero_point))
            * np.float32(decoding.scale)).astype(np.float32)
