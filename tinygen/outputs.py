"""Files tinygen writes where the user says: an OS refusal becomes one InputError with a fix."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tinygen.errors import InputError

# What to do about the usual reasons a path cannot be written, by errno.
_FIXES = {
    errno.ENOSPC: "the disk is full: free some space, or write somewhere else",
    errno.EDQUOT: "the disk quota is used up: free some space, or write somewhere else",
    errno.EROFS: "that file system is read-only: choose a path on a writable one",
    errno.EACCES: "you may not write there: choose a folder you own",
    errno.EPERM: "you may not write there: choose a folder you own",
    errno.ENAMETOOLONG: "a name in the path is too long for the file system: shorten it",
    errno.EISDIR: "that is a folder: name a file in it instead",
    errno.ENOTDIR: "a part of the path is a file, not a folder: fix the path",
    errno.ENOENT: "a folder on the way does not exist (or cannot hold files): create it, or "
                  "choose another path",
    errno.ELOOP: "the path loops through symbolic links: fix the links",
    errno.EEXIST: "something is in the way at that path: remove it, or choose another path",
}


# Where tinygen cannot tell whether a path was read or written (a command's OSError that no
# writer wrapped), hints that fit either.
_EITHER = {
    errno.EACCES: "you may not use that path: check its permissions",
    errno.EPERM: "you may not use that path: check its permissions",
    errno.ENOENT: "a file or folder on that path does not exist: check the path",
    errno.EISDIR: "that is a folder, not a file: name a file",
}


def os_error(exc: OSError, what: str | None = None, path: Path | str | None = None,
             writing: bool = True) -> InputError:
    """An InputError for ``exc``: the path, the system's reason and a fix by errno (``writing``
    False: hints that fit a read as well as a write)."""
    where = path if path is not None else exc.filename
    reason = exc.strerror or str(exc)
    if where is None:  # a stream: stdout or stderr redirected to a full or closed file
        message = f"cannot write {what or 'the output'}: {reason}"
    else:
        message = f"cannot write {what} {where}: {reason}" if what else f"{where}: {reason}"
    fixes = _FIXES if writing else {**_FIXES, **_EITHER}
    hint = fixes.get(exc.errno or 0, "check the path and its permissions, or choose another path")
    return InputError(message, hint=hint)


@contextmanager
def writing(path: Path, what: str) -> Iterator[None]:
    """Turn an OSError raised while writing ``what`` at ``path`` into an InputError."""
    try:
        yield
    except OSError as exc:
        raise os_error(exc, what, exc.filename or path) from exc


def check_writable(path: Path, what: str) -> None:
    """Refuse now a file that could not be written later (after a long run): open it for
    appending, and remove it again if it was not there before."""
    with writing(path, what):
        existed = path.exists() or path.is_symlink()
        with path.open("a"):
            pass
        if not existed:
            path.unlink(missing_ok=True)
