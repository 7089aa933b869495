"""Which kind of float model a path holds (Keras file, SavedModel, .tflite), read without TF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinygen.benchmarks import BENCHMARKS, match_signature
from tinygen.errors import ModelError
from tinygen.model import ModelInfo, load_model

KERAS = "keras"
SAVED_MODEL = "savedmodel"

_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_AUX = ("int32", "int64", "bool", "string")
_USAGE = "tinygen quantize MODEL.keras|SAVED_MODEL_DIR --calibration DATA --out OUT.tflite"
_GIVE_SOURCE = (
    "give tinygen quantize the model the .tflite was converted from: a Keras file "
    "(model.save('model.keras')) or a SavedModel folder (model.export('DIR') or "
    "tf.saved_model.save)"
)


@dataclass(frozen=True)
class SourceModel:
    """A float model TensorFlow's converter can start from: ``kind`` is 'keras' or 'savedmodel'."""

    path: Path
    kind: str

    @property
    def description(self) -> str:
        return "Keras model" if self.kind == KERAS else "SavedModel"


def find_source(path: Path) -> SourceModel:
    """Check that ``path`` is a Keras file or a SavedModel folder; explain anything else."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path} does not exist",
                         hint=f"pass a Keras file or a SavedModel folder: {_USAGE}")
    if path.is_dir():
        if (path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file():
            return SourceModel(path, SAVED_MODEL)
        raise ModelError(f"{path} is a folder but not a SavedModel (it has no saved_model.pb)",
                         hint="pass the folder that model.export() or tf.saved_model.save() "
                              "wrote, or a .keras file")
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read: {exc.strerror}",
                         hint="check the path and its permissions") from exc
    if head[4:8] == b"TFL3" or path.suffix.lower() == ".tflite":
        raise _tflite_error(path)
    suffix = path.suffix.lower()
    if suffix == ".keras" and not head.startswith(_ZIP_MAGIC):
        raise ModelError(f"{path}: not a Keras model file (a .keras file is a zip archive)",
                         hint="save the model again with model.save('model.keras')")
    if suffix in (".h5", ".hdf5") and not head.startswith(_HDF5_MAGIC):
        raise ModelError(f"{path}: not an HDF5 file (legacy Keras .h5 models are HDF5)",
                         hint="save the model again with model.save('model.keras')")
    if suffix in _KERAS_SUFFIXES:
        return SourceModel(path, KERAS)
    if suffix == ".pb":
        raise ModelError(f"{path}: a frozen GraphDef (.pb) cannot be quantized by tinygen",
                         hint="pass the SavedModel folder that holds saved_model.pb, or a "
                              ".keras file")
    raise ModelError(f"{path}: unknown model format (expected .keras, .h5 or a SavedModel "
                     "folder)", hint=_USAGE)


def _tflite_error(path: Path) -> ModelError:
    """Why a .tflite cannot be the input, shaped by what the file holds."""
    info = load_model(path)  # raises its own ModelError if the file is corrupt
    verdict = info.quantization
    if verdict == "int8":
        return ModelError(f"{path} is already an int8 model; there is nothing to quantize",
                          hint=f"build it as it is: tinygen build --board BOARD --model {path}")
    if verdict == "int8-float-io":
        return ModelError(
            f"{path} is already quantized (int8 compute with float32 input and output)",
            hint="build it as it is, or, for int8 input and output, quantize the model it was "
                 "converted from (Keras file or SavedModel) with tinygen quantize")
    what = {"float": "a float .tflite",
            "dynamic-range": "a dynamic-range quantized .tflite (int8 weights, float "
                             "computation, which TFLM does not run)"}.get(
        _kind(info), "a partly quantized .tflite (it mixes float and integer computation)")
    hint = _GIVE_SOURCE
    benchmark = _float_benchmark(info)
    if benchmark is not None:
        hint += (f"; its I/O shapes are those of MLPerf Tiny {benchmark}, whose int8 reference "
                 f"model ({BENCHMARKS[benchmark].reference_model}) tinygen builds as it is")
    return ModelError(
        f"{path} is {what}: TensorFlow's converter quantizes the model a .tflite was made "
        "from, and cannot quantize a .tflite again", hint=hint)


def _kind(info: ModelInfo) -> str:
    """'float', 'dynamic-range' (int8 constant weights, float activations) or 'mixed'."""
    if info.quantization == "float":
        return "float"
    weights = {t.dtype for t in info.tensors if t.is_constant and t.dtype not in _AUX}
    activations = {t.dtype for t in info.tensors if not t.is_constant and t.dtype not in _AUX}
    if "int8" in weights and activations == {"float32"}:
        return "dynamic-range"
    return "mixed"


def _float_benchmark(info: ModelInfo) -> str | None:
    """The MLPerf Tiny benchmark whose I/O shapes (any dtype) the model has, if any."""
    if len(info.inputs) != 1 or len(info.outputs) != 1:
        return None
    return match_signature(info.inputs[0].shape, info.outputs[0].shape)
