"""tinygen/outdir.py: a folder is replaced or removed only when tinygen wrote every file in it."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path

import pytest

from tinygen import outdir
from tinygen.errors import InputError


def _written(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    outdir.record(folder)
    return folder


def test_the_manifest_lists_every_file(tmp_path: Path) -> None:
    folder = _written(tmp_path / "fw", "firmware.elf", "src/main.c", ".sconsign.dblite")
    data = json.loads((folder / outdir.MANIFEST).read_text())
    assert data["files"] == [".sconsign.dblite", "firmware.elf", "src/main.c"]
    assert outdir.foreign_files(folder) == []


def test_a_file_added_later_is_foreign_and_the_folder_is_kept(tmp_path: Path) -> None:
    folder = _written(tmp_path / "fw", "firmware.elf")
    (folder / "NOTES.txt").write_text("mine")
    (folder / "my_model.tflite").write_bytes(b"model")
    with pytest.raises(InputError) as info:
        outdir.remove(folder)
    assert "my_model.tflite" in info.value.message and "NOTES.txt" in info.value.message
    assert info.value.hint
    assert (folder / "NOTES.txt").read_text() == "mine"
    assert (folder / "my_model.tflite").is_file()


def test_a_folder_without_a_manifest_is_never_removed(tmp_path: Path) -> None:
    folder = tmp_path / "fw.partial"
    folder.mkdir()
    (folder / "tinygen_project.json").write_text("{}")  # looks like tinygen's, is not recorded
    with pytest.raises(InputError):
        outdir.remove(folder, "the work folder")
    assert (folder / "tinygen_project.json").is_file()


def test_a_forged_or_corrupt_manifest_owns_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "fw"
    folder.mkdir()
    (folder / "data.csv").write_text("1,2")
    (folder / outdir.MANIFEST).write_text("not json")
    assert outdir.foreign_files(folder) == ["data.csv"]


def test_an_own_folder_is_removed_and_replaced(tmp_path: Path) -> None:
    old = _written(tmp_path / "fw", "firmware.elf", "build/a.o")
    new = _written(tmp_path / "fw.partial", "firmware.elf")
    outdir.replace(new, old)
    assert not new.exists()
    assert sorted(p.name for p in old.iterdir()) == ["firmware.elf", outdir.MANIFEST]


def test_a_partial_work_folder_stopped_midway_is_tinygens(tmp_path: Path) -> None:
    work = tmp_path / "fw.partial"
    work.mkdir()
    outdir.record(work, partial=True)
    (work / "probe").mkdir()
    (work / "probe" / "main.o").write_bytes(b"\0")  # written after the record, then SIGKILL
    outdir.remove(work, "the work folder")
    assert not work.exists()


def test_a_symlinked_folder_inside_is_not_followed(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data.bin").write_bytes(b"keep")
    folder = _written(tmp_path / "fw", "firmware.elf")
    os.symlink(precious, folder / "link")
    assert outdir.foreign_files(folder) == ["link"]
    with pytest.raises(InputError):
        outdir.remove(folder)
    assert (precious / "data.bin").read_bytes() == b"keep"


def test_a_symlink_as_the_folder_is_refused(tmp_path: Path) -> None:
    target = _written(tmp_path / "real", "firmware.elf")
    link = tmp_path / "fw"
    os.symlink(target, link)
    with pytest.raises(InputError):
        outdir.check_replaceable(link)
    assert target.is_dir()


def test_an_input_inside_the_folder_is_refused(tmp_path: Path) -> None:
    folder = _written(tmp_path / "fw", "firmware.elf")
    with pytest.raises(InputError) as info:
        outdir.check_not_inside(folder, [tmp_path / "elsewhere.tflite", folder / "m.tflite"])
    assert "m.tflite" in info.value.message
    outdir.check_not_inside(folder, [tmp_path / "fw2" / "m.tflite", None])


def test_the_lock_makes_a_second_writer_wait_and_say_so(tmp_path: Path) -> None:
    folder = tmp_path / "fw"
    said: list[str] = []
    order: list[str] = []
    with outdir.locked(folder, tmp_path / "cache"):
        def second() -> None:
            with outdir.locked(folder, tmp_path / "cache", said.append):
                order.append("second")
        thread = threading.Thread(target=second)
        thread.start()
        while not said:  # the second writer has found the folder locked
            time.sleep(0.01)
        order.append("first")
    thread.join()
    assert order == ["first", "second"]
    assert said == [f"another tinygen is writing {folder}; waiting for it to finish"]


def test_the_lock_file_lives_in_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with outdir.locked(tmp_path / "fw", cache):
        locks = list((cache / "locks").iterdir())
        with locks[0].open("w") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert not (tmp_path / "fw").exists()


def test_a_rebuild_by_hand_leaves_the_folder_tinygens(tmp_path: Path) -> None:
    """`scons -C OUT` after `tinygen generate` adds objects and the firmware: still tinygen's."""
    folder = _written(tmp_path / "fw", "SConstruct", "src/main.c")
    for name in ("obj/src/main.o", ".sconsign.dblite", "firmware.elf", "firmware.map",
                 "firmware.bin", "firmware.hex"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"built")
    (folder / "src" / "mine.c").write_text("int mine;")
    assert outdir.foreign_files(folder) == ["src/mine.c"]
