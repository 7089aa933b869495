"""A normal (non-editable) install carries the boards, templates, manifest and SConstruct."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"could not build a wheel here (no build backend?): {result.stderr[-300:]}")
    return next(out.glob("tinygen-*.whl"))


def test_wheel_contains_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for board in (REPO / "boards").glob("*.yaml"):
        assert f"tinygen/_data/boards/{board.name}" in names
    assert "tinygen/_data/boards/board.schema.json" in names
    assert "tinygen/_data/SConstruct" in names
    assert "tinygen/_data/third_party/manifest.yaml" in names
    assert "tinygen/_data/templates/board/linker.ld.j2" in names
    assert "tinygen/_data/templates/harness/ee_benchmark.c" in names


def test_installed_wheel_runs_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--force-reinstall", str(wheel)], check=True, capture_output=True)
    result = subprocess.run([python, "-c",
                             "import tinygen.resources as r, tinygen.cli as c;"
                             "print(r.data_root()); c.main(['boards'])"],
                            cwd=tmp_path, capture_output=True, text=True, check=True,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert str(env_dir) in result.stdout.splitlines()[0]
    assert "nucleo_l4r5zi" in result.stdout
