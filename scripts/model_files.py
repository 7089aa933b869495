"""Writing or checking a generated model file, shared by the model-making scripts."""

from __future__ import annotations

import hashlib
from pathlib import Path


def write_or_check(target: Path, data: bytes, check: bool) -> bool:
    """Write ``data`` to ``target`` (or, with ``check``, compare); True if the file differs."""
    digest = hashlib.sha256(data).hexdigest()
    if check:
        same = target.is_file() and target.read_bytes() == data
        print(f"{'same' if same else 'DIFFERS'}  {digest}  {target.name}")
        return not same
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    print(f"{len(data):7d} B  {digest}  {target.name}")
    return False
