"""Cells: the axes' product in a stable order, each with the key of every input it depends on."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from tinygen.board import load_board
from tinygen.errors import BoardError
from tinygen.sweep.cells import BRINGUP, expand_cells, input_key, port_variable
from tinygen.sweep.spec import BenchStep, Only, SweepSpec, VerifyStep

REPO = Path(__file__).resolve().parents[2]
MODELS = tuple(REPO / "models" / f"{m}_tiny.tflite" for m in ("ad", "ic", "kws"))


def _spec(**changes: object) -> SweepSpec:
    base = SweepSpec(name="t", source="t.yaml", models=MODELS,
                     boards=("mps2_an385", "mps2_an386", "nucleo_l4r5zi"),
                     runtimes=("native",), kernels=(("native", ("native", "native-portable")),))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_every_combination_is_a_cell_once_in_a_stable_order() -> None:
    cells = expand_cells(_spec(bringup=True))
    assert len(cells) == 3 * 3 * 2 + 3
    assert [c.id for c in cells] == [c.id for c in expand_cells(_spec(bringup=True))]
    assert len({c.id for c in cells}) == len(cells)
    assert cells[0].id == "ad_tiny-mps2_an385-native-native-speed"
    bringup = [c for c in cells if c.model == BRINGUP]
    assert [c.id for c in bringup] == ["bringup-mps2_an385", "bringup-mps2_an386",
                                       "bringup-nucleo_l4r5zi"]
    assert all(c.runtime is None and c.model_path is None for c in bringup)


def test_steps_run_only_where_the_board_runs_and_the_filter_matches() -> None:
    spec = _spec(verify=VerifyStep(random=2, only=Only(models=("kws_tiny",))),
                 bench=BenchStep(only=Only(kernels=("native",))))
    cells = {c.id: c for c in expand_cells(spec)}
    assert cells["kws_tiny-mps2_an385-native-native-speed"].verify_random == 2
    assert cells["ic_tiny-mps2_an385-native-native-speed"].verify_random is None
    # A physical board is never verified (QEMU only) but benched where it is attached.
    farm = cells["kws_tiny-nucleo_l4r5zi-native-native-speed"]
    assert farm.verify_random is None and farm.farm_board
    assert cells["kws_tiny-mps2_an385-native-native-portable-speed"].bench is None
    assert not cells["kws_tiny-mps2_an385-native-native-speed"].farm_board


def test_the_key_changes_with_each_input_and_only_then(tmp_path: Path) -> None:
    keys = {c.id: c.key for c in expand_cells(_spec())}
    assert keys == {c.id: c.key for c in expand_cells(_spec())}
    assert len(set(keys.values())) == len(keys)
    # Another optimize level, verify step or budget: another key for the same model and board.
    for changed in (_spec(optimizes=("size",)), _spec(budgets_flash=(65536,)),
                    _spec(verify=VerifyStep(random=1))):
        other = expand_cells(changed)[0]
        assert other.key != keys["ad_tiny-mps2_an385-native-native-speed"]
    # The same model bytes under another name: same model hash, so only the id differs ...
    copy = tmp_path / "ad_tiny.tflite"
    shutil.copy(MODELS[0], copy)
    moved = expand_cells(_spec(models=(copy,)))[0]
    assert moved.key == keys[moved.id]
    # ... while an edited board file is another input.
    board = tmp_path / "mps2_an385.yaml"
    board.write_text(load_board("mps2_an385").path.read_text() + "\n# edited\n")
    edited = expand_cells(_spec(models=(copy,), boards=(str(board),)))[0]
    assert edited.id == moved.id and edited.key != moved.key


def test_the_key_covers_the_version_and_the_dependency_pins() -> None:
    fields: dict[str, object] = {"model": "abc"}
    key = input_key(fields, "board", b"pins", None)
    assert input_key(fields, "board", b"pins2", None) != key
    assert input_key(fields, "board", b"pins", "dataset") != key
    assert input_key(fields, "board", b"pins", None) == key


def test_an_unknown_board_names_the_sweep_file_and_key() -> None:
    with pytest.raises(BoardError, match=r"^t.yaml: boards\[1\]: unknown board 'nope'"):
        expand_cells(_spec(boards=("mps2_an385", "nope")))


def test_a_board_farm_worker_reads_its_port_from_one_variable() -> None:
    assert port_variable("nucleo_l4r5zi") == "TINYGEN_PORT_NUCLEO_L4R5ZI"
    assert port_variable("my-board.v2") == "TINYGEN_PORT_MY_BOARD_V2"


def test_only_a_physical_board_bench_needs_that_boards_worker() -> None:
    from tinygen.sweep.pool import resources_for

    cells = {c.id: c for c in expand_cells(_spec(bench=BenchStep()))}
    farm = cells["kws_tiny-nucleo_l4r5zi-native-native-speed"]
    assert resources_for(farm) == {"board-nucleo_l4r5zi": 1}
    assert resources_for(cells["kws_tiny-mps2_an385-native-native-speed"]) is None
    assert resources_for(expand_cells(_spec())[-1]) is None  # built only: anywhere


def test_a_models_input_files_travel_with_its_verified_cells_and_key_them(
        tmp_path: Path) -> None:
    sample = tmp_path / "kws_sample.bin"
    sample.write_bytes(bytes(range(245)) * 2)  # one kws01 input: 490 bytes
    verify = VerifyStep(random=1, inputs=(("kws_tiny", (sample,)),))
    cells = {c.id: c for c in expand_cells(_spec(verify=verify))}
    kws = cells["kws_tiny-mps2_an385-native-native-speed"]
    assert kws.verify_inputs == (("kws_sample.bin", sample.read_bytes()),)
    assert cells["ic_tiny-mps2_an385-native-native-speed"].verify_inputs == ()
    # Not on a board that is not emulated: it is not verified.
    assert cells["kws_tiny-nucleo_l4r5zi-native-native-speed"].verify_inputs == ()
    plain = {c.id: c.key for c in expand_cells(_spec(verify=VerifyStep(random=1)))}
    assert kws.key != plain[kws.id]
    assert cells["ic_tiny-mps2_an385-native-native-speed"].key == plain[
        "ic_tiny-mps2_an385-native-native-speed"]
    sample.write_bytes(bytes(490))  # other bytes: another key
    assert expand_cells(_spec(verify=verify))[
        [c.id for c in cells.values()].index(kws.id)].key != kws.key
