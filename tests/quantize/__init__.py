"""Tests of ``tinygen quantize`` (tinygen/quantize, tinygen/commands/quantize_cmd.py)."""
