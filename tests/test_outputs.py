"""Files written where the user says: every OS refusal is one InputError with a hint."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from tinygen.deps import cache_root
from tinygen.errors import ExitCode, InputError
from tinygen.outputs import check_writable, os_error, writing
from tinygen.project import GeneratedProject

_FULL = Path("/dev/full")  # every write to it fails with ENOSPC: a full disk, for real


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.ENAMETOOLONG,
                                  errno.EISDIR, errno.ENOENT, errno.ENOTDIR])
def test_os_error_names_the_path_and_a_fix(code: int) -> None:
    err = os_error(OSError(code, "reason", "/x/y"), "the results")
    assert err.exit_code == ExitCode.BAD_INPUT
    assert err.message == "cannot write the results /x/y: reason"
    assert err.hint and err.hint != os_error(OSError(0, "?", "/x")).hint  # a fix for this errno


def test_os_error_of_a_stream() -> None:
    err = os_error(OSError(errno.ENOSPC, "No space left on device"))
    assert err.message == "cannot write the output: No space left on device"
    assert err.hint is not None and "disk is full" in err.hint


@pytest.mark.skipif(not _FULL.exists(), reason="no /dev/full on this system")
def test_disk_full_while_writing_sources(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.c").symlink_to(_FULL)
    project = GeneratedProject({"src/a.h": "x\n", "src/main.c": "int main(void);\n" * 100})
    with pytest.raises(InputError) as caught:
        project.write(tmp_path)
    assert "No space left on device" in caught.value.message
    assert f"sources to {tmp_path}" in caught.value.message
    assert caught.value.hint is not None and "disk is full" in caught.value.hint


def test_name_too_long_while_writing_sources(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        GeneratedProject({"a" * 300 + ".c": "x\n"}).write(tmp_path)
    assert caught.value.hint is not None and "too long" in caught.value.hint


def test_writing_maps_only_os_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write the log"), writing(tmp_path, "the log"):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(tmp_path))
    with pytest.raises(ValueError), writing(tmp_path, "the log"):
        raise ValueError("not an OS error")


def test_check_writable_leaves_nothing_behind(tmp_path: Path) -> None:
    check_writable(tmp_path / "new.json", "the results")
    assert not (tmp_path / "new.json").exists()
    (tmp_path / "old.json").write_text("kept")
    check_writable(tmp_path / "old.json", "the results")
    assert (tmp_path / "old.json").read_text() == "kept"
    for bad in (tmp_path, tmp_path / "missing" / "x.json", tmp_path / "old.json" / "x.json"):
        with pytest.raises(InputError, match="cannot write the results"):
            check_writable(bad, "the results")


def test_cache_set_to_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    afile = tmp_path / "cache"
    afile.write_text("")
    for value in (afile, afile / "below"):
        monkeypatch.setenv("TINYGEN_CACHE", str(value))
        with pytest.raises(InputError, match="is a file") as caught:
            cache_root()
        assert caught.value.hint is not None and "TINYGEN_CACHE" in caught.value.hint
    monkeypatch.setenv("TINYGEN_CACHE", str(tmp_path / "new"))
    assert cache_root() == tmp_path / "new"
