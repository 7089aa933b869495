"""Wall time of one sweep with --jobs 1 and with --jobs 2: what the local process pool saves.

Both runs start from the same warm cache (a temporary $TINYGEN_CACHE, filled by a first,
untimed run), so they time the same work: the native builds of every cell (the probes come
from the cache) and the verify step on the emulated boards. One run each; prints the ratio.

    python bench/sweep_jobs.py [--sweep docs/sweep-example.yaml] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _sweep(sweep: Path, out: Path, jobs: int) -> tuple[float, int]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tinygen", "sweep", str(sweep), "--out",
                           str(out), "--jobs", str(jobs), "--json"],
                          capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"tinygen sweep failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)["cells"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=Path, default=REPO / "docs" / "sweep-example.yaml")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinygen-bench-") as tmp:
        os.environ["TINYGEN_CACHE"] = str(Path(tmp) / "cache")
        _sweep(args.sweep, Path(tmp) / "warm", args.jobs)  # fills the probe cache
        one, cells = _sweep(args.sweep, Path(tmp) / "jobs1", 1)
        many, _ = _sweep(args.sweep, Path(tmp) / f"jobs{args.jobs}", args.jobs)
    print(f"sweep       {args.sweep.name}: {cells} cells, {os.cpu_count()} cores")
    print(f"--jobs 1    {one:7.1f} s")
    print(f"--jobs {args.jobs:<4d} {many:7.1f} s")
    print(f"ratio       {one / many:.2f}x faster with --jobs {args.jobs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
