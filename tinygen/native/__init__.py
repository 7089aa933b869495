"""The native runtime: interpreter-free C for a model's graph, bit-exact with TFLM."""
