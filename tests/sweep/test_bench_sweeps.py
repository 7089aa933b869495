"""bench/sweeps/*.yaml, the bench scripts' matrices as sweep files, stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.sweep.cells import expand_cells
from tinygen.sweep.spec import load_sweep

REPO = Path(__file__).resolve().parents[2]
SWEEPS = sorted((REPO / "bench" / "sweeps").glob("*.yaml"))
SHARED_MODELS = REPO.parent / "shared" / "mlperf-tiny" / "models"


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_a_bench_sweep_file_expands_into_its_cells(path: Path) -> None:
    if not SHARED_MODELS.is_dir():
        pytest.skip(f"MLPerf Tiny reference models not found at {SHARED_MODELS}")
    cells = expand_cells(load_sweep(path))
    expected = {"reference_models": 4 * 2, "native_vs_tflm": 4 * 5, "boards": 4 * 12}
    assert len(cells) == expected[path.stem]
    assert all(c.verify_random == 1 for c in cells if c.emulated)
    assert not any(c.farm_board for c in cells)  # built and audited only where not emulated
