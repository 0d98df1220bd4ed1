"""Benchmarks: each module prints one JSON object of figures (run with python -m bench.NAME)."""
