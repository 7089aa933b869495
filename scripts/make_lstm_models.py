"""Make the LSTM variants in tests/data/lstm/ for the native runtime's LSTM tests (needs
TensorFlow and tf_keras): Keras LSTM layers converted exactly as scripts/make_sequence_models.py
converts its lstm_* models (one fused full-integer UNIDIRECTIONAL_SEQUENCE_LSTM each, int8 I/O),
in the shapes those two do not cover: the whole sequence as the model's output, a batch of two
sequences (a state per batch), two units over a longer sequence. (A sigmoid cell activation
crashes the converter of TensorFlow 2.21 with a segmentation fault: TANH is the one tested.)

    python3 scripts/make_lstm_models.py [--check] [--only NAME ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import flatbuffers
from make_sequence_models import SEED, KerasModel, _tf_keras, convert_keras
from model_files import maker_arguments, name_seed, write_or_check
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("tests/data/lstm")

MODELS: tuple[KerasModel, ...] = (
    # return_sequences=True as the model's output: every step's hidden state is compared.
    KerasModel("lstm_sequence_out", (1, 8, 5), lambda k: [
        k.layers.LSTM(12, return_sequences=True)]),
    # Two sequences in one batch: each keeps its own hidden and cell state.
    KerasModel("lstm_batch2", (2, 10, 4), lambda k: [
        k.layers.LSTM(10), k.layers.Dense(3)]),
    # Two units (two-row weights) over a longer sequence.
    KerasModel("lstm_two_units", (1, 24, 3), lambda k: [
        k.layers.LSTM(2, return_sequences=True)]),
)


def drop_orphan_buffers(data: bytes) -> bytes:
    """The model with empty buffers where no tensor or metadata refers to one: the converter
    leaves the variable states' initial values there, uninitialized memory that differs from
    run to run (and that TFLM never reads)."""
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    used = {0} | {m.buffer for m in model.metadata or []}
    for sg in model.subgraphs:
        used |= {t.buffer for t in sg.tensors}
    for i, buffer in enumerate(model.buffers):
        if i not in used:
            buffer.data = None
    builder = flatbuffers.Builder(len(data))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def main(argv: list[str] | None = None) -> int:
    parser = maker_arguments(__doc__ or "", ROOT)
    args = parser.parse_args(argv)
    differ = 0
    for spec in MODELS:
        if args.only and spec.name not in args.only:
            continue
        # Layer names (kept in the file) count up within a session: a fresh one per model
        # makes each file the same whether it is made alone (--only) or with the others.
        _tf_keras().backend.clear_session()
        data = drop_orphan_buffers(convert_keras(spec, name_seed(SEED, spec.name)))
        differ += write_or_check(args.out / OUT / f"{spec.name}.tflite", data, args.check)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
