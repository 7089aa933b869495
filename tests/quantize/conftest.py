"""Fixtures: TensorFlow (or a skip), small seeded Keras models and sample folders for them.

The classifier is built so that its answer is clear: each sample is one of four random +-1
patterns plus noise, and the model is a matched filter (a 1x1 CONV_2D splitting x into relu(x)
and relu(-x), a FULLY_CONNECTED holding the patterns, SOFTMAX), so the float model is right on
every sample and the int8 model should agree with it almost always.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygen.errors import ToolMissingError
from tinygen.quantize.convert import import_tensorflow

REPO = Path(__file__).resolve().parents[2]
MLPERF = REPO / ".." / "shared" / "mlperf-tiny"
SHAPE = (8, 8, 1)
CLASSES = 4
SEED = 20240601


@pytest.fixture(scope="session")
def tf() -> Any:
    """TensorFlow, or a skip naming the extra to install."""
    try:
        return import_tensorflow()
    except ToolMissingError as exc:
        pytest.skip(f"{exc.message}; pip install 'tinygen[quantize]' runs this test")


def patterns() -> np.ndarray[Any, np.dtype[np.float32]]:
    rng = np.random.default_rng(SEED)
    return rng.choice([-1.0, 1.0], size=(CLASSES, *SHAPE)).astype(np.float32)


def make_samples(count: int, seed: int) -> tuple[np.ndarray[Any, Any], list[int]]:
    """``count`` float32 samples of SHAPE and their classes."""
    rng = np.random.default_rng(seed)
    labels = [int(v) for v in rng.integers(0, CLASSES, count)]
    noise = rng.normal(0.0, 0.4, (count, *SHAPE))
    x = (patterns()[labels] + noise).astype(np.float32)
    return x, labels


def write_npy_folder(folder: Path, count: int = 40, seed: int = 1) -> list[int]:
    folder.mkdir(parents=True, exist_ok=True)
    x, labels = make_samples(count, seed)
    for i, sample in enumerate(x):
        np.save(folder / f"s{i:03d}.npy", sample)
    return labels


def write_mlperf_folder(folder: Path, scale: float, zero_point: int, count: int = 40,
                        seed: int = 2) -> tuple[list[Path], list[int]]:
    """Samples quantized to int8 .bin files with ``scale``/``zero_point`` and y_labels.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    x, labels = make_samples(count, seed)
    files = []
    with (folder / "y_labels.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        for i, (sample, label) in enumerate(zip(x, labels, strict=True)):
            q = np.clip(np.round(sample / scale) + zero_point, -128, 127).astype(np.int8)
            path = folder / f"tst_{i:06d}_{label}.bin"
            path.write_bytes(q.tobytes())
            files.append(path)
            writer.writerow([path.name, CLASSES, label])
    return files, labels


def build_classifier(tf: Any) -> Any:
    keras = tf.keras
    p = patterns().reshape(CLASSES, -1)
    inputs = keras.Input(SHAPE)
    split = keras.layers.Conv2D(2, 1, activation="relu", name="split")
    x = split(inputs)
    split.set_weights([np.array([1.0, -1.0], np.float32).reshape(1, 1, 1, 2),
                       np.zeros(2, np.float32)])
    x = keras.layers.Flatten()(x)
    dense = keras.layers.Dense(CLASSES, name="match")
    x = dense(x)
    # Flatten orders (h, w, channel): channel 0 is relu(x), channel 1 is relu(-x).
    kernel = np.stack([p.T, -p.T], axis=1).reshape(-1, CLASSES) * 0.05
    dense.set_weights([kernel.astype(np.float32), np.zeros(CLASSES, np.float32)])
    outputs = keras.layers.Softmax()(x)
    return keras.Model(inputs, outputs)


def build_regressor(tf: Any) -> Any:
    """A small dense autoencoder [1,16] -> [1,16] with seeded weights (no softmax)."""
    keras = tf.keras
    keras.utils.set_random_seed(SEED)
    inputs = keras.Input((16,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(16)(x)
    return keras.Model(inputs, outputs)


def build_with(tf: Any, fn: Callable[[Any], Any]) -> Any:
    """[1,8] -> Dense -> Lambda(fn) -> Dense: for operators the int8 converter cannot take."""
    keras = tf.keras
    keras.utils.set_random_seed(SEED)
    inputs = keras.Input((8,))
    x = keras.layers.Dense(8)(inputs)
    x = keras.layers.Lambda(fn)(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def save_keras(model: Any, path: Path) -> Path:
    """``model.save(path)``, quiet: Keras 3.15 saving warns about numpy 2's copy keyword."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(path)
    return path


@pytest.fixture(scope="session")
def classifier_keras(tf: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "classifier.keras"
    return save_keras(build_classifier(tf), path)


@pytest.fixture(scope="session")
def classifier_saved_model(tf: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "classifier_sm"
    from tinygen.quantize.convert import tensorflow_output

    with tensorflow_output():  # export prints its signature on stdout
        build_classifier(tf).export(str(path))
    return path


@pytest.fixture(scope="session")
def regressor_keras(tf: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "regressor.keras"
    return save_keras(build_regressor(tf), path)


@pytest.fixture(scope="session")
def npy_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    folder = tmp_path_factory.mktemp("data") / "npy"
    return folder, write_npy_folder(folder)
