"""The TFLM runtime: the operators TFLM runs (ops.py), its static library variants
(library.py), the firmware project that runs a model on its interpreter (render.py) and the
runtime's build-time work (runtime.py)."""
