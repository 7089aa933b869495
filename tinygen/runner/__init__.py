"""The MLPerf Tiny host runner: the serial protocol, datasets, the three modes and their results."""
