"""Reading datasets in the MLCommons layout, and refusing broken ones before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.errors import InputError
from tinygen.runner.dataset import check_classes, load_dataset, synthetic_input

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "mlperf-tiny" / "datasets"


def write_dataset(root: Path, benchmark: str, rows: list[tuple[str, bytes, str]]) -> Path:
    """``rows``: (file name, its bytes, the rest of its y_labels.csv row)."""
    folder = root / benchmark
    folder.mkdir(parents=True, exist_ok=True)
    for name, data, _ in rows:
        (folder / name).write_bytes(data)
    (folder / "y_labels.csv").write_text("".join(f"{n},{rest}\n" for n, _, rest in rows))
    return root


def test_reads_rows_in_order(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, "kws01", [("a.bin", bytes(490), "12,7"),
                                             ("b.bin", bytes(range(256)) + bytes(234), "12,0")])
    ds = load_dataset(root, "kws01")
    assert ds.benchmark == "kws01" and ds.payload_bytes == 490
    assert [(e.file.name, e.n_classes, e.label) for e in ds.entries] == [
        ("a.bin", 12, 7), ("b.bin", 12, 0)]
    assert ds.entries[1].read_windows() == [bytes(range(256)) + bytes(234)]
    assert ds.input_count == 2
    # the model folder itself is accepted too
    assert load_dataset(root / "kws01", "kws01").entries == ds.entries


def test_wrong_size_names_the_file_and_both_sizes(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, "kws01", [("a.bin", bytes(490), "12,1"),
                                             ("short.bin", bytes(489), "12,1")])
    with pytest.raises(InputError) as err:
        load_dataset(root, "kws01")
    assert "short.bin: 489 bytes" in err.value.message
    assert "490 bytes" in err.value.message


@pytest.mark.parametrize(("row", "problem"), [
    ("a.bin,12", "expected 3 columns"),
    ("a.bin,12,12", "class: 12 is not below n_classes 12"),
    ("a.bin,twelve,1", "n_classes: 'twelve' is not a whole number"),
    ("a.bin,12,-1", "class: must be >= 0"),
    ("missing.bin,12,1", "file 'missing.bin' does not exist"),
    ("a.bin,12,1,490", "expected 3 columns"),
])
def test_bad_rows_name_the_line_and_column(tmp_path: Path, row: str, problem: str) -> None:
    folder = tmp_path / "kws01"
    folder.mkdir()
    (folder / "a.bin").write_bytes(bytes(490))
    (folder / "y_labels.csv").write_text(f"a.bin,12,0\n{row}\n")
    with pytest.raises(InputError) as err:
        load_dataset(tmp_path, "kws01")
    assert f"y_labels.csv:2: {problem}" in err.value.message


def test_empty_missing_and_inconsistent_label_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no y_labels\.csv"):
        load_dataset(tmp_path, "kws01")
    write_dataset(tmp_path, "kws01", [])
    with pytest.raises(InputError, match="no rows"):
        load_dataset(tmp_path, "kws01")
    write_dataset(tmp_path, "kws01", [("a.bin", bytes(490), "12,0"), ("b.bin", bytes(490), "10,0")])
    with pytest.raises(InputError, match="disagree on n_classes"):
        load_dataset(tmp_path, "kws01")
    with pytest.raises(InputError, match="no dataset format"):
        load_dataset(tmp_path, "generic")


def test_anomaly_files_are_cut_into_overlapping_windows(tmp_path: Path) -> None:
    data = bytes(i % 251 for i in range(2560 + 2 * 512))
    root = write_dataset(tmp_path, "ad01", [("n.bin", data, "2,0,2560,512")])
    (entry,) = load_dataset(root, "ad01").entries
    assert entry.window_count == 3
    windows = entry.read_windows()
    assert windows == [data[0:2560], data[512:3072], data[1024:3584]]


@pytest.mark.parametrize(("size", "rest", "problem"), [
    (2560 + 100, "2,0,2560,512", "do not split into windows"),
    (2000, "2,0,2560,512", "do not split into windows"),
    (3072, "2,0,3072,512", "window_bytes: 3072, but the benchmark's input is 2560 bytes"),
    (3072, "2,0,2560,0", "stride_bytes: must be >= 1"),
])
def test_bad_windows(tmp_path: Path, size: int, rest: str, problem: str) -> None:
    root = write_dataset(tmp_path, "ad01", [("n.bin", bytes(size), rest)])
    with pytest.raises(InputError, match=problem):
        load_dataset(root, "ad01")


def test_the_shared_reference_datasets() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"no reference datasets at {SHARED.resolve()}")
    kws = load_dataset(SHARED, "kws01")
    assert len(kws.entries) == 200 and kws.entries[0].label == 7
    ad = load_dataset(SHARED, "ad01")
    assert ad.input_count == 196  # (102400 - 2560) / 512 + 1


def test_synthetic_inputs_are_reproducible_and_distinct() -> None:
    a = synthetic_input(490, 0)
    assert len(a) == 490 and a == synthetic_input(490, 0)
    assert a != synthetic_input(490, 1)
    assert len(set(a)) > 200  # varied bytes, not a constant fill


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, "kws01", [("a.bin", bytes(490), "12,7")])
    labels = root / "kws01" / "y_labels.csv"
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())  # as spreadsheets save UTF-8
    assert [e.file.name for e in load_dataset(root, "kws01").entries] == ["a.bin"]


def test_labels_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, "kws01", [("a.bin", bytes(490), "12,7")])
    labels = root / "kws01" / "y_labels.csv"
    labels.write_bytes(labels.read_bytes() + b"caf\xe9.bin,12,1\n")  # Latin-1
    with pytest.raises(InputError) as err:
        load_dataset(root, "kws01")
    assert err.value.message.endswith("y_labels.csv:2: not UTF-8 text (byte 0xE9)")
    assert err.value.hint is not None and "UTF-8" in err.value.hint


def test_a_field_over_the_csv_limit_is_refused(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, "kws01", [("a.bin", bytes(490), "12,7")])
    labels = root / "kws01" / "y_labels.csv"
    labels.write_text(labels.read_text() + "x" * (129 * 1024) + ",12,1\n")
    with pytest.raises(InputError) as err:
        load_dataset(root, "kws01")
    assert "y_labels.csv:2: not a CSV row: field larger than field limit" in err.value.message
    assert err.value.hint


def test_blank_lines_keep_the_line_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "kws01"
    folder.mkdir()
    (folder / "a.bin").write_bytes(bytes(490))
    (folder / "y_labels.csv").write_text("a.bin,12,0\n\n\na.bin,12,x\n")
    with pytest.raises(InputError, match=r"y_labels\.csv:4: class: 'x'"):
        load_dataset(tmp_path, "kws01")


@pytest.mark.parametrize(("model_id", "size", "n_classes", "scores", "ok"), [
    ("kws01", 490, 12, 12, True), ("kws01", 490, 10, 12, False),
    ("ad01", 2560, 2, 1, True), ("ad01", 2560, 3, 1, False),
])
def test_the_class_count_must_fit_the_scores(tmp_path: Path, model_id: str, size: int,
                                             n_classes: int, scores: int, ok: bool) -> None:
    root = write_dataset(tmp_path, model_id, [("a.bin", bytes(size), f"{n_classes},0")])
    dataset = load_dataset(root, model_id)
    if ok:
        check_classes(dataset, scores)
        return
    with pytest.raises(InputError) as err:
        check_classes(dataset, scores)
    assert f"{n_classes} classes, but the {model_id} firmware gives {scores} score" in (
        err.value.message)
    assert err.value.hint is not None and f"must be {2 if scores == 1 else scores}" in (
        err.value.hint)
