"""bench/sweeps/*.yaml, the bench scripts' matrices as sweep files, stay valid, and the scripts'
subsets of them (bench/reference_sweep.py) are sweeps of the cells asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tinygen.board import list_board_names
from tinygen.sweep.cells import expand_cells
from tinygen.sweep.spec import load_sweep, parse_sweep

REPO = Path(__file__).resolve().parents[2]
# The sweeps over the MLPerf Tiny reference models; native_shapes.yaml runs over models a script
# makes (scripts/make_shape_models.py), tested on its own below.
SHAPES = REPO / "bench" / "sweeps" / "native_shapes.yaml"
SWEEPS = sorted(p for p in (REPO / "bench" / "sweeps").glob("*.yaml") if p != SHAPES)
SHARED = REPO.parent / "shared" / "mlperf-tiny"
SAMPLES = {"kws_ref_model", "pretrainedResnet_quant"}  # the models with a reference sample

needs_shared = pytest.mark.skipif(not (SHARED / "models").is_dir(),
                                  reason=f"MLPerf Tiny reference models not found at {SHARED}")


@needs_shared
@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_a_bench_sweep_file_expands_into_its_cells(path: Path) -> None:
    cells = expand_cells(load_sweep(path))
    expected = {"reference_models": 4 * 2, "native_vs_tflm": 4 * 4 * 2, "boards": 4 * 12}
    assert len(cells) == expected[path.stem]
    assert all(c.verify_random == 1 for c in cells if c.emulated)
    # Verified on the reference sample input too, where the model has one.
    assert all(len(c.verify_inputs) == (c.model in SAMPLES) for c in cells if c.emulated)
    assert not any(c.farm_board for c in cells)  # built and audited only where not emulated


def test_the_shapes_sweep_pairs_each_model_with_both_runtimes(tmp_path: Path) -> None:
    """native_shapes.yaml over two bundled models in place of the generated ones: each model is
    built with TFLM+CMSIS-NN and the native kernels on one board, and verified."""
    raw = yaml.safe_load(SHAPES.read_text())
    models = tmp_path / "build" / "shape-models"
    models.mkdir(parents=True)
    for name in ("kws_tiny", "ad_tiny"):
        (models / f"{name}.tflite").write_bytes((REPO / "models" / f"{name}.tflite").read_bytes())
    where = tmp_path / "bench" / "sweeps"  # its paths are relative to the file's folder
    where.mkdir(parents=True)
    cells = expand_cells(parse_sweep(raw, where / SHAPES.name))
    assert sorted((c.model, c.runtime, c.kernels) for c in cells) == [
        ("ad_tiny", "native", "native"), ("ad_tiny", "tflm", "cmsis-nn"),
        ("kws_tiny", "native", "native"), ("kws_tiny", "tflm", "cmsis-nn")]
    assert all(c.verify_random == 1 and c.board == "mps2_an386" for c in cells)


def test_the_boards_sweep_lists_every_shipped_board() -> None:
    raw = yaml.safe_load((REPO / "bench" / "sweeps" / "boards.yaml").read_text())
    assert raw["boards"] == list_board_names()


@needs_shared
def test_a_bench_scripts_subset_is_a_sweep_of_those_cells(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from reference_sweep import derive_sweep

    board = tmp_path / "my_board.yaml"
    board.write_text((REPO / "boards" / "nucleo_l4r5zi.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    raw = derive_sweep("boards", ["ad", "ic"], SHARED, ["mps2_an386", "my_board.yaml"])
    file = tmp_path / "elsewhere" / "s.yaml"  # the paths do not depend on where it is written
    file.parent.mkdir()
    cells = expand_cells(parse_sweep(raw, file))
    assert [(c.model, c.board) for c in cells] == [
        ("ad01_int8", "mps2_an386"), ("ad01_int8", "nucleo_l4r5zi"),
        ("pretrainedResnet_quant", "mps2_an386"), ("pretrainedResnet_quant", "nucleo_l4r5zi")]
    assert [len(c.verify_inputs) for c in cells] == [0, 0, 1, 0]
    raw = derive_sweep("native_vs_tflm", ["kws"], SHARED, ["mps2_an386"],
                       {"runtime": ["native"], "kernels": {"native": ["native"]}})
    (cell,) = expand_cells(parse_sweep(raw, file))
    assert (cell.id, len(cell.verify_inputs)) == ("kws_ref_model-mps2_an386-native-native-speed", 1)
