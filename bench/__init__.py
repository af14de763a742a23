"""Benchmarks: `make bench` (python -m bench) runs each area's benchmark and prints one table per area."""
