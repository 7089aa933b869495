"""Every error tinygen raises names the fix: a static check of every raise site in tinygen/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tinygen.errors import InputError, TinygenError

PACKAGE = Path(__file__).resolve().parents[1] / "tinygen"


def _trees() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def _error_classes(trees: dict[Path, ast.Module]) -> tuple[set[str], set[str]]:
    """(every TinygenError class, those with their own __init__), by name across the package."""
    bases: dict[str, set[str]] = {}
    own_init: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {b.id if isinstance(b, ast.Name) else
                                    b.attr if isinstance(b, ast.Attribute) else "" for b in
                                    node.bases}
                if any(isinstance(s, ast.FunctionDef) and s.name == "__init__" for s in node.body):
                    own_init.add(node.name)
    errors = {"TinygenError"}
    while True:
        more = {name for name, b in bases.items() if b & errors} - errors
        if not more:
            return errors, own_init & errors - {"TinygenError"}
        errors |= more


def _hint(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "hint":
            return keyword.value
    return call.args[1] if len(call.args) >= 2 else None


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else None)


def test_every_error_raised_has_a_hint() -> None:
    trees = _trees()
    errors, own_init = _error_classes(trees)
    assert {"InputError", "DeviceError", "UsageError"} <= errors
    missing = []
    for path, tree in trees.items():
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in own_init:
                # a subclass with its own constructor passes the hint up itself
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and _name(call) == "__init__" and (
                            _hint(call) is None):
                        missing.append(f"{where}:{call.lineno}: {node.name} super().__init__")
            if not isinstance(node, ast.Call) or _name(node) not in errors - own_init:
                continue
            hint = _hint(node)
            if hint is None or (isinstance(hint, ast.Constant) and not hint.value):
                missing.append(f"{where}:{node.lineno}: {_name(node)} without a hint")
    assert not missing, "errors without a hint:\n" + "\n".join(missing)


def test_the_hint_is_required() -> None:
    with pytest.raises(TypeError):
        InputError("a message only")  # type: ignore[call-arg]
    err = InputError("the problem", hint="the fix")
    assert (err.message, err.hint, str(err)) == ("the problem", "the fix", "the problem")
    assert isinstance(err, TinygenError)
