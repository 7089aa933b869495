"""Tests of tinygen's MLPerf Tiny harness (templates/harness), compiled for the host and Arm."""
