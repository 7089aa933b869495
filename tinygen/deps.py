"""Third-party C/C++ checkouts (TFLM, CMSIS-NN, ...): pinned in third_party/, cached clones."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from tinygen.errors import DependencyError, InputError, ToolMissingError
from tinygen.outdir import file_lock
from tinygen.resources import third_party_dir

DEPS_DIR_ENV = "TINYGEN_DEPS_DIR"
CACHE_ENV = "TINYGEN_CACHE"


@dataclass(frozen=True)
class Pin:
    name: str
    url: str
    commit: str
    check: str  # a file that must exist in a good checkout


@dataclass(frozen=True)
class Checkout:
    pin: Pin
    path: Path
    commit: str | None  # what the checkout is at (None: not a git checkout)
    source: str  # "cache" or "deps-dir"
    fingerprint: str | None = None  # a source tree without git: its files' names/sizes/times

    @property
    def version(self) -> str:
        """What compiled code from this checkout depends on: the commit, or for a tree without
        git (a tarball, a vendored copy) its fingerprint, so an edited tree is rebuilt."""
        return self.commit or f"tree-{self.fingerprint}"


def load_manifest(path: Path | None = None) -> tuple[Pin, ...]:
    path = path or third_party_dir() / "manifest.yaml"
    raw = yaml.safe_load(path.read_text())
    return tuple(
        Pin(name, entry["url"], entry["commit"], entry["check"]) for name, entry in raw.items()
    )


def cache_root() -> Path:
    """tinygen's cache: $TINYGEN_CACHE, else $XDG_CACHE_HOME/tinygen, else ~/.cache/tinygen.
    Refused when it is a file (or under one): every cache user would fail later, less clearly."""
    if os.environ.get(CACHE_ENV):
        root, source = Path(os.environ[CACHE_ENV]).expanduser(), f"${CACHE_ENV}"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
        root, source = base / "tinygen", "$XDG_CACHE_HOME" if xdg else "the home folder"
    for part in (root, *root.parents):
        if part.exists():
            if not part.is_dir():
                raise InputError(
                    f"tinygen's cache {root} (from {source}) cannot be a folder: {part} is a "
                    "file", hint=f"point {CACHE_ENV} at a folder (it is created if missing)")
            break
    return root


def _git(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        raise ToolMissingError("git is not installed", hint="install git (apt-get install git)")
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )


def head_commit(path: Path) -> str | None:
    if not (path / ".git").exists():
        return None
    result = _git(["rev-parse", "HEAD"], cwd=path)
    return result.stdout.strip() if result.returncode == 0 else None


def _verify(pin: Pin, path: Path, source: str) -> Checkout:
    if not (path / pin.check).is_file():
        raise DependencyError(
            f"{path} does not look like a {pin.name} checkout ({pin.check} is missing)",
            hint=f"clone {pin.url} at {pin.commit[:12]} there, or run 'tinygen deps'",
        )
    commit = head_commit(path)
    if commit is not None and commit != pin.commit:
        raise DependencyError(
            f"{path} is {pin.name} at {commit[:12]}, but tinygen is pinned to {pin.commit[:12]}",
            hint=f"run 'git -C {path} checkout {pin.commit}' (pins: third_party/manifest.yaml)",
        )
    return Checkout(pin, path, commit, source,
                    None if commit is not None else tree_fingerprint(path))


def tree_fingerprint(path: Path) -> str:
    """Every file's relative name, size and modification time under ``path``, hashed."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            try:
                st = os.lstat(full)
            except OSError as exc:
                raise DependencyError(f"cannot read {full}: {exc.strerror}",
                                      hint="fix the file's permissions, or use a git "
                                           "checkout") from exc
            rel = os.path.relpath(full, path)
            digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def cached_path(pin: Pin) -> Path:
    return cache_root() / "deps" / f"{pin.name}-{pin.commit[:12]}"


def clone(pin: Pin, dest: Path) -> None:
    """Fetch exactly ``pin.commit`` into ``dest`` (shallow); nothing is left behind on failure.
    One fetch at a time per destination (parallel sweep cells share the cache): a second one
    waits, then finds the checkout there."""
    with file_lock(cache_root() / "locks" / f"fetch-{dest.name}.lock",
                   f"waiting for another tinygen that is "
                   f"fetching {pin.name}"):
        if dest.is_dir():
            return
        tmp = dest.with_name(dest.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            for step in (["init", "-q"],
                         ["fetch", "-q", "--depth", "1", pin.url, pin.commit],
                         ["-c", "advice.detachedHead=false", "checkout", "-q", "FETCH_HEAD"]):
                result = _git(step, cwd=tmp)
                if result.returncode != 0:
                    detail = result.stderr.strip().splitlines()[-1:] or ["(no output)"]
                    raise DependencyError(
                        f"could not fetch {pin.name} {pin.commit[:12]} from {pin.url}: "
                        f"{detail[0]}",
                        hint=f"offline? pass --deps-dir DIR (or set {DEPS_DIR_ENV}) with a "
                        f"checkout of {pin.url} at {pin.commit[:12]} in DIR/{pin.name}")
        except BaseException:  # a failed step, Ctrl-C, SIGTERM: no half clone stays
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        tmp.rename(dest)


def resolve(
    pins: tuple[Pin, ...],
    deps_dir: Path | None = None,
    *,
    fetch: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Checkout]:
    """Find or fetch every pinned dependency.

    Order: ``deps_dir`` (argument, else $TINYGEN_DEPS_DIR) holding ``<name>/`` checkouts, then
    the cache, then a fresh clone into the cache (unless ``fetch`` is false).
    """
    if deps_dir is None and os.environ.get(DEPS_DIR_ENV):
        deps_dir = Path(os.environ[DEPS_DIR_ENV]).expanduser()
    if deps_dir is not None and not deps_dir.is_dir():
        raise DependencyError(
            f"--deps-dir {deps_dir} is not a folder",
            hint=f"point it (or {DEPS_DIR_ENV}) at a folder with one checkout per dependency",
        )
    found: dict[str, Checkout] = {}
    for pin in pins:
        if deps_dir is not None and (deps_dir / pin.name).is_dir():
            found[pin.name] = _verify(pin, deps_dir / pin.name, "deps-dir")
            continue
        path = cached_path(pin)
        if not path.is_dir():
            if not fetch:
                raise DependencyError(
                    f"{pin.name} is not in the cache ({path})",
                    hint="run 'tinygen deps' to fetch it, or pass --deps-dir",
                )
            if on_progress:
                on_progress(f"fetching {pin.name} {pin.commit[:12]} from {pin.url}")
            path.parent.mkdir(parents=True, exist_ok=True)
            clone(pin, path)
        try:
            found[pin.name] = _verify(pin, path, "cache")
        except DependencyError:
            if not fetch:
                raise
            # A damaged cache entry is tinygen's own: fetch it again rather than get stuck.
            if on_progress:
                on_progress(f"re-fetching {pin.name}: the cached checkout {path} is damaged")
            shutil.rmtree(path)
            clone(pin, path)
            found[pin.name] = _verify(pin, path, "cache")
    check_compatibility(found)
    return found


_FB_ASSERT = re.compile(
    r"FLATBUFFERS_VERSION_MAJOR\s*==\s*(\d+)\s*&&\s*FLATBUFFERS_VERSION_MINOR\s*==\s*(\d+)"
    r"\s*&&\s*FLATBUFFERS_VERSION_REVISION\s*==\s*(\d+)"
)
_FB_DEFINE = re.compile(r"#define\s+FLATBUFFERS_VERSION_(MAJOR|MINOR|REVISION)\s+(\d+)")


def check_compatibility(found: dict[str, Checkout]) -> None:
    """Catch known mismatches before the compiler does, with a message a person can act on."""
    tflm, fb = found.get("tflite-micro"), found.get("flatbuffers")
    if tflm is None or fb is None:
        return
    schema = tflm.path / "tensorflow/lite/schema/schema_generated.h"
    base = fb.path / "include/flatbuffers/base.h"
    if not schema.is_file() or not base.is_file():
        return
    wanted = _FB_ASSERT.search(schema.read_text(errors="replace"))
    have = dict(_FB_DEFINE.findall(base.read_text(errors="replace")))
    if wanted is None or len(have) != 3:
        return
    want_v = ".".join(wanted.groups())
    have_v = ".".join(have[k] for k in ("MAJOR", "MINOR", "REVISION"))
    if want_v != have_v:
        raise DependencyError(
            f"TFLM's schema header needs flatbuffers {want_v} exactly, {fb.path} is {have_v}",
            hint=f"check out flatbuffers v{want_v} there (pins: third_party/manifest.yaml)",
        )
