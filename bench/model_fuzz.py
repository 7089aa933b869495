"""The model fuzzer at scale: seeded mutants of the bundled models through tinygen.

Every mutant (tests/model/mutants.py: shapes, types, buffers, quantization, builtin options
and tensor indices of models/*.tflite changed through the flatbuffer object API) goes through
``tinygen inspect`` and native code generation; the first ``--verify`` accepted ones are also
built and run in QEMU by ``tinygen verify --runtime native`` (bit-exact with the host TFLM
interpreter). Prints the counts: mutants tried, refused (exit 3), accepted, verified, crashes
(tracebacks, other exit codes, RuntimeWarnings, differing outputs: must be 0), and each crash.

    python bench/model_fuzz.py [--count 2000] [--first-seed 0] [--verify 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.model.mutants import classify, mutants, verify_native
from tinygen.tables import format_table


def _kind(error: str) -> str:
    """An error line without its file, numbers and names: what kind of refusal it is."""
    text = error.removeprefix("error: ").split(": ", 1)[-1]
    text = re.sub(r" \([^()]*\)", "", text)
    return re.sub(r"(?<![A-Za-z_0-9])-?[0-9][0-9.e+,x-]*", "N", text)[:90]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--verify", type=int, default=10,
                        help="accepted mutants to build and verify in QEMU (-1: all)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    crashes: list[tuple[str, str]] = []
    refusals: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="tinygen-fuzz-") as tmp:
        for mutant in mutants(args.first_seed, args.count):
            folder = Path(tmp) / str(mutant.seed)
            outcome = classify(mutant, folder)
            counts["tried"] += 1
            counts[outcome.verdict] += 1
            if outcome.verdict == "refused":
                refusals[_kind(outcome.detail)] += 1
            elif outcome.verdict == "crash":
                crashes.append((mutant.label, outcome.detail))
            elif args.verify < 0 or counts["verify tried"] < args.verify:
                counts["verify tried"] += 1
                checked = verify_native(mutant, folder)
                counts[f"verify {checked.verdict}"] += 1
                if checked.verdict == "crash":
                    crashes.append((mutant.label, checked.detail))
                print(f"{mutant.label}: {checked.verdict}", file=sys.stderr)
    rows = [(k, counts[k]) for k in ("tried", "refused", "accepted", "crash", "verify tried",
                                      "verify verified", "verify refused", "verify crash")]
    print(format_table(("mutants", "count"), rows, align_right=(1,)))
    print()
    print(format_table(("refused as", "count"), refusals.most_common(), align_right=(1,)))
    for label, detail in crashes:
        print(f"\nCRASH {label}\n  {detail}")
    if args.json:
        args.json.write_text(json.dumps({"counts": dict(counts), "refusals": dict(refusals),
                                         "crashes": crashes}, indent=2) + "\n")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
