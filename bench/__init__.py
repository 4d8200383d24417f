"""Benchmarks: each bench_<name>.py measures cronbridge against a peer in the same run."""
