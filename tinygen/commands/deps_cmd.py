"""``tinygen deps``: fetch the pinned C/C++ dependencies into the cache and show what is there."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygen.deps import cache_root, load_manifest, resolve
from tinygen.tables import emit_json, format_table, progress


def register(sub: Any) -> None:
    p = sub.add_parser("deps", help="fetch TFLM, CMSIS-NN, ... at their pinned commits")
    p.add_argument("--deps-dir", type=Path,
                   help="use existing checkouts in this folder (or set TINYGEN_DEPS_DIR)")
    p.add_argument("--offline", action="store_true", help="only check, never fetch")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(_command_module=sys.modules[__name__])


def run(args: argparse.Namespace) -> int:
    found = resolve(load_manifest(), args.deps_dir, fetch=not args.offline, on_progress=progress)
    rows = [
        {"name": c.pin.name, "url": c.pin.url, "pinned": c.pin.commit,
         "commit": c.commit, "path": str(c.path), "source": c.source}
        for c in found.values()
    ]
    if args.json:
        emit_json({"cache": str(cache_root()), "dependencies": rows})
        return 0
    print(format_table(
        ("dependency", "commit", "from", "path"),
        [(r["name"], str(r["pinned"])[:12], r["source"], r["path"]) for r in rows],
    ))
    return 0
