"""Find the data tinygen ships (boards, templates, SConstruct, manifest), checkout or wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_root() -> Path:
    """Folder holding boards/, templates/, third_party/ and SConstruct.

    A wheel carries them under ``tinygen/_data``; a source checkout (or an editable install)
    has them at the repository's top level.
    """
    bundled = _PACKAGE_DIR / "_data"
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent


def boards_dir() -> Path:
    return data_root() / "boards"


def templates_dir() -> Path:
    return data_root() / "templates"


def third_party_dir() -> Path:
    return data_root() / "third_party"


def sconstruct_path() -> Path:
    return data_root() / "SConstruct"
