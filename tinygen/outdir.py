"""Output folders tinygen owns: a manifest of every file it wrote, a lock per folder, and
replacing or removing a folder only when every file in it is tinygen's.

A folder tinygen writes (``--out``, its ``.partial`` work folder and its ``.failed`` copy)
holds ``tinygen_manifest.json`` with the relative name of every file in it when tinygen last
wrote it. Anything else found there later (a user's notes, the input model) is foreign: the
folder is then refused, never deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from tinygen.errors import InputError

MANIFEST = "tinygen_manifest.json"
# What the folder's own SConstruct writes when the project is rebuilt by hand (`scons -C OUT`,
# as the README suggests): tinygen's too, although they came after the manifest.
BUILD_OUTPUTS = ("obj/*", ".sconsign.dblite", "firmware.elf", "firmware.map", "firmware.bin",
                 "firmware.hex")
_FORMAT = "tinygen-output-folder/1"
_SHOWN = 5  # foreign files named in an error; the rest are counted


def _files(folder: Path) -> list[str]:
    """Every file (and symlink) under ``folder``, as sorted relative POSIX names."""
    found: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        # A symlinked folder is one entry: never walk (or later delete) through it.
        links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        dirs[:] = [d for d in dirs if d not in links]
        for name in [*files, *links]:
            found.append(Path(os.path.relpath(os.path.join(root, name), folder)).as_posix())
    return sorted(found)


def record(folder: Path, *, partial: bool = False) -> None:
    """Write the manifest: every file now in ``folder`` is tinygen's. ``partial`` marks a work
    folder still being written (its later files are tinygen's too)."""
    names = [n for n in _files(folder) if n != MANIFEST]
    data = {"format": _FORMAT, "partial": partial, "files": names}
    (folder / MANIFEST).write_text(json.dumps(data, indent=1) + "\n")


def _manifest(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    return data


def foreign_files(folder: Path) -> list[str]:
    """Files in ``folder`` that tinygen did not write (all of them if it has no manifest)."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    data = _manifest(folder)
    present = [n for n in _files(folder) if n != MANIFEST]
    if data is None:
        return present
    if data.get("partial") is True:
        return []  # a work folder tinygen was writing when it was stopped (SIGKILL, power)
    written = data.get("files")
    owned = set(written) if isinstance(written, list) else set()
    return [n for n in present if n not in owned
            and not any(fnmatch.fnmatchcase(n, pattern) for pattern in BUILD_OUTPUTS)]


def _refusal(folder: Path, role: str, foreign: list[str]) -> InputError:
    shown = ", ".join(foreign[:_SHOWN])
    more = f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else ""
    return InputError(
        f"{role} {folder} holds files tinygen did not write ({shown}{more}); it would be "
        f"replaced, so tinygen leaves it alone",
        hint="move those files out, or name another --out folder (tinygen replaces only "
             "folders whose every file it wrote)")


def check_replaceable(folder: Path, role: str = "--out") -> None:
    """Refuse (InputError, exit 3) a folder tinygen would replace but did not wholly write."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise InputError(f"{role} {folder} is not a folder tinygen wrote",
                         hint="name a new folder, or one an earlier tinygen build wrote")
    if folder.is_dir() and (foreign := foreign_files(folder)):
        raise _refusal(folder, role, foreign)


def check_not_inside(folder: Path, inputs: Iterable[Path | None]) -> None:
    """Refuse when an input (the model, the board file, ...) lies inside a folder tinygen is
    about to replace or remove."""
    base = folder.resolve()
    for given in inputs:
        if given is None:
            continue
        path = given.expanduser().resolve()
        if path == base or base in path.parents:
            raise InputError(
                f"the input {given} is inside {folder}, which this command replaces",
                hint="keep inputs outside the output folder, or name another --out folder")


def remove(folder: Path, role: str = "--out") -> None:
    """Delete ``folder`` if every file in it is tinygen's; refuse it otherwise."""
    if not folder.exists() and not folder.is_symlink():
        return
    check_replaceable(folder, role)
    shutil.rmtree(folder)


def replace(new: Path, dest: Path) -> None:
    """Put the finished folder ``new`` in place of ``dest`` (checked again just before)."""
    remove(dest)
    new.rename(dest)


def _lock_path(folder: Path, cache: Path) -> Path:
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:24]
    return cache / "locks" / f"out-{digest}.lock"


@contextlib.contextmanager
def file_lock(path: Path, waiting: str,
              progress: Callable[[str], None] | None = None) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (made if missing) for the block; when another process
    holds it, say ``waiting`` and wait for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress:
                progress(waiting)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def locked(folder: Path, cache: Path, progress: Callable[[str], None] | None = None
           ) -> contextlib.AbstractContextManager[None]:
    """One tinygen at a time writes ``folder`` (and its .partial/.failed siblings): a second
    one waits, saying so. The lock file lives in tinygen's cache, not beside the folder."""
    return file_lock(_lock_path(folder, cache),
                     f"another tinygen is writing {folder}; waiting for it to finish", progress)
