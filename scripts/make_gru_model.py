"""Make the GRU keyword model in tests/data/sequence/gru_kws.tflite (needs TensorFlow).

A Keras 3 GRU layer, unrolled as Keras exports it for microcontrollers (no WHILE loop): the
TFLite converter turns it into TRANSPOSE, UNPACK, SPLIT, FILL, FULLY_CONNECTED, LOGISTIC,
TANH, MUL, ADD and SUB, the operators of the GRU models users export. Full-integer int8, seeded
weights and calibration, so the file is reproducible (``--check``).

    python3 scripts/make_gru_model.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from model_files import import_tensorflow, quantize_int8, write_or_check

tf = import_tensorflow()

TARGET = Path(__file__).resolve().parents[1] / "tests" / "data" / "sequence" / "gru_kws.tflite"
SEED = 20261204
STEPS, FEATURES, UNITS, CLASSES = 12, 10, 16, 4


def convert() -> bytes:
    import keras

    keras.utils.set_random_seed(SEED)
    model = keras.Sequential([
        keras.Input((STEPS, FEATURES), batch_size=1),
        keras.layers.GRU(UNITS, unroll=True,
                         kernel_initializer=keras.initializers.GlorotUniform(seed=SEED),
                         recurrent_initializer=keras.initializers.Orthogonal(seed=SEED + 1),
                         bias_initializer=keras.initializers.RandomNormal(0.0, 0.1, SEED + 2)),
        keras.layers.Dense(CLASSES, activation="softmax",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=SEED + 3)),
    ])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return quantize_int8(converter, (1, STEPS, FEATURES), 32, np.random.default_rng(SEED + 4))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the file differs from what would be made")
    args = parser.parse_args(argv)
    return int(write_or_check(TARGET, convert(), args.check))


if __name__ == "__main__":
    sys.exit(main())
