"""Benchmarks: measured, not tested. Each module runs with `python -m bench.<name>`."""
