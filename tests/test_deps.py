"""Pinned dependencies: real git clones of local repositories, offline folders, clear errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tinygen.deps import Pin, cached_path, load_manifest, resolve
from tinygen.errors import DependencyError


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def _repo(root: Path, name: str, files: dict[str, str]) -> tuple[Path, str]:
    path = root / "upstream" / name
    path.mkdir(parents=True)
    _git(path, "init", "-q")
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    _git(path, "add", "-A")
    _git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return path, _git(path, "rev-parse", "HEAD")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TINYGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TINYGEN_DEPS_DIR", raising=False)
    return tmp_path / "cache"


def _pin(tmp_path: Path, name: str = "lib") -> Pin:
    path, commit = _repo(tmp_path, name, {"include/lib.h": "int x;\n"})
    return Pin(name, path.as_uri(), commit, "include/lib.h")


def test_shipped_manifest_pins_full_commits() -> None:
    pins = load_manifest()
    assert {p.name for p in pins} == {
        "tflite-micro", "cmsis-nn", "cmsis", "flatbuffers", "gemmlowp", "ruy"}
    assert all(len(p.commit) == 40 for p in pins)


def test_clone_into_cache_then_reuse(tmp_path: Path, cache: Path) -> None:
    pin = _pin(tmp_path)
    messages: list[str] = []
    found = resolve((pin,), on_progress=messages.append)
    assert found["lib"].source == "cache" and found["lib"].commit == pin.commit
    assert found["lib"].path == cached_path(pin) and cached_path(pin).is_relative_to(cache)
    assert len(messages) == 1 and "fetching lib" in messages[0]
    messages.clear()
    resolve((pin,), on_progress=messages.append)
    assert messages == [], "a cached checkout is not fetched again"


def test_no_network_names_the_offline_flag(tmp_path: Path, cache: Path) -> None:
    pin = Pin("lib", (tmp_path / "nowhere").as_uri(), "a" * 40, "include/lib.h")
    with pytest.raises(DependencyError, match="could not fetch lib") as info:
        resolve((pin,))
    assert info.value.hint is not None and "--deps-dir" in info.value.hint
    assert not list((cache / "deps").iterdir()), "no partial checkout is left behind"


def test_offline_without_cache(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(DependencyError, match="not in the cache"):
        resolve((_pin(tmp_path),), fetch=False)


def test_deps_dir_checkout(tmp_path: Path, cache: Path) -> None:
    pin = _pin(tmp_path)
    deps = tmp_path / "offline"
    deps.mkdir()
    _git(deps, "clone", "-q", pin.url, "lib")
    found = resolve((pin,), deps)
    assert found["lib"].source == "deps-dir" and found["lib"].path == deps / "lib"


def test_deps_dir_from_environment(tmp_path: Path, cache: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pin = _pin(tmp_path)
    deps = tmp_path / "offline"
    deps.mkdir()
    _git(deps, "clone", "-q", pin.url, "lib")
    monkeypatch.setenv("TINYGEN_DEPS_DIR", str(deps))
    assert resolve((pin,))["lib"].source == "deps-dir"


def test_wrong_commit_in_deps_dir(tmp_path: Path, cache: Path) -> None:
    pin = _pin(tmp_path)
    deps = tmp_path / "offline"
    deps.mkdir()
    _git(deps, "clone", "-q", pin.url, "lib")
    (deps / "lib" / "more.txt").write_text("x")
    _git(deps / "lib", "add", "-A")
    _git(deps / "lib", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "moved")
    with pytest.raises(DependencyError, match=f"pinned to {pin.commit[:12]}"):
        resolve((pin,), deps)


def test_not_a_checkout(tmp_path: Path, cache: Path) -> None:
    pin = _pin(tmp_path)
    (tmp_path / "offline" / "lib").mkdir(parents=True)
    with pytest.raises(DependencyError, match="does not look like a lib checkout"):
        resolve((pin,), tmp_path / "offline")


def test_deps_dir_missing(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(DependencyError, match="is not a folder"):
        resolve((_pin(tmp_path),), tmp_path / "missing")


def test_flatbuffers_version_mismatch(tmp_path: Path, cache: Path) -> None:
    schema = ("static_assert(FLATBUFFERS_VERSION_MAJOR == 25 &&\n"
              "              FLATBUFFERS_VERSION_MINOR == 9 &&\n"
              "              FLATBUFFERS_VERSION_REVISION == 23,\n")
    base = ("#define FLATBUFFERS_VERSION_MAJOR 24\n#define FLATBUFFERS_VERSION_MINOR 3\n"
            "#define FLATBUFFERS_VERSION_REVISION 25\n")
    tflm, tc = _repo(tmp_path, "tflite-micro", {
        "tensorflow/lite/schema/schema_generated.h": schema,
        "tensorflow/lite/micro/micro_interpreter.h": ""})
    fb, fc = _repo(tmp_path, "flatbuffers", {"include/flatbuffers/base.h": base,
                                             "include/flatbuffers/flatbuffers.h": ""})
    pins = (Pin("tflite-micro", tflm.as_uri(), tc, "tensorflow/lite/micro/micro_interpreter.h"),
            Pin("flatbuffers", fb.as_uri(), fc, "include/flatbuffers/flatbuffers.h"))
    with pytest.raises(DependencyError, match=r"needs flatbuffers 25\.9\.23 exactly.*24\.3\.25"):
        resolve(pins)


def test_damaged_cache_entry_is_fetched_again(tmp_path: Path, cache: Path) -> None:
    pin = _pin(tmp_path)
    resolve((pin,))
    (cached_path(pin) / "include" / "lib.h").unlink()
    messages: list[str] = []
    found = resolve((pin,), on_progress=messages.append)
    assert (found["lib"].path / "include" / "lib.h").is_file()
    assert any("damaged" in m for m in messages)


def test_a_tree_without_git_is_versioned_by_its_files(tmp_path: Path, cache: Path) -> None:
    """An exported source tree (no .git) cannot show its commit: its version is a fingerprint
    of its files, so the library compiled from it is rebuilt when a file changes."""
    pin = _pin(tmp_path)
    tree = tmp_path / "offline" / "lib"
    (tree / "include").mkdir(parents=True)
    (tree / "include" / "lib.h").write_text("int x;\n")
    first = resolve((pin,), tmp_path / "offline")["lib"]
    assert first.commit is None and first.version.startswith("tree-")
    assert resolve((pin,), tmp_path / "offline")["lib"].version == first.version
    (tree / "include" / "lib.h").write_text("int x, y;\n")
    assert resolve((pin,), tmp_path / "offline")["lib"].version != first.version
    git = resolve((pin,))["lib"]
    assert git.version == pin.commit and git.fingerprint is None


def test_parallel_fetches_of_one_pin_take_turns(tmp_path: Path, cache: Path) -> None:
    """Sweep cells resolve in parallel on an empty cache: every one gets the checkout."""
    from concurrent.futures import ThreadPoolExecutor

    pin = _pin(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: resolve((pin,))["lib"].commit, range(4)))
    assert found == [pin.commit] * 4
    assert sorted(p.name for p in (cache / "deps").iterdir()) == [cached_path(pin).name]
