#!/usr/bin/env bash
# The main job on a default that works anywhere: the bundled keyword-spotting model on the
# emulated Cortex-M4F board mps2_an386 (QEMU). Sets up, fetches TFLM at its pinned commits,
# builds and audits the firmware, checks it bit for bit against the host TFLM interpreter, and
# runs the MLPerf Tiny performance benchmark on it in QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BOARD=${BOARD:-mps2_an386}
MODEL=${MODEL:-models/kws_tiny.tflite}
OUT=build/${BOARD}-$(basename "${MODEL%.tflite}")
echo "== tinygen deps"
tinygen deps
echo "== tinygen build --board $BOARD --model $MODEL"
tinygen build --board "$BOARD" --model "$MODEL" --out "$OUT"
echo "== tinygen verify (QEMU vs host TFLM interpreter)"
tinygen verify --board "$BOARD" --model "$MODEL" --out "$OUT" --random 5
if tinygen bench --help >/dev/null 2>&1; then
  echo "== tinygen bench --mode performance"
  tinygen bench --board "$BOARD" --elf "$OUT/firmware.elf" --mode performance
fi
