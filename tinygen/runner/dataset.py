"""Benchmark inputs in the MLCommons layout: ``<dir>/<model id>/y_labels.csv`` beside the files.

``y_labels.csv`` has no header; its columns are ``file, n_classes, class[, window_bytes,
stride_bytes]``. With the window columns (anomaly detection) each file is cut into windows of
``window_bytes`` every ``stride_bytes``, each sent as one input. Every row is checked, and every
file's size against the benchmark's payload, before anything is sent to a device.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from tinygen.benchmarks import BENCHMARKS
from tinygen.errors import InputError

LABELS_FILE = "y_labels.csv"
_ROW_HINT = "rows of y_labels.csv: file, n_classes, class[, window_bytes, stride_bytes]"


@dataclass(frozen=True)
class DatasetEntry:
    """One row of y_labels.csv: an input file and its true class."""

    file: Path
    n_classes: int
    label: int
    window_bytes: int | None
    stride_bytes: int | None
    size: int

    @property
    def window_count(self) -> int:
        if self.window_bytes is None or self.stride_bytes is None:
            return 1
        return (self.size - self.window_bytes) // self.stride_bytes + 1

    def read_windows(self) -> list[bytes]:
        """The inputs this file gives: the whole file, or its windows in order."""
        data = self.file.read_bytes()
        if len(data) != self.size:
            raise InputError(f"{self.file} changed size while the benchmark ran",
                             hint="leave the dataset alone while a benchmark reads it")
        if self.window_bytes is None or self.stride_bytes is None:
            return [data]
        return [data[i * self.stride_bytes:i * self.stride_bytes + self.window_bytes]
                for i in range(self.window_count)]


@dataclass(frozen=True)
class Dataset:
    folder: Path
    benchmark: str
    payload_bytes: int
    entries: tuple[DatasetEntry, ...]

    @property
    def input_count(self) -> int:
        """Inputs sent in accuracy mode: one per file, or one per window."""
        return sum(e.window_count for e in self.entries)


def dataset_folder(root: Path, benchmark: str) -> Path:
    """``root/<benchmark>`` (the MLCommons layout), or ``root`` itself if it holds the labels."""
    for folder in (root / benchmark, root):
        if (folder / LABELS_FILE).is_file():
            return folder
    raise InputError(
        f"no {LABELS_FILE} in {root / benchmark} or {root}",
        hint=f"a dataset folder holds <model id>/{LABELS_FILE} (rows: file, n_classes, class"
             "[, window_bytes, stride_bytes]) and the input files beside it")


def int_cell(text: str, where: str, column: str, minimum: int) -> int:
    """A whole-number cell of y_labels.csv, at least ``minimum``; InputError naming the cell."""
    try:
        value = int(text.strip())
    except ValueError:
        raise InputError(f"{where}: {column}: {text.strip()!r} is not a whole number",
                         hint=_ROW_HINT) from None
    if value < minimum:
        raise InputError(f"{where}: {column}: must be >= {minimum}, not {value}",
                         hint=_ROW_HINT)
    return value


def _entry(folder: Path, row: list[str], where: str, payload: int) -> DatasetEntry:
    if len(row) not in (3, 5):
        raise InputError(f"{where}: expected 3 columns (file, n_classes, class) or 5 (with "
                         f"window_bytes, stride_bytes), found {len(row)}", hint=_ROW_HINT)
    name = row[0].strip()
    n_classes = int_cell(row[1], where, "n_classes", 1)
    label = int_cell(row[2], where, "class", 0)
    if label >= n_classes:
        raise InputError(f"{where}: class: {label} is not below n_classes {n_classes}",
                         hint="classes count from 0: a row's class is 0 .. n_classes - 1")
    path = folder / name
    if not name or not path.is_file():
        raise InputError(f"{where}: file {name!r} does not exist in {folder}",
                         hint="file names are relative to the folder of y_labels.csv")
    size = path.stat().st_size
    window = stride = None
    if len(row) == 5:
        window = int_cell(row[3], where, "window_bytes", 1)
        stride = int_cell(row[4], where, "stride_bytes", 1)
        if window != payload:
            raise InputError(f"{where}: window_bytes: {window}, but the benchmark's input is "
                             f"{payload} bytes",
                             hint="is the dataset for another benchmark (--benchmark)?")
        if size < window or (size - window) % stride:
            raise InputError(
                f"{path}: {size} bytes do not split into windows of {window} bytes every "
                f"{stride} (the size must be {window} + a multiple of {stride})",
                hint="is the file truncated, or the row's window/stride wrong?")
    elif size != payload:
        raise InputError(f"{path}: {size} bytes, but one input of this benchmark is "
                         f"{payload} bytes",
                         hint="is the file for another benchmark, or truncated?")
    return DatasetEntry(path, n_classes, label, window, stride, size)


def _rows(labels: Path) -> list[tuple[int, list[str]]]:
    """The non-blank rows of ``labels`` with their line numbers. UTF-8, with or without the
    byte-order mark spreadsheets write."""
    try:
        text = labels.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = labels.read_bytes()[:exc.start].count(b"\n") + 1
        raise InputError(f"{labels}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02X})",
                         hint="save the file as UTF-8 (file names are ASCII in MLCommons "
                              "datasets)") from exc
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:  # e.g. a field over csv's limit of 128 KiB, or a NUL
        raise InputError(f"{labels}:{max(1, reader.line_num)}: not a CSV row: {exc}",
                         hint="rows are short: file, n_classes, class[, window_bytes, "
                              "stride_bytes]; is this the right file?") from exc
    return rows


def load_dataset(root: Path, benchmark: str, payload_bytes: int | None = None) -> Dataset:
    """Read and check ``root/<benchmark>/y_labels.csv`` and every file it names."""
    if payload_bytes is None:
        if benchmark not in BENCHMARKS:
            raise InputError(f"no dataset format for benchmark {benchmark!r}",
                             hint=f"datasets exist for {', '.join(BENCHMARKS)}")
        payload_bytes = BENCHMARKS[benchmark].payload_bytes
    folder = dataset_folder(root, benchmark)
    labels = folder / LABELS_FILE
    entries = [_entry(folder, row, f"{labels}:{lineno}", payload_bytes)
               for lineno, row in _rows(labels)]
    if not entries:
        raise InputError(f"{labels}: no rows",
                         hint="one row per input file: file, n_classes, class")
    classes = {e.n_classes for e in entries}
    if len(classes) > 1:
        raise InputError(f"{labels}: rows disagree on n_classes ({sorted(classes)})",
                         hint="every row of one dataset has the same n_classes")
    return Dataset(folder, benchmark, payload_bytes, tuple(entries))


def check_classes(dataset: Dataset, scores: int) -> None:
    """Refuse labels a firmware giving ``scores`` scores cannot be scored against: a classifier
    gives one score per class; a one-score model (anomaly detection) is scored on 2 classes."""
    n_classes = dataset.entries[0].n_classes
    wanted = scores if scores > 1 else 2
    if n_classes != wanted:
        raise InputError(
            f"{dataset.folder / LABELS_FILE}: {n_classes} classes, but the {dataset.benchmark} "
            f"firmware gives {scores} score{'s' if scores != 1 else ''}"
            + (" (normal or anomalous: 2 classes)" if scores == 1 else ""),
            hint="is the dataset for another model? its n_classes column must be "
                 f"{wanted}")


def synthetic_input(payload_bytes: int, index: int) -> bytes:
    """A deterministic stand-in input (when no dataset is given): timing only, no accuracy."""
    state = 0x9E3779B9 ^ index
    out = bytearray()
    for _ in range(payload_bytes):
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF  # an LCG: varied bytes, reproducible
        out.append(state >> 24)
    return bytes(out)
