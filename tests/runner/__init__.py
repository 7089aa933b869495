"""Tests of the MLPerf Tiny host runner (tinygen/runner, tinygen/runner/transport.py)."""
